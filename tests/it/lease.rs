//! One `sra apply` at a time (#19): the apply lock, what two runs at once
//! leave behind, a stray trail key, an email taken inside the organization,
//! and Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::{Emulator, MINIMAL, Run, accounts};

const ORGANIZATION: &str = r#"
kw = dict(endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
boto3.client("organizations", **kw).create_organization(FeatureSet="ALL")
"#;

/// A lock policy made by hand, as a run that died would leave it.
fn leave_lock(emu: &Emulator, host: &str, pid: u32, expires: &str) -> String {
    let pidns = std::fs::read_link("/proc/self/ns/pid").unwrap().display().to_string();
    let code = format!(
        r#"
kw = dict(endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
o = boto3.client("organizations", **kw)
d = "sra apply lock; run=dead-1; host={host}; pidns={pidns}; pid={pid}; since=2026-01-01T00:00:00Z; expires={expires}; who=arn:aws:sts::000000000000:assumed-role/Ops/bob"
p = o.create_policy(Name="sra-apply-lock", Description=d, Type="SERVICE_CONTROL_POLICY",
    Content=json.dumps({{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "*", "Resource": "*"}}]}}))
print(p["Policy"]["PolicySummary"]["Id"])
"#
    );
    emu.boto3(&code).trim().to_string()
}

async fn lock_policies(emu: &Emulator) -> Vec<String> {
    let orgs = emu.orgs().await;
    let out = orgs
        .list_policies()
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    out.policies().iter().filter(|p| p.name() == Some("sra-apply-lock")).map(|p| p.id().unwrap().to_string()).collect()
}

async fn log_archive_keys(emu: &Emulator) -> usize {
    let all = accounts(&emu.orgs().await).await;
    let la = &all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0;
    let kms = aws_sdk_kms::Client::new(&emu.sdk_in(la).await);
    kms.list_keys().send().await.unwrap().keys().len()
}

/// Two applies started together: one takes the lock and does the work, the
/// other is refused at once naming the holder and how to break a dead one's
/// lock. One trail key, one account of each kind, no lock left, plan clean.
#[tokio::test(flavor = "multi_thread")]
async fn two_applies_at_once_one_works_the_other_is_refused_naming_the_holder() {
    let emu = Emulator::start();
    emu.boto3(ORGANIZATION);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    let spawn =
        || emu.sra(&["apply", &plan, "--auto-approve"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let runs: Vec<Run> = [a, b].into_iter().map(|c| c.wait_with_output().unwrap().into()).collect();
    let mut codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    codes.sort();
    assert_eq!(codes, [0, 1], "{runs:#?}");
    let loser = runs.iter().find(|r| r.code == 1).unwrap();
    assert!(loser.stderr.contains("error: another sra apply holds the lock (arn:aws:"), "{}", loser.stderr);
    assert!(loser.stderr.contains("--force-unlock p-"), "{}", loser.stderr);
    assert!(lock_policies(&emu).await.is_empty(), "the winner released the lock");
    assert_eq!(log_archive_keys(&emu).await, 1);
    let all = accounts(&emu.orgs().await).await;
    assert_eq!(all.iter().filter(|a| a.2 == "aws+log-archive@example.com").count(), 1);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// A lock whose holder is certainly gone (its process on this machine no
/// longer runs) is broken with a note; one held elsewhere is refused, a wrong
/// `--force-unlock` id breaks nothing, and the right one breaks it.
#[tokio::test(flavor = "multi_thread")]
async fn a_dead_runs_lock_is_broken_and_a_live_one_only_by_force_unlock() {
    let emu = Emulator::start();
    emu.boto3(ORGANIZATION);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();

    leave_lock(&emu, &host, dead_pid, "2099-01-01T00:00:00Z");
    let run = emu.run(&["apply", &plan, "--auto-approve"]);
    run.expect_code(0);
    assert!(run.stderr.contains(&format!("its process {dead_pid} on this machine no longer runs")), "{}", run.stderr);
    assert!(lock_policies(&emu).await.is_empty());

    let id = leave_lock(&emu, "another-machine", 4242, "2099-01-01T00:00:00Z");
    let refused = emu.run(&["apply", &plan, "--auto-approve"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("another sra apply holds the lock (arn:aws:sts::000000000000:assumed-role/Ops/bob on another-machine (process 4242) since 2026-01-01T00:00:00Z)"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&format!("--force-unlock {id}")), "{}", refused.stderr);
    emu.run(&["apply", &plan, "--auto-approve", "--force-unlock", "p-wrong"]).expect_code(1);
    assert_eq!(lock_policies(&emu).await, vec![id.clone()]);
    let forced = emu.run(&["apply", &plan, "--auto-approve", "--force-unlock", &id]);
    forced.expect_code(0);
    assert!(forced.stderr.contains(&format!("breaking the apply lock {id}")), "{}", forced.stderr);
    assert!(lock_policies(&emu).await.is_empty());

    // A lock whose time is up is broken without asking.
    leave_lock(&emu, "another-machine", 4242, "2026-01-01T01:00:00Z");
    let run = emu.run(&["apply", &plan, "--auto-approve"]);
    run.expect_code(0);
    assert!(run.stderr.contains("its time ran out at 2026-01-01T01:00:00Z"), "{}", run.stderr);
}

/// A key sra made that no alias names (as a concurrent run would leave) is a
/// manual clean-up item in `sra plan`, never deleted.
#[tokio::test(flavor = "multi_thread")]
async fn a_stray_trail_key_is_reported_for_manual_clean_up() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let la = &all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0;
    let kms = aws_sdk_kms::Client::new(&emu.sdk_in(la).await);
    let stray = kms
        .create_key()
        .description("sra: encrypts the organization trail sra-organization-trail")
        .tags(aws_sdk_kms::types::Tag::builder().tag_key("sra:managed").tag_value("true").build().unwrap())
        .send()
        .await
        .unwrap();
    let arn = stray.key_metadata().unwrap().arn().unwrap().to_string();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(
        run.stdout.contains(&format!("the key {arn} is tagged sra:managed but no alias names it")),
        "{}",
        run.stdout
    );
    // Apply changes nothing about it.
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    assert_eq!(log_archive_keys(&emu).await, 2);
}

/// The email taken by an account created in this organization meanwhile (by a
/// person, with another name) is not blamed on an account outside it.
#[tokio::test(flavor = "multi_thread")]
async fn an_email_taken_inside_the_organization_is_not_blamed_on_an_outsider() {
    let emu = Emulator::start();
    emu.boto3(ORGANIZATION);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    emu.configure(r#"{"create_account_delay_seconds": 8}"#);
    emu.boto3(
        r#"
kw = dict(endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
boto3.client("organizations", **kw).create_account(AccountName="Logs by hand", Email="aws+log-archive@example.com")
"#,
    );
    let run = emu.run(&["apply", &plan, "--auto-approve"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("EMAIL_ALREADY_EXISTS, the email aws+log-archive@example.com belongs to account ")
            && run.stderr.contains(" (\"Logs by hand\") in this organization, made since this apply read live state"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("outside this organization"), "{}", run.stderr);
    // Waits print a line when they start, not at every poll.
    let waits = run.stderr.matches("account.log_archive: waiting for AWS to create the account").count();
    assert_eq!(waits, 1, "{}", run.stderr);
}

/// Ctrl-C while AWS creates an account: one line says what still runs at AWS
/// (the CreateAccount request) and that a rerun continues; the lock is
/// released; the rerun waits for that request and converges.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_says_what_still_runs_at_aws_and_releases_the_lock() {
    let emu = Emulator::start();
    emu.boto3(ORGANIZATION);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    emu.configure(r#"{"create_account_delay_seconds": 6}"#);
    let mut child =
        emu.sra(&["apply", &plan, "--auto-approve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains("waiting for AWS to create the account") {
            break;
        }
        line.clear();
    }
    assert!(seen.contains("waiting for AWS to create the account"), "{seen}");
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{seen}{rest}");
    let error = rest.lines().find(|l| l.starts_with("error: interrupted")).unwrap_or_else(|| panic!("{seen}{rest}"));
    assert!(error.contains("still running at AWS: CreateAccount request car-"), "{error}");
    assert!(rest.contains("hint: rerun the same `sra apply` to continue"), "{rest}");
    assert!(lock_policies(&emu).await.is_empty(), "the lock was released");
    let rerun = emu.run(&["apply", &plan, "--auto-approve"]);
    rerun.expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    assert_eq!(all.iter().filter(|a| a.2 == "aws+log-archive@example.com").count(), 1);
}
