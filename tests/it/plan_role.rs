//! `organization.plan_role` (#19): a read-only path for `sra plan`. Apply makes
//! the role in Security Tooling and Log Archive with only the reads plan makes
//! there, trusted by the management account; plan reads through it and never
//! through the access role; a widened policy is drift that apply restores; and
//! `sra permissions plan PLAN` lets the caller assume only that role.

use crate::common::{Emulator, MINIMAL, accounts};

const ROLE: &str = "SRAPlanReadOnly";

#[tokio::test(flavor = "multi_thread")]
async fn plan_reads_member_accounts_through_a_read_only_role_that_apply_keeps() {
    let emu = Emulator::start();
    let text = MINIMAL.replace("[organization]\n", &format!("[organization]\nplan_role = \"{ROLE}\"\n"));
    let plan = emu.plan_file(&text).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);

    let all = accounts(&emu.orgs().await).await;
    let id = |email: &str| all.iter().find(|a| a.2 == email).unwrap().0.clone();
    let (st, la) = (id("aws+security-tooling@example.com"), id("aws+log-archive@example.com"));
    let management = emu.boto3("print(boto3.client('sts', endpoint_url=URL, region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test').get_caller_identity()['Account'])");
    let management = management.trim();
    for account in [&st, &la] {
        let iam = aws_sdk_iam::Client::new(&emu.sdk_in(account).await);
        let role = iam.get_role().role_name(ROLE).send().await.unwrap();
        let trust = role.role().unwrap().assume_role_policy_document().unwrap();
        let trust = percent_decode(trust);
        assert!(trust.contains(&format!("arn:aws:iam::{management}:root")), "{trust}");
        let inline = iam.get_role_policy().role_name(ROLE).policy_name("sra-plan-read-only").send().await.unwrap();
        let doc: serde_json::Value = serde_json::from_str(&percent_decode(inline.policy_document())).unwrap();
        let actions: Vec<&str> =
            doc["Statement"][0]["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert!(actions.contains(&"guardduty:ListMembers") && actions.contains(&"s3:GetBucketPolicy"), "{actions:?}");
        for action in &actions {
            let op = action.split(':').nth(1).unwrap();
            // Config's Select* runs a read-only advanced query.
            assert!(["Get", "List", "Describe", "BatchGet", "Select"].iter().any(|p| op.starts_with(p)), "{action}");
        }
    }

    // Plan reads through the plan role, never the access role.
    let run = emu.run(&["plan", &plan, "--detailed-exitcode", "-v"]);
    run.expect_code(0);
    for account in [&st, &la] {
        assert!(run.stderr.contains(&format!("sts:AssumeRole arn:aws:iam::{account}:role/{ROLE}")), "{}", run.stderr);
    }
    assert!(!run.stderr.contains("role/OrganizationAccountAccessRole"), "{}", run.stderr);

    // Widened out of band: drift, restored by apply.
    let iam = aws_sdk_iam::Client::new(&emu.sdk_in(&la).await);
    iam.put_role_policy()
        .role_name(ROLE)
        .policy_name("sra-plan-read-only")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode", "--format", "json"]);
    run.expect_code(2);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let changed = crate::common::changed_addresses(&doc);
    assert_eq!(changed, ["plan_role.log_archive"], "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);

    // The plan policy lets the caller assume only the plan role.
    let policy = emu.run(&["permissions", "plan", &plan]);
    policy.expect_code(0);
    assert!(policy.stdout.contains(&format!("\"Resource\": \"arn:aws:iam::*:role/{ROLE}\"")), "{}", policy.stdout);
    assert!(!policy.stdout.contains("role/*"), "{}", policy.stdout);
}

/// A plan file that names a plan role apply has not made yet still plans: each
/// account says it reads through the access role meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_plan_role_not_made_yet_is_planned_and_the_access_role_reads_meanwhile() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let text = MINIMAL.replace("[organization]\n", &format!("[organization]\nplan_role = \"{ROLE}\"\n"));
    std::fs::write(&plan, text).unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stderr.contains(&format!("cannot assume the plan role {ROLE}")), "{}", run.stderr);
    assert!(run.stderr.contains("reading through OrganizationAccountAccessRole instead"), "{}", run.stderr);
    assert!(
        run.stdout.contains("plan_role.log_archive") && run.stdout.contains("plan_role.security_tooling"),
        "{}",
        run.stdout
    );
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// With IAM enforcement on (as in `review::plan_runs_under_the_read_only_policy…`):
/// an identity holding only `sra permissions plan PLAN` plans through the plan
/// role, whose policy is then proved enough for every read in the member
/// accounts, and it cannot assume the access role.
#[tokio::test(flavor = "multi_thread")]
async fn the_plan_policy_with_a_plan_role_plans_and_cannot_assume_the_access_role() {
    let emu = Emulator::start();
    // REST-JSON services are left out: moto rejects their signatures with
    // enforcement on (see review.rs).
    let text = format!(
        "{}[services.guardduty]\nenabled = false\n[services.securityhub]\nenabled = false\n[services.inspector]\nenabled = false\n[services.macie]\nenabled = false\n",
        MINIMAL.replace("[organization]\n", &format!("[organization]\nplan_role = \"{ROLE}\"\n"))
    );
    let plan = emu.plan_file(&text).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let la = all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0.clone();
    let plan_policy = emu.run(&["permissions", "plan", &plan]);
    plan_policy.expect_code(0);
    let keys = emu.boto3(&format!(
        r#"
iam = boto3.client("iam", endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
iam.create_user(UserName="planner")
iam.put_user_policy(UserName="planner", PolicyName="sra", PolicyDocument={policy:?})
k = iam.create_access_key(UserName="planner")["AccessKey"]
print(json.dumps([k["AccessKeyId"], k["SecretAccessKey"]]))
"#,
        policy = plan_policy.stdout
    ));
    let keys: serde_json::Value = serde_json::from_str(keys.trim()).unwrap();
    let (key, secret) = (keys[0].as_str().unwrap(), keys[1].as_str().unwrap());
    let (status, body) = crate::common::http(emu.port, "POST", "/moto-api/reset-auth", "0").unwrap();
    assert_eq!(status, 200, "{body}");

    let planned = crate::common::Run::from(
        emu.sra(&["plan", &plan, "--detailed-exitcode", "-v"])
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .output()
            .unwrap(),
    );
    planned.expect_code(0);
    assert!(planned.stderr.contains(&format!("sts:AssumeRole arn:aws:iam::{la}:role/{ROLE}")), "{}", planned.stderr);
    assert!(!planned.stderr.contains("cannot assume the plan role"), "{}", planned.stderr);

    let sts = aws_sdk_sts::Client::new(&emu.sdk_as(key, secret, None).await);
    let denied = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{la}:role/OrganizationAccountAccessRole"))
        .role_session_name("escalate")
        .send()
        .await;
    // moto's enforcement answers in a shape the SDK does not parse for STS
    // (<Errors><Error>): the raw answer is what is checked.
    let raw = format!("{denied:?}");
    assert!(raw.contains("StatusCode(403)") && raw.contains("<Code>AccessDenied</Code>"), "{raw}");
}
