//! GuardDuty delegated to Security Tooling in every governed region, read back
//! through the APIs a reviewer would use; drift in settings, delegation and
//! membership shows as exactly that and apply restores it; brownfield detectors are
//! adopted; another delegated admin is replaced only with --allow-admin-change.

use crate::common;
use crate::common::{Emulator, accounts};
use aws_sdk_guardduty::types::{AutoEnableMembers, OrgFeatureStatus};

const REGIONS: [&str; 2] = ["us-east-1", "us-west-2"];
const ST_EMAIL: &str = "aws+security-tooling@example.com";

fn plan_text() -> String {
    common::two_regions()
}

fn gd(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_guardduty::Client {
    let conf =
        aws_sdk_guardduty::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_guardduty::Client::from_conf(conf)
}

struct Org {
    emu: Emulator,
    plan: String,
    st: String,
    all: Vec<(String, String, String, String)>,
}

impl Org {
    async fn admin_gd(&self, region: &str) -> (aws_sdk_guardduty::Client, String) {
        let client = gd(&self.emu.sdk_in(&self.st).await, region);
        let detector = client.list_detectors().send().await.unwrap().detector_ids()[0].clone();
        (client, detector)
    }
}

async fn applied() -> Org {
    let emu = Emulator::start();
    let plan = emu.plan_file(&plan_text()).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == ST_EMAIL).unwrap().0.clone();
    Org { emu, plan, st, all }
}

fn expect_drift(o: &Org, address: &str, property: &str) {
    let run = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(
        run.stdout.contains("Plan: 0 to create, 1 to update") || run.stdout.contains("Plan: 1 to create, 0 to update"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(address), "{address}:\n{}", run.stdout);
    assert!(run.stdout.contains(property), "{property}:\n{}", run.stdout);
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_apply_delegates_guardduty_in_every_region_then_no_changes() {
    let o = applied().await;
    let mgmt = o.emu.sdk().await;
    for region in REGIONS {
        let admins = gd(&mgmt, region).list_organization_admin_accounts().send().await.unwrap();
        let ids: Vec<&str> = admins.admin_accounts().iter().filter_map(|a| a.admin_account_id()).collect();
        assert_eq!(ids, [o.st.as_str()], "{region}");
        let (client, detector) = o.admin_gd(region).await;
        // Delegation turned GuardDuty on in Security Tooling; apply adopted
        // that detector and made no second (AWS refuses one).
        let detectors = client.list_detectors().send().await.unwrap();
        assert_eq!(detectors.detector_ids(), std::slice::from_ref(&detector), "{region}");
        let conf = client.describe_organization_configuration().detector_id(&detector).send().await.unwrap();
        assert_eq!(conf.auto_enable_organization_members(), Some(&AutoEnableMembers::All), "{region}");
        let features: Vec<(&str, &OrgFeatureStatus)> =
            conf.features().iter().map(|f| (f.name().unwrap().as_str(), f.auto_enable().unwrap())).collect();
        assert_eq!(features.len(), 6, "{features:?}");
        assert!(features.iter().all(|(_, s)| **s == OrgFeatureStatus::All), "{features:?}");
        // Runtime Monitoring with the agents GuardDuty manages, else no agent runs.
        let runtime = conf.features().iter().find(|f| f.name().unwrap().as_str() == "RUNTIME_MONITORING").unwrap();
        let agents: Vec<(&str, &str)> = runtime
            .additional_configuration()
            .iter()
            .map(|a| (a.name().unwrap().as_str(), a.auto_enable().unwrap().as_str()))
            .collect();
        assert_eq!(
            agents,
            [("EC2_AGENT_MANAGEMENT", "ALL"), ("ECS_FARGATE_AGENT_MANAGEMENT", "ALL"), ("EKS_ADDON_MANAGEMENT", "ALL")],
            "{region}"
        );
        // Security Tooling is not its own member: its own detector has them too.
        let own = client.get_detector().detector_id(&detector).send().await.unwrap();
        let on: Vec<&str> = own
            .features()
            .iter()
            .filter(|f| f.status().map(|s| s.as_str()) == Some("ENABLED"))
            .filter_map(|f| f.name().map(|n| n.as_str()))
            .collect();
        assert_eq!(on.len(), 6, "{region}: {on:?}");
        let runtime = own.features().iter().find(|f| f.name().unwrap().as_str() == "RUNTIME_MONITORING").unwrap();
        assert_eq!(runtime.additional_configuration().len(), 3, "{region}");
        assert!(runtime.additional_configuration().iter().all(|a| a.status().unwrap().as_str() == "ENABLED"));
        let members = client.list_members().detector_id(&detector).send().await.unwrap();
        let mut got: Vec<&str> = members.members().iter().filter_map(|m| m.account_id()).collect();
        got.sort();
        let mut want: Vec<&str> = o.all.iter().map(|a| a.0.as_str()).filter(|id| *id != o.st).collect();
        want.sort();
        assert_eq!(got, want, "{region}: every account but the admin is a member");
        // Membership is protection: read in each member account (the management
        // account included), GuardDuty is on there, Runtime Monitoring's agents too.
        for (id, ..) in o.all.iter().filter(|a| a.0 != o.st) {
            let config = if id == "123456789012" { mgmt.clone() } else { o.emu.sdk_in(id).await };
            let member = gd(&config, region);
            let ids = member.list_detectors().send().await.unwrap();
            assert_eq!(ids.detector_ids().len(), 1, "{region}: GuardDuty on in {id}");
            let own = member.get_detector().detector_id(&ids.detector_ids()[0]).send().await.unwrap();
            let runtime = own.features().iter().find(|f| f.name().map(|n| n.as_str()) == Some("RUNTIME_MONITORING"));
            let runtime = runtime.unwrap_or_else(|| panic!("{region}: {id} has Runtime Monitoring"));
            assert_eq!(runtime.additional_configuration().len(), 3, "{region}: {id}");
        }
    }
    let access = o.emu.orgs().await.list_aws_service_access_for_organization().send().await.unwrap();
    let principals: Vec<&str> =
        access.enabled_service_principals().iter().filter_map(|p| p.service_principal()).collect();
    assert!(
        principals.contains(&"guardduty.amazonaws.com")
            && principals.contains(&"malware-protection.guardduty.amazonaws.com")
    );
    // GuardDuty registered its administrator with Organizations, as AWS does.
    let registered = o.emu.orgs().await.list_delegated_administrators().service_principal("guardduty.amazonaws.com");
    let registered = registered.send().await.unwrap();
    let ids: Vec<&str> = registered.delegated_administrators().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, [o.st.as_str()]);
    let run = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    run.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn coverage_is_reported_per_region() {
    let o = applied().await;
    let (client, detector) = o.admin_gd("us-west-2").await;
    let removed = o.all.iter().find(|a| a.0 != o.st && a.2 != ST_EMAIL).unwrap().0.clone();
    // With auto-enable ALL, GuardDuty refuses to remove an account of the
    // organization (API_DeleteMembers): an administrator turns it down first.
    let refused = client.delete_members().detector_id(&detector).account_ids(&removed).send().await;
    assert!(refused.is_err(), "GuardDuty keeps every account while auto-enable is ALL");
    client
        .update_organization_configuration()
        .detector_id(&detector)
        .auto_enable_organization_members(AutoEnableMembers::New)
        .send()
        .await
        .unwrap();
    client.delete_members().detector_id(&detector).account_ids(&removed).send().await.unwrap();
    let run = o.emu.run(&["plan", &o.plan]);
    let total = o.all.len() - 1;
    assert!(run.stdout.contains("Coverage (enrolled accounts):"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("guardduty[\"us-east-1\"]: {total} of {total} accounts")), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "guardduty[\"us-west-2\"]: {} of {total} accounts (not enrolled: {removed})",
            total - 1
        )),
        "{}",
        run.stdout
    );
    let drift = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    drift.expect_code(2);
    assert!(drift.stdout.contains("Plan: 0 to create, 2 to update"), "{}", drift.stdout);
    assert!(drift.stdout.contains("~ auto_enable_organization_members = \"NEW\" -> \"ALL\""), "{}", drift.stdout);
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_enable_turned_off_is_drift() {
    let o = applied().await;
    let (client, detector) = o.admin_gd("us-east-1").await;
    client
        .update_organization_configuration()
        .detector_id(&detector)
        .auto_enable_organization_members(AutoEnableMembers::None)
        .send()
        .await
        .unwrap();
    expect_drift(&o, "~ guardduty[\"us-east-1\"].settings", "~ auto_enable_organization_members = \"NONE\" -> \"ALL\"");
}

/// An agent GuardDuty manages turned off on Security Tooling's own detector is
/// drift of exactly that; apply turns it back on.
#[tokio::test(flavor = "multi_thread")]
async fn an_agent_turned_off_on_the_admins_detector_is_drift() {
    use aws_sdk_guardduty::types::{
        DetectorAdditionalConfiguration, DetectorFeature, DetectorFeatureConfiguration, FeatureAdditionalConfiguration,
        FeatureStatus,
    };
    let o = applied().await;
    let (client, detector) = o.admin_gd("us-east-1").await;
    let off = DetectorAdditionalConfiguration::builder()
        .name(FeatureAdditionalConfiguration::EksAddonManagement)
        .status(FeatureStatus::Disabled)
        .build();
    let feature = DetectorFeatureConfiguration::builder()
        .name(DetectorFeature::RuntimeMonitoring)
        .status(FeatureStatus::Enabled)
        .additional_configuration(off)
        .build();
    client.update_detector().detector_id(&detector).features(feature).send().await.unwrap();
    expect_drift(
        &o,
        "~ guardduty[\"us-east-1\"].settings",
        "~ detector.RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT = \"DISABLED\" -> \"ENABLED\"",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_deregistered_in_one_region_is_drift() {
    let o = applied().await;
    release(&gd(&o.emu.sdk_in(&o.st).await, "us-west-2")).await;
    gd(&o.emu.sdk().await, "us-west-2")
        .disable_organization_admin_account()
        .admin_account_id(&o.st)
        .send()
        .await
        .unwrap();
    let run = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("+ guardduty[\"us-west-2\"].delegated_admin"), "{}", run.stdout);
    assert!(!run.stdout.contains("guardduty[\"us-east-1\"].delegated_admin will"), "{}", run.stdout);
    // The settings there are unreadable until Security Tooling is the administrator
    // again, and apply re-applies them: an update, never "unchanged".
    assert!(run.stdout.contains("~ guardduty[\"us-west-2\"].settings"), "{}", run.stdout);
    assert!(run.stdout.contains("~ auto_enable_organization_members"), "{}", run.stdout);
    assert!(run.stdout.contains("Plan: 1 to create, 1 to update"), "{}", run.stdout);
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pre_existing_detector_is_adopted() {
    let emu = Emulator::start();
    let without = format!("{}[services.guardduty]\nenabled = false\n", plan_text());
    let plan = emu.plan_file(&without).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == ST_EMAIL).unwrap().0.clone();
    let client = gd(&emu.sdk_in(&st).await, "us-east-1");
    let existing = client.create_detector().enable(true).send().await.unwrap().detector_id().unwrap().to_string();

    std::fs::write(&plan, plan_text()).unwrap();
    let run = emu.run(&["plan", &plan, "--format", "json"]);
    let doc = common::valid_plan_json(&run.stdout);
    let settings = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "guardduty[\"us-east-1\"].settings")
        .unwrap();
    assert_eq!(settings["id"], existing.as_str(), "the plan names the existing detector");
    assert_ne!(settings["action"], "create");
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let detectors = client.list_detectors().send().await.unwrap();
    assert_eq!(detectors.detector_ids(), [existing], "adopted, not recreated");
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_delegated_admin_is_replaced_only_when_allowed() {
    let o = applied().await;
    let mgmt = gd(&o.emu.sdk().await, "us-east-1");
    let other = o.all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0.clone();
    // Out of band, as an administrator must (change-guardduty-delegated-admin):
    // Security Tooling stops auto-enable and lets its members go before the
    // management account removes it; Log Archive takes over and enrolls everyone.
    release(&gd(&o.emu.sdk_in(&o.st).await, "us-east-1")).await;
    mgmt.disable_organization_admin_account().admin_account_id(&o.st).send().await.unwrap();
    mgmt.enable_organization_admin_account().admin_account_id(&other).send().await.unwrap();
    let former = gd(&o.emu.sdk_in(&other).await, "us-east-1");
    let detector = former.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    auto_enable(&former, &detector, AutoEnableMembers::All).await;
    let members = former.list_members().detector_id(&detector).send().await.unwrap();
    assert!(!members.members().is_empty(), "the other administrator has members");
    let refused = mgmt.disable_organization_admin_account().admin_account_id(&other).send().await;
    assert!(refused.is_err(), "AWS refuses to remove an administrator that still has members");

    let run = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(
        run.stdout.contains(&format!("DESTRUCTIVE: replaces the delegated administrator {other}")),
        "{}",
        run.stdout
    );
    // The JSON plan flags exactly that change as destructive, for programs to gate on.
    let json = o.emu.run(&["plan", &o.plan, "--format", "json"]);
    let doc = crate::common::valid_plan_json(&json.stdout);
    let flagged: Vec<&str> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["destructive"] == true)
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["guardduty[\"us-east-1\"].delegated_admin"]);
    let refused = o.emu.run(&["apply", &o.plan, "--auto-approve"]);
    refused.expect_code(1);
    assert!(refused.stderr.contains("refusing destructive changes"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-admin-change"), "{}", refused.stderr);
    let admins = mgmt.list_organization_admin_accounts().send().await.unwrap();
    assert_eq!(admins.admin_accounts()[0].admin_account_id(), Some(other.as_str()), "nothing changed");

    o.emu.run(&["apply", &o.plan, "--auto-approve", "--allow-admin-change"]).expect_code(0);
    let admins = mgmt.list_organization_admin_accounts().send().await.unwrap();
    assert_eq!(admins.admin_accounts()[0].admin_account_id(), Some(o.st.as_str()));
    // The documented sequence ran: the former administrator has no members left
    // and is no longer GuardDuty's delegated administrator in Organizations.
    let left = former.list_members().detector_id(&detector).only_associated("false").send().await.unwrap();
    assert!(left.members().is_empty(), "{:?}", left.members());
    let registered = o
        .emu
        .orgs()
        .await
        .list_delegated_administrators()
        .service_principal("guardduty.amazonaws.com")
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = registered.delegated_administrators().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, [o.st.as_str()]);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
}

/// What an administrator does before the management account removes it
/// (change-guardduty-delegated-admin.html): auto-enable off, members gone.
async fn release(admin: &aws_sdk_guardduty::Client) {
    let detector = admin.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    auto_enable(admin, &detector, AutoEnableMembers::None).await;
    let members = admin.list_members().detector_id(&detector).only_associated("false").send().await.unwrap();
    let ids: Vec<String> = members.members().iter().filter_map(|m| m.account_id().map(str::to_string)).collect();
    admin.disassociate_members().detector_id(&detector).set_account_ids(Some(ids.clone())).send().await.unwrap();
    admin.delete_members().detector_id(&detector).set_account_ids(Some(ids)).send().await.unwrap();
}

async fn auto_enable(admin: &aws_sdk_guardduty::Client, detector: &str, members: AutoEnableMembers) {
    let update = admin.update_organization_configuration().detector_id(detector);
    update.auto_enable_organization_members(members).send().await.unwrap();
}
