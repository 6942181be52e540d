//! Performance behaviour (issue #7) that can be asserted without timing anything;
//! the numbers come from `cargo bench --bench scale` (docs/performance.md).
//! - the critical-path computation over a call trace;
//! - `sra plan` makes the same calls in a large organization as in a small one,
//!   except one more page per paginated membership listing, and stays under
//!   Security Hub's published rate limits (the proxy enforces them) with no
//!   latency to slow it down;
//! - with the lock file `sra apply` writes, the plan's accounts are found without
//!   listing the organization; a stale lock file changes nothing but the calls.

use crate::{common, proxy, trace};
use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{Emulator, MINIMAL, sra_at};
use crate::proxy::{Call, Faults, Proxy};

fn call(op: &str, start: u64, end: u64, sent: &[&str], received: &[&str]) -> Call {
    Call {
        service: "svc".into(),
        operation: op.into(),
        fault: None,
        region: "r".into(),
        access_key: "k".into(),
        start: Duration::from_millis(start),
        end: Duration::from_millis(end),
        sent: sent.iter().map(|s| s.to_string()).collect(),
        received: received.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn the_critical_path_follows_what_each_request_learned() {
    let calls = vec![
        // A paginated listing: each page carries the token of the one before.
        call("List", 0, 50, &[], &["tokenAAAA1"]),
        call("List", 60, 110, &["tokenAAAA1"], &["tokenBBBB2"]),
        call("List", 120, 170, &["tokenBBBB2"], &[]),
        // Side by side with it, two independent calls and one that needs the first.
        call("Describe", 0, 50, &[], &["detector123"]),
        call("Get", 55, 105, &["detector123"], &[]),
        call("Other", 5, 55, &[], &[]),
    ];
    let path = trace::critical_path(&calls, &[]);
    assert_eq!(path.chain, vec![0, 1, 2]);
    assert_eq!(path.bound, Duration::from_millis(150));
}

#[test]
fn a_token_the_client_already_knew_is_no_dependency() {
    // The id was in a request before any answer carried it (from the lock file, say).
    let calls = vec![
        call("DescribeAccount", 0, 50, &["111122223333"], &["111122223333"]),
        call("ListAccounts", 0, 90, &[], &["111122223333"]),
        call("AssumeRole", 10, 60, &["111122223333"], &["ASIAKEY00001"]),
        call("ListDetectors", 70, 120, &["ASIAKEY00001"], &[]),
    ];
    let path = trace::critical_path(&calls, &[]);
    assert_eq!(path.chain, vec![2, 3]);
    assert_eq!(path.bound, Duration::from_millis(100));
    // Regions are known to every client.
    let regional = vec![call("A", 0, 50, &[], &["us-east-1"]), call("B", 60, 110, &["us-east-1"], &[])];
    assert_eq!(trace::critical_path(&regional, &["us-east-1"]).chain.len(), 1);
}

#[test]
fn the_cheapest_way_to_learn_a_token_counts() {
    // The account id came in a page deep in a long listing and in a quick lookup:
    // the call after it needed only the quicker.
    let calls = vec![
        call("List", 0, 50, &[], &["tokenAAAA1"]),
        call("List", 50, 100, &["tokenAAAA1"], &["777788889999"]),
        call("Describe", 0, 40, &[], &["777788889999"]),
        call("Use", 110, 150, &["777788889999"], &[]),
    ];
    let path = trace::critical_path(&calls, &[]);
    assert_eq!(path.bound, Duration::from_millis(100), "{path:?}");
}

#[test]
fn busy_time_is_the_union_of_the_calls_spans() {
    let calls = vec![call("A", 0, 50, &[], &[]), call("B", 40, 90, &[], &[]), call("C", 200, 250, &[], &[])];
    assert_eq!(trace::busy(&calls), Duration::from_millis(140));
    assert_eq!(trace::busy(&[]), Duration::ZERO);
}

#[test]
fn proxy_tokens_are_id_like() {
    let t = proxy::tokens("/detector/4ab9cd0e12ef/member?nextToken=c3JhOjUw%3D%3D {\"Name\":\"organization\"}");
    assert!(t.contains(&"4ab9cd0e12ef".to_string()), "{t:?}");
    assert!(t.contains(&"c3JhOjUw==".to_string()), "{t:?}");
    assert!(!t.iter().any(|x| x == "organization" || x == "detector"), "{t:?}");
}

fn upstream(emu: &Emulator) -> String {
    emu.url().trim_start_matches("http://").to_string()
}

fn seed(emu: &Emulator, lock: &str, members: usize) {
    seed_with(emu, lock, members, &["us-east-1"], true)
}

/// `baselines`: false for accounts that joined after the last apply.
fn seed_with(emu: &Emulator, lock: &str, members: usize, regions: &[&str], baselines: bool) {
    let id = |key: &str| {
        lock.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .map(|v| v.trim_end_matches('"').to_string())
            .unwrap_or_else(|| panic!("the lock file names {key}:\n{lock}"))
    };
    let management = common::Emulator::boto3(
        emu,
        "print(boto3.client('organizations', endpoint_url=URL, region_name='us-east-1', aws_access_key_id='test', \
         aws_secret_access_key='test').describe_organization()['Organization']['MasterAccountId'])",
    );
    let body = serde_json::json!({
        "management": management.trim(),
        "admin": id("security_tooling"),
        "accounts": members,
        "regions": regions,
        "baselines": baselines,
    });
    let (status, answer) = common::http(emu.port, "POST", "/sra-emulator/seed", &body.to_string()).unwrap();
    assert_eq!(status, 200, "{answer}");
}

/// Plan through a fresh proxy with Security Hub's published limits; its calls by
/// operation and how many were throttled.
fn plan_counts(emu: &Emulator, plan: &std::path::Path) -> (BTreeMap<String, usize>, usize, common::Run) {
    let proxy = Proxy::start(&upstream(emu), Faults { limits: proxy::published_limits(), ..Default::default() });
    let run = common::Run::from(
        sra_at(&proxy.url(), &["plan", "--detailed-exitcode", plan.to_str().unwrap()]).output().unwrap(),
    );
    let failed = proxy.calls().iter().filter(|c| c.fault == Some("emulator_failed")).count();
    if failed > 0 {
        eprintln!("the emulator failed to answer {failed} calls (retried by the SDK; not counted)");
    }
    (proxy.answered_counts(), proxy.rate_limited(), run)
}

/// Pages of a listing of `n` items at `per_page`.
fn pages(n: usize, per_page: usize) -> usize {
    n.div_ceil(per_page).max(1)
}

#[test]
fn plan_calls_grow_only_by_listing_pages_and_stay_under_security_hubs_rate_limits() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL);
    emu.run(&["apply", "--auto-approve", plan.to_str().unwrap()]).expect_code(0);
    let lock = std::fs::read_to_string(plan.with_extension("lock")).expect("apply records the account ids");

    let (small, throttled, run) = plan_counts(&emu, &plan);
    run.expect_code(0);
    assert_eq!(throttled, 0);

    // 1,000 more accounts, members of every service: Security Hub's 20 pages of
    // members at no latency would be far above 10 calls a second unpaced.
    let added = 1000;
    seed(&emu, &lock, added);
    let (large, throttled, run) = plan_counts(&emu, &plan);
    run.expect_code(0);
    assert_eq!(throttled, 0, "sra went above Security Hub's published rates: {large:#?}");

    // Members: every account but the management account and Security Tooling.
    let (before, after) = (3, 3 + added);
    let listings: BTreeMap<&str, usize> = [
        ("organizations:ListAccounts", 20),
        ("guardduty:GET /detector/member", 50),
        ("securityhub:GET /members", 50),
        ("inspector2:POST /members/list", 50),
        // Scan status, 100 accounts a call (the members and Security Tooling).
        ("inspector2:POST /status/batch/get", 100),
        ("macie2:GET /members", 25),
        ("detective:POST /graph/members/list", 200),
    ]
    .into();
    // Account baselines: one describe per setting (and region) in every account,
    // through its role (one AssumeRole each; the management account reads its own).
    let per_account: BTreeMap<&str, usize> = [
        ("sts:AssumeRole", 1),
        ("ec2:GetEbsEncryptionByDefault", 1),
        ("iam:GetAccountPasswordPolicy", 1),
        ("s3:GET /configuration/publicAccessBlock", 1),
        // The Config recorder, its status and its delivery channel (one region).
        ("config:DescribeConfigurationRecorders", 1),
        ("config:DescribeConfigurationRecorderStatus", 1),
        ("config:DescribeDeliveryChannels", 1),
    ]
    .into();
    let mut wrong = Vec::new();
    for (op, n) in &large {
        let was = small.get(op).copied().unwrap_or(0);
        let want = match (listings.get(op.as_str()), per_account.get(op.as_str())) {
            (Some(&per_page), _) => {
                let members = |total: usize| if op.starts_with("organizations") { total } else { total - 2 };
                (pages(members(before), per_page), pages(members(after), per_page))
            }
            (None, Some(&calls)) => (was, was + added * calls),
            (None, None) => (was, was),
        };
        if (was, *n) != want {
            wrong.push(format!("{op}: {was} -> {n}, expected {} -> {}", want.0, want.1));
        }
    }
    assert!(wrong.is_empty(), "calls that grew otherwise than by pages and per account:\n{}", wrong.join("\n"));
    for op in listings.keys().chain(per_account.keys()) {
        assert!(large.contains_key(*op), "no {op} call: the test no longer sees what it counts\n{large:#?}");
    }
}

#[test]
fn the_lock_file_spares_listing_the_organization() {
    // A plan whose services need no membership check, without account baselines
    // (applied as it is: the guardrails follow what the plan sets up): no account
    // listing at all.
    let emu = Emulator::start();
    let services_off = "\n[services.guardduty]\nenabled = false\n[services.securityhub]\nenabled = false\n[services.inspector]\nenabled = false\n[services.macie]\nenabled = false\n[services.detective]\nenabled = false\n[baselines]\nenabled = false\n";
    let plan = emu.plan_file(&format!("{MINIMAL}{services_off}"));
    emu.run(&["apply", "--auto-approve", plan.to_str().unwrap()]).expect_code(0);
    let lock_path = plan.with_extension("lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    assert!(lock.contains("security_tooling = \"") && lock.contains("log_archive = \""), "{lock}");

    let quiet = emu.dir.path().join("quiet.toml");
    std::fs::write(&quiet, format!("{MINIMAL}{services_off}")).unwrap();
    std::fs::write(quiet.with_extension("lock"), &lock).unwrap();
    let (with_lock, _, run) = plan_counts(&emu, &quiet);
    run.expect_code(0);
    let with_lock_out = run.stdout;
    assert_eq!(with_lock.get("organizations:ListAccounts"), None, "{with_lock:#?}");
    assert_eq!(with_lock.get("organizations:DescribeAccount"), Some(&2), "{with_lock:#?}");

    std::fs::remove_file(quiet.with_extension("lock")).unwrap();
    let (without, _, run) = plan_counts(&emu, &quiet);
    run.expect_code(0);
    assert_eq!(without.get("organizations:ListAccounts"), Some(&1), "{without:#?}");
    assert_eq!(run.stdout, with_lock_out, "the lock file changed the plan");

    // A stale lock file (the ids swapped) is noticed and changes nothing else.
    let st = lock.lines().find(|l| l.starts_with("security_tooling")).unwrap().split('"').nth(1).unwrap();
    let la = lock.lines().find(|l| l.starts_with("log_archive")).unwrap().split('"').nth(1).unwrap();
    let swapped = lock.replace(st, "ST").replace(la, st).replace("ST", la);
    std::fs::write(quiet.with_extension("lock"), swapped).unwrap();
    let (_, _, run) = plan_counts(&emu, &quiet);
    run.expect_code(0);
    assert_eq!(run.stdout, with_lock_out);
    assert!(run.stderr.contains("no longer match"), "{}", run.stderr);

    // An id of no account at all: the same.
    std::fs::write(quiet.with_extension("lock"), lock.replace(st, "999999999999")).unwrap();
    let (_, _, run) = plan_counts(&emu, &quiet);
    run.expect_code(0);
    assert_eq!(run.stdout, with_lock_out);
    assert!(run.stderr.contains("no longer match"), "{}", run.stderr);

    // Apply records the lock file; an unreadable one is ignored with a note.
    std::fs::write(&lock_path, "garbage = [").unwrap();
    let run = emu.run(&["plan", "--detailed-exitcode", plan.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stderr.contains("ignoring the lock file"), "{}", run.stderr);
    emu.run(&["apply", "--auto-approve", plan.to_str().unwrap()]).expect_code(0);
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), lock);

    // Without a lock file the listing stops once it has named the plan's accounts
    // (here on its first page), unless coverage needs every account: then the
    // same listing goes on beside the other reads, each page read once.
    let added = 100;
    seed(&emu, &lock, added);
    std::fs::remove_file(quiet.with_extension("lock")).unwrap();
    let (quiet_calls, _, run) = plan_counts(&emu, &quiet);
    run.expect_code(0);
    assert_eq!(run.stdout, with_lock_out);
    assert_eq!(quiet_calls.get("organizations:ListAccounts"), Some(&1), "{quiet_calls:#?}");
    // The full plan (services and baselines on), applied without a lock file.
    let full_plan = emu.dir.path().join("full.toml");
    std::fs::write(&full_plan, MINIMAL).unwrap();
    emu.run(&["apply", "--auto-approve", full_plan.to_str().unwrap()]).expect_code(0);
    std::fs::remove_file(full_plan.with_extension("lock")).unwrap();
    let (full, _, run) = plan_counts(&emu, &full_plan);
    run.expect_code(0);
    assert_eq!(full.get("organizations:ListAccounts"), Some(&pages(3 + added, 20)), "{full:#?}");
}

/// Each account's role is assumed once per read of the organization and once for
/// apply's writes, however many clients (services x regions) use the session.
#[test]
fn each_accounts_role_is_assumed_once_per_session_whatever_the_regions() {
    let emu = Emulator::start();
    let plan = emu.plan_file(&common::two_regions());
    emu.run(&["apply", "--auto-approve", plan.to_str().unwrap()]).expect_code(0);
    let lock = std::fs::read_to_string(plan.with_extension("lock")).expect("apply records the account ids");
    // Five accounts joined since: their baselines (two regions each) are to set.
    seed_with(&emu, &lock, 5, &["us-east-1", "us-west-2"], false);
    let proxy = Proxy::start(&upstream(&emu), Faults { limits: proxy::published_limits(), ..Default::default() });
    sra_at(&proxy.url(), &["apply", "--auto-approve", plan.to_str().unwrap()])
        .output()
        .map(common::Run::from)
        .unwrap()
        .expect_code(0);
    let assumed = proxy.answered_counts().get("sts:AssumeRole").copied().unwrap_or(0);
    // Read (Security Tooling, Log Archive and the five), write (the five), read again.
    assert_eq!(assumed, 7 + 5 + 7, "{:#?}", proxy.answered_counts());
    let (counts, _, run) = plan_counts(&emu, &plan);
    run.expect_code(0);
    assert_eq!(counts.get("sts:AssumeRole").copied(), Some(7), "{counts:#?}");
}
