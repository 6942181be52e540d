//! The walking skeleton against the emulator over HTTP: plan → apply → plan, account
//! creation that takes time, adoption, crash recovery and the errors users meet.

use crate::common;
use std::time::{Duration, Instant};

use crate::common::{Emulator, MINIMAL, Tripwire, accounts};
use aws_sdk_organizations::types::{CreateAccountState, OrganizationFeatureSet};

const ST_EMAIL: &str = "aws+security-tooling@example.com";
const LA_EMAIL: &str = "aws+log-archive@example.com";

#[tokio::test(flavor = "multi_thread")]
async fn empty_org_plan_apply_then_no_changes() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();

    let first = emu.run(&["plan", plan, "--detailed-exitcode"]);
    first.expect_code(2);
    for line in [
        "+ organization will be created",
        "+ ou[\"Security\"] will be created",
        "+ account.security_tooling will be created",
        "+ account.log_archive will be created",
    ] {
        assert!(first.stdout.contains(line), "missing {line:?} in\n{}", first.stdout);
    }
    let creates = first.stdout.lines().filter(|l| l.ends_with(" will be created")).count();
    assert!(first.stdout.contains(&format!("Plan: {creates} to create, 0 to update, ")), "{}", first.stdout);
    // plan changed nothing
    emu.run(&["plan", plan, "--detailed-exitcode"]).expect_code(2);

    let applied = emu.run(&["apply", plan, "--auto-approve"]);
    applied.expect_code(0);
    assert!(applied.stdout.contains(&format!("Apply complete: {creates} created, 0 updated")), "{}", applied.stdout);

    let again = emu.run(&["plan", plan, "--detailed-exitcode"]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // read back through the API a reviewer would use
    let orgs = emu.orgs().await;
    let org = orgs.describe_organization().send().await.unwrap();
    assert_eq!(org.organization().unwrap().feature_set(), Some(&OrganizationFeatureSet::All));
    let root = orgs.list_roots().send().await.unwrap().roots()[0].id().unwrap().to_string();
    let ous = orgs.list_organizational_units_for_parent().parent_id(&root).send().await.unwrap();
    let security: Vec<_> = ous.organizational_units().iter().filter(|o| o.name() == Some("Security")).collect();
    assert_eq!(security.len(), 1);
    let security_id = security[0].id().unwrap();
    let all = accounts(&orgs).await;
    assert_eq!(all.len(), 3, "{all:?}");
    for (email, name, role) in
        [(ST_EMAIL, "Security Tooling", "security-tooling"), (LA_EMAIL, "Log Archive", "log-archive")]
    {
        let (id, got_name, _, parent) = all.iter().find(|a| a.2 == email).expect("account exists");
        assert_eq!(got_name, name);
        assert_eq!(parent, security_id);
        let tags = orgs.list_tags_for_resource().resource_id(id).send().await.unwrap();
        assert!(tags.tags().iter().any(|t| t.key() == "sra:account" && t.value() == role), "{tags:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_account_creation_is_waited_out_with_progress() {
    let emu = Emulator::start();
    emu.configure(r#"{"create_account_delay_seconds": 2.5}"#);
    let plan = emu.plan_file(MINIMAL);
    let started = Instant::now();
    let run = emu.run(&["apply", plan.to_str().unwrap(), "--auto-approve"]);
    run.expect_code(0);
    assert!(started.elapsed() >= Duration::from_millis(2500), "the creations took their delay");
    assert!(run.stderr.contains("waiting for AWS to create the account"), "{}", run.stderr);
    assert!(run.stderr.contains("IN_PROGRESS"), "{}", run.stderr);
    assert!(!run.stdout.contains("IN_PROGRESS"), "progress stays off stdout");
    emu.run(&["plan", plan.to_str().unwrap(), "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_account_with_the_plans_email_is_adopted() {
    let emu = Emulator::start();
    let orgs = emu.orgs().await;
    orgs.create_organization().feature_set(OrganizationFeatureSet::All).send().await.unwrap();
    let req = orgs.create_account().account_name("Old Logs").email(LA_EMAIL).send().await.unwrap();
    let req_id = req.create_account_status().unwrap().id().unwrap().to_string();
    wait_request(&orgs, &req_id).await;

    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();
    let run = emu.run(&["plan", plan]);
    run.expect_code(0);
    assert!(run.stdout.contains("~ account.log_archive"), "{}", run.stdout);
    assert!(run.stdout.contains("adopts the existing account"), "{}", run.stdout);
    assert!(run.stdout.contains("~ ou               = \"(root)\" -> \"Security\""), "{}", run.stdout);
    assert!(run.stdout.contains("sra does not rename accounts"), "{}", run.stdout);

    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", plan, "--detailed-exitcode"]).expect_code(0);
    let all = accounts(&orgs).await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all.iter().filter(|a| a.2 == LA_EMAIL).count(), 1);
}

async fn wait_request(orgs: &aws_sdk_organizations::Client, id: &str) {
    for _ in 0..100 {
        let s = orgs.describe_create_account_status().create_account_request_id(id).send().await.unwrap();
        if s.create_account_status().unwrap().state() != Some(&CreateAccountState::InProgress) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("request {id} never finished");
}

/// Start `sra apply`, kill it as soon as a CreateAccount request exists.
async fn kill_after_create_account(emu: &Emulator, plan: &str) {
    let orgs = emu.orgs().await;
    let mut child = emu
        .sra(&["apply", plan, "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "sra never sent CreateAccount");
        if let Ok(out) = orgs.list_create_account_status().send().await
            && !out.create_account_statuses().is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_during_account_creation_then_rerun_makes_no_duplicate() {
    let emu = Emulator::start();
    emu.configure(r#"{"create_account_delay_seconds": 3}"#);
    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();
    kill_after_create_account(&emu, plan).await;

    let rerun = emu.run(&["apply", plan, "--auto-approve"]);
    rerun.expect_code(0);
    assert!(rerun.stdout.contains("still in progress"), "the plan explains the wait:\n{}", rerun.stdout);
    assert!(rerun.stderr.contains("resuming the wait for account creation request car-"), "{}", rerun.stderr);
    emu.run(&["plan", plan, "--detailed-exitcode"]).expect_code(0);

    let all = accounts(&emu.orgs().await).await;
    assert_eq!(all.iter().filter(|a| a.2 == ST_EMAIL).count(), 1, "{all:?}");
    assert_eq!(all.iter().filter(|a| a.2 == LA_EMAIL).count(), 1, "{all:?}");
    assert_eq!(all.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_after_create_account_and_finished_meanwhile_is_adopted() {
    let emu = Emulator::start();
    emu.configure(r#"{"create_account_delay_seconds": 1}"#);
    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();
    kill_after_create_account(&emu, plan).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the request finishes meanwhile

    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", plan, "--detailed-exitcode"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    assert_eq!(all.iter().filter(|a| a.2 == ST_EMAIL).count(), 1, "{all:?}");
    assert_eq!(all.len(), 3, "{all:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn email_already_exists_is_reported_clearly() {
    let emu = Emulator::start();
    emu.configure(&format!(r#"{{"reserved_emails": ["{LA_EMAIL}"]}}"#));
    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();
    let run = emu.run(&["apply", plan, "--auto-approve"]);
    run.expect_code(1);
    assert!(run.stderr.contains("account.log_archive: AWS could not create the account"), "{}", run.stderr);
    assert!(run.stderr.contains("EMAIL_ALREADY_EXISTS"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "hint: the email aws+log-archive@example.com already belongs to an AWS account outside this organization"
        ),
        "{}",
        run.stderr
    );

    // the next plan says why the account is still to be created
    let again = emu.run(&["plan", plan]);
    again.expect_code(0);
    assert!(again.stdout.contains("failed: EMAIL_ALREADY_EXISTS"), "{}", again.stdout);
}

/// An organization with a workload account, and a session in that account.
async fn member_session() -> (Emulator, String, aws_sdk_sts::types::Credentials) {
    let emu = Emulator::start();
    let orgs = emu.orgs().await;
    orgs.create_organization().feature_set(OrganizationFeatureSet::All).send().await.unwrap();
    let req = orgs.create_account().account_name("Workload").email("workload@example.com").send().await.unwrap();
    let req_id = req.create_account_status().unwrap().id().unwrap().to_string();
    wait_request(&orgs, &req_id).await;
    let member = orgs.describe_create_account_status().create_account_request_id(&req_id).send().await.unwrap();
    let member_id = member.create_account_status().unwrap().account_id().unwrap().to_string();
    let sts = aws_sdk_sts::Client::new(&emu.sdk().await);
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole"))
        .role_session_name("test")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    (emu, member_id, c.clone())
}

/// `--profile` wins over credentials in the environment, as in the AWS CLI: the
/// profile holds a member account's credentials, the environment the management
/// account's, and sra reads as the member (so the plan is refused).
#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_profile_wins_over_environment_credentials() {
    let (emu, member_id, c) = member_session().await;
    let credentials = common::write_temp(
        emu.dir.path(),
        "credentials",
        &format!(
            "[member]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token()
        ),
    );
    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();
    let with_profile = emu
        .sra(&["plan", plan, "--profile", "member"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .output()
        .unwrap();
    let run = common::Run::from(with_profile);
    run.expect_code(1);
    assert!(
        run.stderr.contains(&format!("the caller's account {member_id} is not the management account")),
        "{}",
        run.stderr
    );
    // Without --profile the environment's (management) credentials are used.
    let env_only = emu.sra(&["plan", plan]).env("AWS_SHARED_CREDENTIALS_FILE", &credentials).output().unwrap();
    common::Run::from(env_only).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn member_account_caller_is_refused_with_a_hint() {
    let (emu, member_id, c) = member_session().await;
    let plan = emu.plan_file(MINIMAL);
    let out = emu
        .sra(&["plan", plan.to_str().unwrap()])
        .env("AWS_ACCESS_KEY_ID", c.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", c.secret_access_key())
        .env("AWS_SESSION_TOKEN", c.session_token())
        .output()
        .unwrap();
    let run = common::Run::from(out);
    run.expect_code(1);
    assert!(
        run.stderr.contains(&format!("the caller's account {member_id} is not the management account")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: run sra with credentials of the management account 123456789012"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn consolidated_billing_only_is_refused_with_a_hint() {
    let emu = Emulator::start();
    let orgs = emu.orgs().await;
    orgs.create_organization().feature_set(OrganizationFeatureSet::ConsolidatedBilling).send().await.unwrap();
    let plan = emu.plan_file(MINIMAL);
    let run = emu.run(&["apply", plan.to_str().unwrap(), "--auto-approve"]);
    run.expect_code(1);
    assert!(run.stderr.contains("CONSOLIDATED_BILLING"), "{}", run.stderr);
    assert!(run.stderr.contains("enable-all-features"), "{}", run.stderr);
    assert_eq!(accounts(&orgs).await.len(), 1, "nothing was created");
}

#[test]
fn apply_without_a_terminal_or_auto_approve_changes_nothing() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();
    let run = emu.run(&["apply", plan]);
    run.expect_code(1);
    assert!(run.stderr.contains("refusing to apply without confirmation"), "{}", run.stderr);
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    let again = emu.run(&["plan", plan, "--detailed-exitcode"]);
    again.expect_code(2);
    assert!(again.stdout.contains(" to create, 0 to update, "), "{}", again.stdout);
    assert!(again.stdout.contains("+ account.log_archive will be created"), "{}", again.stdout);
}

#[test]
fn invalid_plan_files_fail_located_without_any_aws_call() {
    let wire = Tripwire::new();
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("broken.toml", "version = 1\n[organization\n"),
        ("typo.toml", &MINIMAL.replace("email = \"aws+log", "emial = \"aws+log")),
        ("region.toml", &MINIMAL.replace("us-east-1", "us-esat-1")),
        ("dup.toml", &MINIMAL.replace(LA_EMAIL, ST_EMAIL)),
    ];
    for (name, text) in cases {
        let path = common::write_temp(dir.path(), name, text);
        for cmd in ["validate", "plan", "apply"] {
            let run = common::Run::from(
                common::sra_at(
                    &wire.url(),
                    &[cmd, path.to_str().unwrap(), "--auto-approve"]
                        .into_iter()
                        .filter(|a| cmd == "apply" || *a != "--auto-approve")
                        .collect::<Vec<_>>(),
                )
                .output()
                .unwrap(),
            );
            run.expect_code(1);
            assert!(run.stderr.contains(&format!("{}:", path.display())), "{cmd} {name}: located\n{}", run.stderr);
            assert!(run.stderr.contains("hint:"), "{cmd} {name}: hint\n{}", run.stderr);
            assert!(run.stdout.is_empty(), "{cmd} {name}: nothing on stdout\n{}", run.stdout);
        }
    }
    let typo = common::Run::from(
        common::sra_at(&wire.url(), &["validate", dir.path().join("typo.toml").to_str().unwrap()]).output().unwrap(),
    );
    assert!(typo.stderr.contains(":9:1"), "{}", typo.stderr);
    assert!(typo.stderr.contains("key: accounts.log_archive.emial"), "{}", typo.stderr);
    assert!(typo.stderr.contains("did you mean `email`?"), "{}", typo.stderr);
    assert_eq!(wire.hits(), 0, "no command may reach AWS with an invalid plan file");
}

#[test]
fn validate_accepts_the_shipped_plans_offline() {
    let wire = Tripwire::new();
    for plan in ["plans/example.toml", "plans/minimal.toml"] {
        let path = common::repo().join(plan);
        let run =
            common::Run::from(common::sra_at(&wire.url(), &["validate", path.to_str().unwrap()]).output().unwrap());
        run.expect_code(0);
        assert!(run.stdout.contains("valid"), "{}", run.stdout);
    }
    assert_eq!(wire.hits(), 0);
}

/// The management account's email given for Log Archive: plan refuses it with a
/// hint, and apply sends nothing (it never moves the management account).
#[tokio::test(flavor = "multi_thread")]
async fn the_management_accounts_email_is_refused_for_an_sra_account() {
    let emu = Emulator::start();
    let orgs = emu.orgs().await;
    let org = orgs.create_organization().feature_set(OrganizationFeatureSet::All).send().await.unwrap();
    let management_email = org.organization().unwrap().master_account_email().unwrap().to_string();
    let plan = emu.plan_file(&MINIMAL.replace(LA_EMAIL, &management_email));
    let plan = plan.to_str().unwrap();
    for cmd in ["plan", "apply"] {
        let run = emu.run(&[cmd, plan, "--auto-approve"][..if cmd == "plan" { 2 } else { 3 }]);
        run.expect_code(1);
        let out = format!("{}{}", run.stdout, run.stderr);
        assert!(
            out.contains(&format!("is the email of the management account ({}), which cannot be Log Archive", {
                org.organization().unwrap().master_account_id().unwrap()
            })),
            "{out}"
        );
    }
    let parents = orgs.list_parents().child_id(org.organization().unwrap().master_account_id().unwrap()).send().await;
    assert_eq!(parents.unwrap().parents()[0].r#type().unwrap().as_str(), "ROOT", "never moved");
}

/// Security Tooling and Log Archive are created side by side (CreateAccount takes
/// minutes on AWS): both requests are in progress at once during apply.
#[tokio::test(flavor = "multi_thread")]
async fn both_accounts_are_created_at_the_same_time() {
    let emu = Emulator::start();
    emu.configure(r#"{"create_account_delay_seconds": 3}"#);
    let plan = emu.plan_file(MINIMAL);
    let mut child = emu.sra(&["apply", plan.to_str().unwrap(), "--auto-approve"]).spawn().unwrap();
    let orgs = emu.orgs().await;
    let mut most = 0;
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(120) {
        if let Ok(out) = orgs.list_create_account_status().states(CreateAccountState::InProgress).send().await {
            most = most.max(out.create_account_statuses().len());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(most, 2, "both CreateAccount requests were in progress at once");
}
