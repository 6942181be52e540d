//! Organization-wide delegated administration (Config, CloudTrail, Access Analyzer,
//! Trusted Advisor) to Security Tooling: set up, drift restored, another admin
//! replaced only with --allow-admin-change.

use crate::common::{Emulator, MINIMAL, WITH_TRUSTED_ADVISOR, accounts, trusted_advisor_turned_on};

const PRINCIPALS: [&str; 4] = [
    "config.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "access-analyzer.amazonaws.com",
    "reporting.trustedadvisor.amazonaws.com",
];

async fn admins(emu: &Emulator, principal: &str) -> Vec<String> {
    let out = emu.orgs().await.list_delegated_administrators().service_principal(principal).send().await.unwrap();
    out.delegated_administrators().iter().filter_map(|a| a.id().map(str::to_string)).collect()
}

/// Applied with Trusted Advisor on: the first apply does everything but Trusted
/// Advisor (its trusted access is a manual step, shown by plan, and its
/// delegation waits for it); after a person turns it on, apply registers it.
async fn applied() -> (Emulator, String, String, String) {
    let emu = Emulator::start();
    let plan = emu.plan_file(WITH_TRUSTED_ADVISOR).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let pending = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    pending.expect_code(2);
    assert!(pending.stdout.contains("Trusted Advisor console"), "{}", pending.stdout);
    assert!(pending.stdout.contains("0 to create, 0 to update"), "only manual items: {}", pending.stdout);
    assert!(admins(&emu, "reporting.trustedadvisor.amazonaws.com").await.is_empty(), "not claimed");
    trusted_advisor_turned_on(&emu).await;
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == "aws+security-tooling@example.com").unwrap().0.clone();
    let la = all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0.clone();
    (emu, plan, st, la)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_organization_wide_service_is_delegated_to_security_tooling() {
    let (emu, plan, st, _) = applied().await;
    for p in PRINCIPALS {
        assert_eq!(admins(&emu, p).await, std::slice::from_ref(&st), "{p}");
    }
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deregistered_admin_is_drift() {
    let (emu, plan, st, _) = applied().await;
    emu.orgs()
        .await
        .deregister_delegated_administrator()
        .account_id(&st)
        .service_principal("config.amazonaws.com")
        .send()
        .await
        .unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 1 to create, 0 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("+ config[\"organization\"].delegated_admin"), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    assert_eq!(admins(&emu, "config.amazonaws.com").await, [st]);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_admin_is_replaced_only_when_allowed() {
    let (emu, plan, st, la) = applied().await;
    let orgs = emu.orgs().await;
    let p = "access-analyzer.amazonaws.com";
    orgs.deregister_delegated_administrator().account_id(&st).service_principal(p).send().await.unwrap();
    orgs.register_delegated_administrator().account_id(&la).service_principal(p).send().await.unwrap();
    let refused = emu.run(&["apply", &plan, "--auto-approve"]);
    refused.expect_code(1);
    assert!(
        refused.stdout.contains(&format!("DESTRUCTIVE: replaces the delegated administrator {la}")),
        "{}",
        refused.stdout
    );
    assert!(refused.stderr.contains("refusing destructive changes"), "{}", refused.stderr);
    assert_eq!(admins(&emu, p).await, std::slice::from_ref(&la));
    emu.run(&["apply", &plan, "--auto-approve", "--allow-admin-change"]).expect_code(0);
    assert_eq!(admins(&emu, p).await, [st]);
}

#[test]
fn an_opted_out_service_is_left_alone() {
    let emu = Emulator::start();
    let plan = emu.plan_file(&format!("{WITH_TRUSTED_ADVISOR}[services.trusted_advisor]\nenabled = false\n"));
    let run = emu.run(&["plan", plan.to_str().unwrap()]);
    run.expect_code(0);
    assert!(!run.stdout.contains("trusted_advisor"), "{}", run.stdout);
    assert!(run.stdout.contains("config[\"organization\"].delegated_admin"), "{}", run.stdout);
}

fn analyzer(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_accessanalyzer::Client {
    let conf = aws_sdk_accessanalyzer::config::Builder::from(config)
        .region(aws_config::Region::new(region.to_string()))
        .build();
    aws_sdk_accessanalyzer::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_analyzer_exists_in_every_region_and_a_deleted_one_is_drift() {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == "aws+security-tooling@example.com").unwrap().0.clone();
    let cfg = emu.sdk_in(&st).await;
    for region in ["us-east-1", "us-west-2"] {
        let listed = analyzer(&cfg, region)
            .list_analyzers()
            .r#type(aws_sdk_accessanalyzer::types::Type::Organization)
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = listed.analyzers().iter().map(|a| a.name()).collect();
        assert_eq!(names, ["sra-organization-analyzer"], "{region}");
    }
    analyzer(&cfg, "us-west-2").delete_analyzer().analyzer_name("sra-organization-analyzer").send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 1 to create, 0 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("+ access_analyzer[\"us-west-2\"].settings"), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);

    // an organization analyzer someone made by hand is adopted, not duplicated
    let east = analyzer(&cfg, "us-east-1");
    east.delete_analyzer().analyzer_name("sra-organization-analyzer").send().await.unwrap();
    east.create_analyzer()
        .analyzer_name("handmade")
        .r#type(aws_sdk_accessanalyzer::types::Type::Organization)
        .send()
        .await
        .unwrap();
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// AWS takes a while to accept a new delegated administrator: Access Analyzer
/// answers "only the management account or the delegated administrator" first.
/// Apply waits (with progress) instead of failing, and converges.
#[test]
fn apply_waits_for_a_delegation_to_reach_the_service() {
    let emu = Emulator::start();
    emu.configure(r#"{"delegation_delay_seconds": 6}"#);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    let run = emu.run(&["apply", &plan, "--auto-approve"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("Access Analyzer us-east-1: waiting for the delegation to reach Security Tooling"),
        "{}",
        run.stderr
    );
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// Another account administers Security Hub, Macie and Detective in every
/// governed Region (set up out of band as an administrator would: each service's
/// administrator removed in every Region first, Detective's deregistered in
/// Organizations, which AWS requires before another). With
/// `--allow-admin-change`, apply removes it everywhere before delegating to
/// Security Tooling anywhere (Security Hub and Macie refuse two administrators
/// across Regions; Detective one other than Organizations' registered one), and
/// deregisters Detective's former administrator.
#[test]
fn another_administrator_of_every_service_is_replaced_in_the_documented_order() {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let lock = std::fs::read_to_string(std::path::Path::new(&plan).with_extension("lock")).unwrap();
    let id = |key: &str| {
        lock.lines().find_map(|l| l.strip_prefix(&format!("{key} = \""))).unwrap().trim_end_matches('"').to_string()
    };
    let (st, la) = (id("security_tooling"), id("log_archive"));
    let hand_over = r#"
kw = dict(endpoint_url=URL, aws_access_key_id="test", aws_secret_access_key="test")
regions = ["us-east-1", "us-west-2"]
for r in regions:
    boto3.client("securityhub", region_name=r, **kw).disable_organization_admin_account(AdminAccountId=ST)
    boto3.client("macie2", region_name=r, **kw).disable_organization_admin_account(adminAccountId=ST)
    boto3.client("detective", region_name=r, **kw).disable_organization_admin_account()
boto3.client("organizations", region_name="us-east-1", **kw).deregister_delegated_administrator(AccountId=ST, ServicePrincipal="detective.amazonaws.com")
for r in regions:
    boto3.client("securityhub", region_name=r, **kw).enable_organization_admin_account(AdminAccountId=LA)
    boto3.client("macie2", region_name=r, **kw).enable_organization_admin_account(adminAccountId=LA)
    boto3.client("detective", region_name=r, **kw).enable_organization_admin_account(AccountId=LA)
print("ok")
"#;
    let q = |s: &str| format!("\"{s}\"");
    emu.boto3(&hand_over.replace("ST", &q(&st)).replace("LA", &q(&la)));
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    for service in ["securityhub", "macie", "detective"] {
        for region in ["us-east-1", "us-west-2"] {
            let address = format!("{service}[\"{region}\"].delegated_admin");
            assert!(run.stdout.contains(&address), "{address}\n{}", run.stdout);
        }
    }
    assert_eq!(run.stdout.matches(&format!("DESTRUCTIVE: replaces the delegated administrator {la}")).count(), 6);
    emu.run(&["apply", &plan, "--auto-approve", "--allow-admin-change"]).expect_code(0);
    let check = r#"
kw = dict(endpoint_url=URL, aws_access_key_id="test", aws_secret_access_key="test")
out = {}
for r in ["us-east-1", "us-west-2"]:
    out[f"securityhub {r}"] = [a["AccountId"] for a in boto3.client("securityhub", region_name=r, **kw).list_organization_admin_accounts()["AdminAccounts"]]
    out[f"macie {r}"] = [a["accountId"] for a in boto3.client("macie2", region_name=r, **kw).list_organization_admin_accounts()["adminAccounts"] if a["status"] == "ENABLED"]
    out[f"detective {r}"] = [a["AccountId"] for a in boto3.client("detective", region_name=r, **kw).list_organization_admin_accounts()["Administrators"]]
orgs = boto3.client("organizations", region_name="us-east-1", **kw)
out["organizations detective"] = [a["Id"] for a in orgs.list_delegated_administrators(ServicePrincipal="detective.amazonaws.com")["DelegatedAdministrators"]]
print(json.dumps(out))
"#;
    let admins: serde_json::Value = serde_json::from_str(emu.boto3(check).trim()).unwrap();
    for (what, ids) in admins.as_object().unwrap() {
        assert_eq!(ids, &serde_json::json!([st]), "{what}: {admins}");
    }
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}
