//! Review and drift workflows: saved plans, show, JSON and markdown, exit codes,
//! drift labels, and plan under a read-only IAM policy with enforcement on.

use crate::common;
use crate::common::{Emulator, MINIMAL, Run, Tripwire};
use serde_json::Value;

const TRAIL: &str = "sra-organization-trail";

async fn stop_trail(emu: &Emulator) {
    aws_sdk_cloudtrail::Client::new(&emu.sdk().await).stop_logging().name(TRAIL).send().await.unwrap();
}

fn applied() -> (Emulator, String) {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    (emu, plan)
}

/// Every JSON document sra prints must validate against docs/plan.schema.json.
fn assert_valid(json: &str) -> Value {
    common::valid_plan_json(json)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_applied_as_is() {
    let (emu, plan) = applied();
    stop_trail(&emu).await;
    let saved = emu.dir.path().join("plan.json");
    let run = emu.run(&["plan", &plan, "--out", saved.to_str().unwrap(), "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stderr.contains("saved the plan to"), "{}", run.stderr);
    let doc = assert_valid(&std::fs::read_to_string(&saved).unwrap());
    let changed = common::changed_addresses(&doc);
    assert_eq!(changed, ["trail"]);
    let applied = emu.run(&["apply", saved.to_str().unwrap()]);
    applied.expect_code(0);
    assert!(applied.stdout.contains("Apply complete: 0 created, 1 updated"), "{}", applied.stdout);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// A saved plan names its plan file relative to itself: made in one directory,
/// applied from another, it still finds the file (and says when it changed).
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_from_any_working_directory() {
    let (emu, _) = applied();
    stop_trail(&emu).await;
    std::fs::create_dir(emu.dir.path().join("saved")).unwrap();
    let made =
        emu.sra(&["plan", "plan.toml", "--out", "saved/plan.json"]).current_dir(emu.dir.path()).output().unwrap();
    Run::from(made).expect_code(0);
    let saved = emu.dir.path().join("saved/plan.json");
    let doc = assert_valid(&std::fs::read_to_string(&saved).unwrap());
    assert_eq!(doc["plan_file"]["path"], "../plan.toml");
    std::fs::write(
        emu.dir.path().join("plan.toml"),
        format!("{MINIMAL}# edited after review\n[guardrails]\ndisabled = [\"ProtectMacie\"]\n"),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let run = emu.sra(&["apply", saved.to_str().unwrap()]).current_dir(elsewhere.path()).output().unwrap();
    let run = Run::from(run);
    run.expect_code(0);
    assert!(run.stderr.contains("plan.toml changed since"), "the file was found from elsewhere: {}", run.stderr);
}

/// A saved plan made for one organization is refused, with that reason, under
/// another organization's credentials.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_for_another_organization_is_refused_with_that_reason() {
    let (emu, plan) = applied();
    let saved = emu.dir.path().join("plan.json");
    emu.run(&["plan", &plan, "--out", saved.to_str().unwrap()]).expect_code(0);
    let other = Emulator::start();
    let orgs = other.orgs().await;
    orgs.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let run = other.run(&["apply", saved.to_str().unwrap()]);
    run.expect_code(1);
    assert!(run.stderr.contains("was made for organization o-"), "{}", run.stderr);
    assert!(run.stderr.contains("but these credentials are in organization o-"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_after_an_out_of_band_change() {
    let (emu, plan) = applied();
    let saved = emu.dir.path().join("plan.json");
    emu.run(&["plan", &plan, "--out", saved.to_str().unwrap()]).expect_code(0);
    stop_trail(&emu).await;
    let run = emu.run(&["apply", saved.to_str().unwrap()]);
    run.expect_code(1);
    assert!(run.stderr.contains("live state changed since"), "{}", run.stderr);
    assert!(run.stderr.contains(": trail"), "names what changed: {}", run.stderr);
    assert!(run.stderr.contains("hint: run `sra plan --out` again"), "{}", run.stderr);
    // nothing was applied
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(2);
}

/// The saved plan is what runs: edited after it was saved, the plan file's new
/// values are not applied (the saved ones are), and the next plan shows the edit.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applied_after_the_plan_file_changed_sends_the_saved_values() {
    let (emu, plan) = applied();
    let with_days = |days: u32| format!("{MINIMAL}[log_bucket]\ntransition_days = {days}\n");
    std::fs::write(&plan, with_days(120)).unwrap();
    let saved = emu.dir.path().join("plan.json");
    emu.run(&["plan", &plan, "--out", saved.to_str().unwrap(), "--detailed-exitcode"]).expect_code(2);
    std::fs::write(&plan, with_days(150)).unwrap();
    let run = emu.run(&["apply", saved.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stderr.contains("changed since"), "says the file moved on: {}", run.stderr);
    assert!(run.stderr.contains("applying the saved plan's values"), "{}", run.stderr);
    assert_eq!(log_bucket_transition_days(&emu).await, 120, "the saved value was sent");
    // The file's edit is a change of its own, for the next review.
    let next = emu.run(&["plan", &plan, "--format", "json", "--detailed-exitcode"]);
    next.expect_code(2);
    let doc = assert_valid(&next.stdout);
    let change = doc["changes"].as_array().unwrap().iter().find(|c| c["action"] != "no-op").unwrap();
    assert!(change["address"].as_str().unwrap().contains("log_bucket"), "{change}");
    let lifecycle = change["properties"].as_array().unwrap().iter().find(|p| p["changed"] == true).unwrap();
    assert!(lifecycle["before"].as_str().unwrap().contains("120"), "{lifecycle}");
    assert!(lifecycle["after"].as_str().unwrap().contains("150"), "{lifecycle}");
}

/// A saved plan whose recorded values were edited by hand is refused, not applied.
#[test]
fn a_saved_plan_edited_by_hand_is_refused() {
    let (emu, plan) = applied();
    let saved = emu.dir.path().join("plan.json");
    emu.run(&["plan", &plan, "--out", saved.to_str().unwrap()]).expect_code(0);
    let text = std::fs::read_to_string(&saved).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["plan_file"]["contents"]["access_role"] = Value::from("SomeoneElsesRole");
    std::fs::write(&saved, serde_json::to_string(&doc).unwrap()).unwrap();
    let run = emu.run(&["apply", saved.to_str().unwrap()]);
    run.expect_code(1);
    assert!(run.stderr.contains("do not match their digest"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: run `sra plan --out` again"), "{}", run.stderr);
}

async fn log_bucket_transition_days(emu: &Emulator) -> i32 {
    let all = common::accounts(&emu.orgs().await).await;
    let la = &all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0;
    let s3 = aws_sdk_s3::Client::new(&emu.sdk_in(la).await);
    let bucket = format!("sra-org-trail-logs-{la}-us-east-1");
    let lc = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap();
    lc.rules()[0].transitions()[0].days().unwrap()
}

#[test]
fn show_renders_a_saved_plan_without_any_aws_call() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL);
    let keep = tempfile::tempdir().unwrap();
    let saved = keep.path().join("plan.json");
    emu.run(&["plan", plan.to_str().unwrap(), "--out", saved.to_str().unwrap()]).expect_code(0);
    drop(emu); // the emulator is gone: show must not need it
    let wire = Tripwire::new();
    for format in ["human", "json", "markdown"] {
        let run = Run::from(
            common::sra_at(&wire.url(), &["show", saved.to_str().unwrap(), "--format", format]).output().unwrap(),
        );
        run.expect_code(0);
        assert!(run.stdout.contains("account.log_archive"), "{format}: {}", run.stdout);
        if format == "json" {
            assert_valid(&run.stdout);
        }
    }
    assert_eq!(wire.hits(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_and_json_match_their_snapshots() {
    let (emu, plan) = applied();
    stop_trail(&emu).await;
    let orgs = emu.orgs().await;
    let all = common::accounts(&orgs).await;
    let la = all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap();
    let root = orgs.list_roots().send().await.unwrap().roots()[0].id().unwrap().to_string();
    orgs.move_account().account_id(&la.0).source_parent_id(&la.3).destination_parent_id(&root).send().await.unwrap();

    let md = emu.run(&["plan", &plan, "--format", "markdown"]);
    md.expect_code(0);
    let json = emu.run(&["plan", &plan, "--format", "json"]);
    json.expect_code(0);
    assert_valid(&json.stdout);
    // Account baselines come in account-id order, which the emulator draws at
    // random: they are checked here and left out of the snapshot.
    let mut doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let changes = doc["changes"].as_array_mut().unwrap();
    let is_baseline = |c: &serde_json::Value| c["address"].as_str().is_some_and(|a| a.starts_with("baseline["));
    let baselines: Vec<&serde_json::Value> = changes.iter().filter(|c| is_baseline(c)).collect();
    assert_eq!(
        baselines.len(),
        9,
        "management: 4 (its Config recorder too); Security Tooling: 3; Log Archive: 2 (its PAB is the log \
         archive's; their recorders are the Config service's)"
    );
    assert!(baselines.iter().all(|c| c["action"] == "no-op"), "{baselines:#?}");
    changes.retain(|c| !is_baseline(c));
    let json_text = serde_json::to_string_pretty(&doc).unwrap();
    let mut settings = insta::Settings::clone_current();
    // Ids that may happen to hold twelve digits (a key's last group, a digest)
    // are redacted before accounts are.
    for (re, with) in [
        (r"key/[0-9a-f-]{36}", "key/[key]"),
        (r"digest `[0-9a-f]{12}`", "digest `[digest]`"),
        (r"\b\d{12}\b", "[account]"),
        (r"o-[a-z0-9]{10,32}", "[org]"),
        (r"\br-[a-z0-9]{4,32}", "[root]"),
        (r"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}", "[ou]"),
        (r"\bp-[a-z0-9]{8,128}\b", "[policy]"),
        (r"[0-9a-f]{64}", "[digest]"),
        (r"\b[0-9a-f]{32}\b", "[detector]"),
        (r"/tmp/\.tmp[A-Za-z0-9]+/", "[dir]/"),
        (r#""sra_version": "[^"]+""#, r#""sra_version": "[version]""#),
    ] {
        settings.add_filter(re, with);
    }
    settings.bind(|| {
        insta::assert_snapshot!("plan_markdown", md.stdout);
        insta::assert_snapshot!("plan_json", json_text);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_and_drift_labels() {
    let (emu, plan) = applied();
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
    emu.run(&["plan", &plan]).expect_code(0);
    stop_trail(&emu).await;
    let drift = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    drift.expect_code(2);
    assert!(drift.stdout.contains("Drift: the plan file is the one last applied"), "{}", drift.stdout);
    emu.run(&["plan", &plan]).expect_code(0);
    std::fs::write(&plan, format!("{MINIMAL}[trail]\ndata_events = [\"lambda\"]\n")).unwrap();
    let intent = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    intent.expect_code(2);
    assert!(intent.stdout.contains("The plan file changed since the last apply"), "{}", intent.stdout);
    // errors are 1, with or without --detailed-exitcode
    let down =
        Run::from(common::sra_at("http://127.0.0.1:9", &["plan", &plan, "--detailed-exitcode"]).output().unwrap());
    down.expect_code(1);
    assert!(down.stderr.contains("hint:"), "{}", down.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_runs_under_the_read_only_policy_and_apply_needs_its_own() {
    // With IAM enforcement on, moto 5.2.5 rejects the signature of every
    // REST-JSON request (GuardDuty, Security Hub, Inspector, Macie) as SignatureDoesNotMatch: their
    // calls are covered by the call-site check of src/permissions.rs instead.
    let emu = Emulator::start();
    let plan = emu
        .plan_file(&format!(
            "{MINIMAL}[services.guardduty]\nenabled = false\n[services.securityhub]\nenabled = false\n[services.inspector]\nenabled = false\n[services.macie]\nenabled = false\n"
        ))
        .to_str()
        .unwrap()
        .to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    stop_trail(&emu).await;
    let plan_policy = emu.run(&["permissions", "plan"]);
    plan_policy.expect_code(0);
    let apply_policy = emu.run(&["permissions", "apply"]);
    apply_policy.expect_code(0);
    let keys = emu.boto3(&format!(
        r#"
iam = boto3.client("iam", endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
out = {{}}
for user, policy in (("planner", {plan:?}), ("applier", {apply:?})):
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="sra", PolicyDocument=policy)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    out[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
print(json.dumps(out))
"#,
        plan = plan_policy.stdout,
        apply = apply_policy.stdout
    ));
    let keys: Value = serde_json::from_str(keys.trim()).unwrap();
    let (status, body) = common::http(emu.port, "POST", "/moto-api/reset-auth", "0").unwrap();
    assert_eq!(status, 200, "{body}");
    let as_user = |user: &str, args: &[&str]| {
        Run::from(
            emu.sra(args)
                .env("AWS_ACCESS_KEY_ID", keys[user][0].as_str().unwrap())
                .env("AWS_SECRET_ACCESS_KEY", keys[user][1].as_str().unwrap())
                .output()
                .unwrap(),
        )
    };
    let planned = as_user("planner", &["plan", &plan, "--detailed-exitcode"]);
    planned.expect_code(2);
    assert!(planned.stdout.contains("~ trail"), "{}", planned.stdout);
    let refused = as_user("planner", &["apply", &plan, "--auto-approve"]);
    refused.expect_code(1);
    // Refused before anything is read or written: its first write is the apply lock.
    assert!(refused.stderr.contains("organizations:CreatePolicy failed"), "{}", refused.stderr);
    assert!(refused.stderr.contains("while taking the apply lock"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("hint: the credentials lack the permission organizations:CreatePolicy"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("reading live state"), "{}", refused.stderr);
    as_user("applier", &["apply", &plan, "--auto-approve"]).expect_code(0);
    as_user("planner", &["plan", &plan, "--detailed-exitcode"]).expect_code(0);
    // sra posture runs under the same read-only policy (here: the organization,
    // the Config aggregator's counts; Security Hub's calls as said above).
    let posture = as_user("planner", &["posture", &plan, "--format", "json"]);
    posture.expect_code(0);
    let doc: Value = serde_json::from_str(&posture.stdout).unwrap();
    assert!(doc["organization_id"].as_str().is_some_and(|o| o.starts_with("o-")), "{doc}");
    assert!(doc["notes"].to_string().contains("Security Hub is off"), "{doc}");
}
