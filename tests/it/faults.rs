//! Reliability under faults and crashes (issue #6), through the fault-injecting
//! proxy in `tests/common/proxy.rs`:
//! - a full apply from an empty organization converges in each of 20 seeded runs
//!   with 20% of calls failing transiently (throttling, 5xx, connections reset
//!   before or after the emulator saw the request), with exactly one account of
//!   each kind and one trail key;
//! - `sra apply` killed right after its k-th call reached AWS, for a k at every
//!   call type of a full apply (CreateAccount's lost response every time), and
//!   run again, converges with no duplicate account or trail key.
//!
//! Each run prints its seed, calls and faults: a failure replays with its seed.

use crate::common::{Emulator, MINIMAL, Run, accounts, sra_at};
use crate::proxy::{Faults, Proxy};

fn upstream(emu: &Emulator) -> String {
    emu.url().trim_start_matches("http://").to_string()
}

async fn assert_converged(emu: &Emulator, plan: &str, context: &str) {
    let run = emu.run(&["plan", plan, "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{context}: not converged\n{}\n{}", run.stdout, run.stderr);
    assert_nothing_doubled(emu, context).await;
}

/// What no re-read of the plan can show: one account per SRA email, one trail
/// key in Log Archive (CreateAccount and CreateKey are not idempotent).
async fn assert_nothing_doubled(emu: &Emulator, context: &str) {
    let all = accounts(&emu.orgs().await).await;
    for email in ["aws+security-tooling@example.com", "aws+log-archive@example.com"] {
        let n = all.iter().filter(|a| a.2 == email).count();
        assert_eq!(n, 1, "{context}: {n} accounts with {email}");
    }
    // CreateKey is not idempotent either: one trail key, none left over.
    let la = &all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0;
    let kms = aws_sdk_kms::Client::new(&emu.sdk_in(la).await);
    let keys = kms.list_keys().send().await.unwrap();
    assert_eq!(keys.keys().len(), 1, "{context}: keys in Log Archive {:?}", keys.keys());
}

async fn seeded_runs(seeds: std::ops::Range<u64>) {
    for seed in seeds {
        let emu = Emulator::start();
        let faults = Faults {
            seed,
            throttle: 0.05,
            server_error: 0.05,
            reset_before: 0.05,
            reset_after: 0.05,
            ..Default::default()
        };
        let proxy = Proxy::start(&upstream(&emu), faults);
        let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let run: Run = sra_at(&proxy.url(), &["apply", &plan, "--auto-approve"]).output().unwrap().into();
            assert!(!run.stderr.contains("panicked"), "seed {seed}: sra panicked\n{}", run.stderr);
            if run.code == 0 {
                break;
            }
            assert_eq!(run.code, 1, "seed {seed}");
            let error = run.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("(no error line)");
            eprintln!("seed {seed}: apply {attempts} failed: {error}");
            assert!(run.stderr.contains("hint:"), "seed {seed}: an error without a hint\n{}", run.stderr);
            assert!(attempts < 6, "seed {seed}: no convergence after {attempts} applies\n{}", run.stderr);
        }
        let calls = proxy.calls();
        let faulted = calls.iter().filter(|c| c.fault.is_some()).count();
        eprintln!("seed {seed}: converged after {attempts} apply run(s); {} calls, {faulted} faulted", calls.len());
        assert_converged(&emu, &plan, &format!("seed {seed}")).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn full_apply_converges_under_transient_faults_seeds_0_to_7() {
    seeded_runs(0..8).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn full_apply_converges_under_transient_faults_seeds_8_to_15() {
    seeded_runs(8..16).await;
}

/// The calls of a full apply from an empty organization, in order.
fn full_apply_calls() -> Vec<String> {
    let emu = Emulator::start();
    let proxy = Proxy::start(&upstream(&emu), Faults::default());
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    let run: Run = sra_at(&proxy.url(), &["apply", &plan, "--auto-approve"]).output().unwrap().into();
    run.expect_code(0);
    proxy.calls().into_iter().map(|c| format!("{}:{}", c.service, c.operation)).collect()
}

/// Whether a call only reads (its operation's name, or for REST APIs its method
/// and path, says so). AssumeRole and GetCallerIdentity change nothing either.
fn reads(call: &str) -> bool {
    let op = call.split_once(':').map_or(call, |(_, op)| op);
    let name = op.rsplit(' ').next().unwrap_or(op).to_ascii_lowercase();
    ["describe", "list", "get", "head", "batchget", "lookup", "search", "assumerole"]
        .iter()
        .any(|p| op.to_ascii_lowercase().starts_with(p))
        || op.starts_with("GET ")
        || op.starts_with("HEAD ")
        || name.ends_with("/list")
        || name.ends_with("/get")
        || name.ends_with("/batch/get")
}

/// The k (1-based) to kill at: the first call, the first call of every call
/// type that writes, and every CreateAccount (its response is lost when sra dies
/// right after sending it). A kill lands right after its call is forwarded, so
/// the live state it leaves is what the writes before it made: killing at a read
/// leaves the state that killing at the write before it leaves, and adds no case.
fn kill_points(calls: &[String]) -> Vec<(usize, String)> {
    let mut seen = std::collections::BTreeSet::new();
    calls
        .iter()
        .enumerate()
        .filter(|(i, c)| *i == 0 || c.ends_with(":CreateAccount") || (!reads(c) && seen.insert(c.to_string())))
        .map(|(i, c)| (i + 1, c.clone()))
        .collect()
}

async fn killed_then_rerun(shard: usize, shards: usize) {
    let calls = full_apply_calls();
    let points = kill_points(&calls);
    let types: std::collections::BTreeSet<&String> = calls.iter().collect();
    eprintln!("a full apply makes {} calls of {} types; {} kill points", calls.len(), types.len(), points.len());
    let mine: Vec<(usize, String)> = points.into_iter().skip(shard).step_by(shards).collect();
    let last = mine.last().map(|(k, _)| *k).unwrap_or(0);
    for (k, call) in mine {
        let emu = Emulator::start();
        let proxy = Proxy::start(&upstream(&emu), Faults::default());
        let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
        let mut child = sra_at(&proxy.url(), &["apply", &plan, "--auto-approve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        proxy.kill_at(k, child.id());
        let status = child.wait().unwrap();
        let context = format!("killed at call {k} ({call})");
        // Timing can shift a call or two; what matters is that it died mid-apply.
        assert!(!status.success() || proxy.calls().len() < k, "{context}: sra was not killed");
        let rerun = emu.run(&["apply", &plan, "--auto-approve"]);
        assert_eq!(rerun.code, 0, "{context}: rerun failed\n{}\n{}", rerun.stdout, rerun.stderr);
        // The rerun's exit 0 says its own re-read of live state found nothing to
        // change (the diff `sra plan` computes; `apply` fails otherwise, see
        // cli::execute): a separate plan per kill point would read everything
        // again for the same answer. The last kill point still runs one.
        assert!(rerun.stdout.to_lowercase().contains("live state matches the plan"), "{context}: {}", rerun.stdout);
        if k == last {
            assert_converged(&emu, &plan, &context).await;
        } else {
            assert_nothing_doubled(&emu, &context).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_write_type_then_rerun_converges_shard_0() {
    killed_then_rerun(0, 2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_write_type_then_rerun_converges_shard_1() {
    killed_then_rerun(1, 2).await;
}

/// CreateAccount's request lost on the way (every try): sra looks for a request
/// it may have made, and must never take an older account that only has the
/// same name (a "Security Tooling" with another email, from before). It fails
/// with the error instead, and leaves that account untouched.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_create_account_never_adopts_an_older_account_of_the_same_name() {
    let emu = Emulator::start();
    let orgs = emu.orgs().await;
    orgs.create_organization().send().await.unwrap();
    let old = orgs.create_account().account_name("Security Tooling").email("old-tooling@corp.example").send().await;
    let request = old.unwrap().create_account_status().unwrap().id().unwrap().to_string();
    let old_id = loop {
        let s = orgs.describe_create_account_status().create_account_request_id(&request).send().await.unwrap();
        if let Some(id) = s.create_account_status().and_then(|s| s.account_id()) {
            break id.to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let faults = Faults { reset_before: 1.0, only: Some(vec!["CreateAccount".into()]), ..Default::default() };
    let proxy = Proxy::start(&upstream(&emu), faults);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    let run: Run = sra_at(&proxy.url(), &["apply", &plan, "--auto-approve"]).output().unwrap().into();
    run.expect_code(1);
    assert!(run.stderr.contains("CreateAccount"), "{}", run.stderr);
    let tags = orgs.list_tags_for_resource().resource_id(&old_id).send().await.unwrap();
    assert!(tags.tags().iter().all(|t| t.key() != "sra:account"), "the older account was taken: {tags:?}");
    let parents = orgs.list_parents().child_id(&old_id).send().await.unwrap();
    assert!(parents.parents()[0].id().unwrap().starts_with("r-"), "the older account was moved");
}

/// Right after CreateOrganization, AWS answers CreateAccount with
/// FinalizingOrganizationException for up to an hour (Organizations API
/// reference). A refusal, not a lost request: sra waits with progress and sends
/// the same request again, and makes one account of each kind.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_organization_still_finalizing_delays_account_creation_without_failing() {
    let emu = Emulator::start();
    emu.configure(r#"{"finalizing_seconds": 4}"#);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    let run = emu.run(&["apply", &plan, "--auto-approve"]);
    run.expect_code(0);
    assert!(run.stderr.contains("waiting for AWS to finish setting up the new organization"), "{}", run.stderr);
    assert_converged(&emu, &plan, "finalizing").await;
}
