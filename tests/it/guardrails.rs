//! Guardrails (SCPs) against the emulator: created, exempting sra's role, attached
//! where configured; detaching, editing or extending one is drift that apply
//! restores; unsafe or over-size sets are refused before any AWS call.

use crate::common;
use crate::common::{Emulator, MINIMAL, Tripwire};
use aws_sdk_organizations::types::PolicyType;
use serde_json::Value;

const POLICIES: [&str; 3] =
    ["sra-guardrails-logging", "sra-guardrails-organization", "sra-guardrails-security-services"];

/// sra's SCPs: name → (id, document, target ids).
async fn scps(emu: &Emulator) -> Vec<(String, String, Value, Vec<String>)> {
    policies(emu, PolicyType::ServiceControlPolicy).await
}

/// sra's policies of one type: name → (id, document, target ids).
async fn policies(emu: &Emulator, kind: PolicyType) -> Vec<(String, String, Value, Vec<String>)> {
    let orgs = emu.orgs().await;
    let list = orgs.list_policies().filter(kind).send().await.unwrap();
    let mut out = Vec::new();
    for p in list.policies() {
        let name = p.name().unwrap().to_string();
        if !name.starts_with("sra-") {
            continue;
        }
        let id = p.id().unwrap().to_string();
        let d = orgs.describe_policy().policy_id(&id).send().await.unwrap();
        let doc: Value = serde_json::from_str(d.policy().unwrap().content().unwrap()).unwrap();
        let t = orgs.list_targets_for_policy().policy_id(&id).send().await.unwrap();
        let targets = t.targets().iter().map(|t| t.target_id().unwrap().to_string()).collect();
        out.push((name, id, doc, targets));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

async fn applied(plan_text: &str) -> (Emulator, String) {
    let emu = Emulator::start();
    let plan = emu.plan_file(plan_text).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    (emu, plan)
}

fn expect_one_drift(emu: &Emulator, plan: &str, address: &str, property: &str) {
    let run = emu.run(&["plan", plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("~ {address} (")), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("~ {property}")), "{}", run.stdout);
    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    let again = emu.run(&["plan", plan, "--detailed-exitcode"]);
    again.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_creates_every_guardrail_exempting_sra_attached_to_the_root() {
    let (emu, plan) = applied(MINIMAL).await;
    let root = emu.orgs().await.list_roots().send().await.unwrap().roots()[0].clone();
    let root_id = root.id().unwrap().to_string();
    assert!(
        root.policy_types().iter().any(|t| t.r#type() == Some(&PolicyType::ServiceControlPolicy)),
        "SCPs enabled on the root"
    );
    let got = scps(&emu).await;
    assert_eq!(got.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), POLICIES);
    let mut sids = Vec::new();
    for (name, _, doc, targets) in &got {
        assert_eq!(targets, std::slice::from_ref(&root_id), "{name} attached to the root only");
        assert!(doc.to_string().len() <= 5120, "{name} fits");
        for st in doc["Statement"].as_array().unwrap() {
            assert_eq!(st["Effect"], "Deny", "{name}");
            let exempt = st["Condition"]["ArnNotLike"]["aws:PrincipalArn"].to_string();
            assert!(exempt.contains("arn:aws:iam::*:role/OrganizationAccountAccessRole"), "{name}: {st}");
            sids.push(st["Sid"].as_str().unwrap().to_string());
        }
    }
    sids.sort();
    assert_eq!(
        sids,
        [
            "DenyLeaveOrganization",
            "ProtectAccessAnalyzer",
            "ProtectAccessRole",
            "ProtectAccountBaselines",
            "ProtectConfigRecorders",
            "ProtectDetective",
            "ProtectGuardDuty",
            "ProtectInspector",
            "ProtectLogArchivePublicAccessBlock",
            "ProtectLogBuckets",
            "ProtectMacie",
            "ProtectOrganizationTrail",
            "ProtectSecurityHub",
            "ProtectTrailKey"
        ]
    );
    // The baselines of every account, with the default [baselines] (no contact).
    let baselines = got
        .iter()
        .flat_map(|s| s.2["Statement"].as_array().unwrap().clone())
        .find(|st| st["Sid"] == "ProtectAccountBaselines")
        .unwrap();
    assert_eq!(
        baselines["Action"],
        serde_json::json!([
            "ec2:DisableEbsEncryptionByDefault",
            "iam:DeleteAccountPasswordPolicy",
            "iam:UpdateAccountPasswordPolicy"
        ])
    );
    let logging = &got[0].2.to_string();
    assert!(
        logging.contains("cloudtrail:StopLogging") && logging.contains(":trail/sra-organization-trail"),
        "{logging}"
    );
    let all = common::accounts(&emu.orgs().await).await;
    let la = all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0.clone();
    let key = aws_sdk_kms::Client::new(&emu.sdk_in(&la).await);
    let key_arn = key.describe_key().key_id("alias/sra-organization-trail").send().await.unwrap();
    let key_arn = key_arn.key_metadata().unwrap().arn().unwrap().to_string();
    assert!(logging.contains(&key_arn), "ProtectTrailKey names the trail key: {logging}");
    // The data perimeter: one RCP at the root, naming the Log Archive's buckets and key.
    let rcps = policies(&emu, PolicyType::ResourceControlPolicy).await;
    assert_eq!(rcps.len(), 1, "{rcps:?}");
    let (name, _, doc, targets) = &rcps[0];
    assert_eq!((name.as_str(), targets.as_slice()), ("sra-data-perimeter", std::slice::from_ref(&root_id)));
    let text = doc.to_string();
    assert!(text.contains(&key_arn) && text.contains(&format!("sra-org-trail-logs-{la}-us-east-1/*")), "{text}");
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(0);
    let last = run.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("guardrails: ")
            && last.contains(" attacks denied, ")
            && last.ends_with(" required requests allowed"),
        "{}",
        run.stdout
    );
}

/// The proof at plan time: exempt roles that leave out the break-glass role would
/// lock it out of the log buckets; plan refuses, naming the case, before any write.
#[test]
fn a_plan_whose_guardrails_would_lock_out_break_glass_is_refused_naming_the_case() {
    let emu = Emulator::start();
    let text = format!(
        "{MINIMAL}[log_bucket]\nbreak_glass_role = \"SRABreakGlass\"\n[guardrails]\nexempt_roles = [\"OrganizationAccountAccessRole\", \"SRABreakGlass\"]\n"
    );
    let plan = emu.plan_file(&text);
    let ok = emu.run(&["plan", plan.to_str().unwrap()]);
    ok.expect_code(0);
    assert!(ok.stdout.contains(" attacks denied, "), "{}", ok.stdout);
    let narrowed = text.replace(", \"SRABreakGlass\"]", "]");
    std::fs::write(&plan, narrowed).unwrap();
    let run = emu.run(&["plan", plan.to_str().unwrap(), "--format", "json"]);
    run.expect_code(1);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("fail the guardrail case \\\"the break-glass role deletes a log file in an emergency\\\"")
            || out.contains("fail the guardrail case \"the break-glass role deletes a log file in an emergency\""),
        "{out}"
    );
    assert!(out.contains("denied by scp sra-guardrails-logging ProtectLogBuckets"), "{out}");
    let human = emu.run(&["plan", plan.to_str().unwrap()]);
    human.expect_code(1);
    assert!(human.stdout.contains("1 failed") || human.stdout.contains("2 failed"), "{}", human.stdout);
}

/// The RCP detached out of band is drift that apply restores; with
/// `resource_control_policies = false` sra writes none.
#[tokio::test(flavor = "multi_thread")]
async fn a_detached_resource_control_policy_is_drift_and_the_switch_turns_it_off() {
    let (emu, plan) = applied(MINIMAL).await;
    let rcps = policies(&emu, PolicyType::ResourceControlPolicy).await;
    let (_, id, _, targets) = &rcps[0];
    emu.orgs().await.detach_policy().policy_id(id).target_id(&targets[0]).send().await.unwrap();
    expect_one_drift(&emu, &plan, "guardrail[\"sra-data-perimeter\"]", "attached_to");

    let off = Emulator::start();
    let plan = off.plan_file(&format!("{MINIMAL}[guardrails]\nresource_control_policies = false\n"));
    off.run(&["apply", plan.to_str().unwrap(), "--auto-approve"]).expect_code(0);
    assert!(policies(&off, PolicyType::ResourceControlPolicy).await.is_empty());
    off.run(&["plan", plan.to_str().unwrap(), "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_detached_guardrail_is_drift() {
    let (emu, plan) = applied(MINIMAL).await;
    let got = scps(&emu).await;
    let (_, id, _, targets) = &got[1];
    emu.orgs().await.detach_policy().policy_id(id).target_id(&targets[0]).send().await.unwrap();
    expect_one_drift(&emu, &plan, "guardrail[\"sra-guardrails-organization\"]", "attached_to");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_guardrail_is_drift_shown_as_a_policy_diff() {
    let (emu, plan) = applied(MINIMAL).await;
    let got = scps(&emu).await;
    let (_, id, doc, _) = &got[0];
    let mut doc = doc.clone();
    doc["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "ProtectOrganizationTrail");
    emu.orgs().await.update_policy().policy_id(id).content(doc.to_string()).send().await.unwrap();
    let run = emu.run(&["plan", &plan]);
    assert!(run.stdout.contains("+ ") && run.stdout.contains("\"cloudtrail:StopLogging\""), "{}", run.stdout);
    expect_one_drift(&emu, &plan, "guardrail[\"sra-guardrails-logging\"]", "policy");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_added_statement_is_drift() {
    let (emu, plan) = applied(MINIMAL).await;
    let got = scps(&emu).await;
    let (_, id, doc, _) = &got[2];
    let mut doc = doc.clone();
    doc["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"Sid": "Extra", "Effect": "Allow", "Action": "*", "Resource": "*"}));
    emu.orgs().await.update_policy().policy_id(id).content(doc.to_string()).send().await.unwrap();
    let run = emu.run(&["plan", &plan]);
    assert!(
        run.stdout.lines().any(|l| l.trim_start().starts_with('-') && l.contains("\"Sid\": \"Extra\"")),
        "the diff shows the extra statement going:\n{}",
        run.stdout
    );
    expect_one_drift(&emu, &plan, "guardrail[\"sra-guardrails-security-services\"]", "policy");
}

#[test]
fn removing_the_access_role_exemption_is_refused_before_any_call() {
    let wire = Tripwire::new();
    let dir = tempfile::tempdir().unwrap();
    let path =
        common::write_temp(dir.path(), "p.toml", &format!("{MINIMAL}[guardrails]\nexempt_roles = [\"BreakGlass\"]\n"));
    for cmd in ["validate", "plan"] {
        let run = common::Run::from(common::sra_at(&wire.url(), &[cmd, path.to_str().unwrap()]).output().unwrap());
        run.expect_code(1);
        assert!(
            run.stderr.contains("the guardrails would deny the role sra works through (OrganizationAccountAccessRole)"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("key: guardrails.exempt_roles"), "{}", run.stderr);
    }
    assert_eq!(wire.hits(), 0);
}

#[test]
fn an_over_size_guardrail_fails_validate_naming_it() {
    let wire = Tripwire::new();
    let dir = tempfile::tempdir().unwrap();
    let roles: Vec<String> =
        (0..14).map(|i| format!("\"Role-with-a-rather-long-name-{i:02}-for-the-size-check\"")).collect();
    let text =
        format!("{MINIMAL}[guardrails]\nexempt_roles = [\"OrganizationAccountAccessRole\", {}]\n", roles.join(", "));
    let path = common::write_temp(dir.path(), "p.toml", &text);
    let run = common::Run::from(common::sra_at(&wire.url(), &["validate", path.to_str().unwrap()]).output().unwrap());
    run.expect_code(1);
    assert!(run.stderr.contains("the guardrail policy sra-guardrails-security-services would be"), "{}", run.stderr);
    assert!(run.stderr.contains("ProtectGuardDuty, ProtectSecurityHub, "), "{}", run.stderr);
    assert!(run.stderr.contains("AWS allows 5120"), "{}", run.stderr);
    assert_eq!(wire.hits(), 0);
}

#[test]
fn attaching_to_a_missing_ou_is_blocked() {
    let emu = Emulator::start();
    let plan = emu.plan_file(&format!("{MINIMAL}[guardrails]\nattach_to = [\"Workloads\"]\n"));
    let run = emu.run(&["plan", plan.to_str().unwrap()]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("guardrails.attach_to names the OU \"Workloads\", which does not exist"),
        "{}",
        run.stderr
    );
}

#[test]
fn guardrails_on_an_ou_and_opted_out_ones() {
    let emu = Emulator::start();
    let text = format!(
        "{MINIMAL}[guardrails]\nattach_to = [\"Security\"]\ndisabled = [\"ProtectMacie\", \"DenyLeaveOrganization\", \"ProtectAccessRole\"]\n"
    );
    let plan = emu.plan_file(&text);
    let plan = plan.to_str().unwrap();
    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", plan, "--detailed-exitcode"]).expect_code(0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(scps(&emu));
    assert_eq!(got.len(), 2, "the organization policy has no guardrail left");
    let sec = got.iter().find(|s| s.0 == "sra-guardrails-security-services").unwrap();
    assert!(!sec.2.to_string().contains("macie2"));
    assert!(sec.3[0].starts_with("ou-"), "attached to the OU: {:?}", sec.3);
}
