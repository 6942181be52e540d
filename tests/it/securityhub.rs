//! Security Hub delegated to Security Tooling in every governed region: hub,
//! members, a finding aggregator in the home region and central configuration
//! (one policy on the root: the plan's standards in every account and region,
//! read inside each account), read back; then drift in each is restored.

use crate::common::{Emulator, accounts};

const ST_EMAIL: &str = "aws+security-tooling@example.com";
const FSBP: &str = "aws-foundational-security-best-practices/v/1.0.0";
const CIS: &str = "cis-aws-foundations-benchmark/v/1.4.0";

fn sh(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_securityhub::Client {
    let conf =
        aws_sdk_securityhub::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_securityhub::Client::from_conf(conf)
}

struct Org {
    emu: Emulator,
    plan: String,
    st: String,
    mgmt: String,
    all: Vec<(String, String, String, String)>,
}

async fn applied() -> Org {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let orgs = emu.orgs().await;
    let all = accounts(&orgs).await;
    let st = all.iter().find(|a| a.2 == ST_EMAIL).unwrap().0.clone();
    let mgmt = orgs.describe_organization().send().await.unwrap();
    let mgmt = mgmt.organization().unwrap().master_account_id().unwrap().to_string();
    Org { emu, plan, st, mgmt, all }
}

fn expect_one_drift(o: &Org, address: &str, property: &str) {
    let run = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    assert!(run.stdout.contains(address), "{address}\n{}", run.stdout);
    assert!(run.stdout.contains(property), "{property}\n{}", run.stdout);
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
}

/// Every active account's enabled standards in `region`, read inside it (sorted
/// `<name>/v/<version>`).
async fn standards_inside(o: &Org, account: &str, region: &str) -> Vec<String> {
    let config = if account == o.mgmt { o.emu.sdk().await } else { o.emu.sdk_in(account).await };
    let subs = sh(&config, region).get_enabled_standards().send().await.unwrap();
    let mut got: Vec<String> = subs
        .standards_subscriptions()
        .iter()
        .filter_map(|s| s.standards_arn()?.split_once("::standards/").map(|(_, s)| s.to_string()))
        .collect();
    got.sort();
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn one_apply_sets_up_security_hub_in_every_region() {
    let o = applied().await;
    let mgmt = o.emu.sdk().await;
    let admin = o.emu.sdk_in(&o.st).await;
    for region in ["us-east-1", "us-west-2"] {
        let admins = sh(&mgmt, region).list_organization_admin_accounts().send().await.unwrap();
        let ids: Vec<&str> = admins.admin_accounts().iter().filter_map(|a| a.account_id()).collect();
        assert_eq!(ids, [o.st.as_str()], "{region}");
        let client = sh(&admin, region);
        client.describe_hub().send().await.unwrap();
        let conf = client.describe_organization_configuration().send().await.unwrap();
        let kind = conf.organization_configuration().and_then(|c| c.configuration_type()).map(|t| t.as_str());
        assert_eq!(kind, Some("CENTRAL"), "{region}");
        // The plan's standards in every active account, read inside each.
        for account in o.all.iter().map(|a| a.0.as_str()) {
            assert_eq!(standards_inside(&o, account, region).await, [FSBP, CIS], "{account} in {region}");
        }
        let members = client.list_members().only_associated(false).send().await.unwrap();
        let mut got: Vec<&str> = members.members().iter().filter_map(|m| m.account_id()).collect();
        got.sort();
        let mut want: Vec<&str> = o.all.iter().map(|a| a.0.as_str()).filter(|id| *id != o.st).collect();
        want.sort();
        assert_eq!(got, want, "{region}: every account but the admin is a member");
    }
    let home = sh(&admin, "us-east-1");
    let aggs = home.list_finding_aggregators().send().await.unwrap();
    let arn = aggs.finding_aggregators()[0].finding_aggregator_arn().unwrap();
    let agg = home.get_finding_aggregator().finding_aggregator_arn(arn).send().await.unwrap();
    assert_eq!(agg.regions(), ["us-west-2"]);
    assert_eq!(agg.finding_aggregation_region(), Some("us-east-1"));
    // One policy, on the root.
    let policies = home.list_configuration_policies().send().await.unwrap();
    let names: Vec<&str> = policies.configuration_policy_summaries().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names, ["sra-organization"]);
    // Security Hub registered its administrator with Organizations, as AWS does.
    let registered = o.emu.orgs().await.list_delegated_administrators().service_principal("securityhub.amazonaws.com");
    let registered = registered.send().await.unwrap();
    let ids: Vec<&str> = registered.delegated_administrators().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, [o.st.as_str()]);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);

    // An account that joins later has the standards with no apply: it inherits
    // the root's policy.
    let later = o.emu.boto3(
        "import time\norgs = client('organizations')\n\
         req = orgs.create_account(AccountName='Later', Email='later@corp.example')['CreateAccountStatus']['Id']\n\
         time.sleep(0.1)\n\
         print(orgs.describe_create_account_status(CreateAccountRequestId=req)['CreateAccountStatus']['AccountId'])",
    );
    for region in ["us-east-1", "us-west-2"] {
        assert_eq!(standards_inside(&o, later.trim(), region).await, [FSBP, CIS], "{region}");
    }
}

/// A member cannot turn a standard off (the policy manages its account), as an
/// attacker inside it would try; a root taken off the policy by the
/// administrator is drift, and apply puts it back.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_cannot_disable_a_standard_and_a_self_managed_root_is_drift() {
    let o = applied().await;
    let la = o.all.iter().find(|a| a.0 != o.st && a.0 != o.mgmt).unwrap().0.clone();
    let member = sh(&o.emu.sdk_in(&la).await, "us-west-2");
    let subs = member.get_enabled_standards().send().await.unwrap();
    let cis = subs.standards_subscriptions().iter().find(|s| s.standards_arn().unwrap().contains("cis")).unwrap();
    let refused = member
        .batch_disable_standards()
        .standards_subscription_arns(cis.standards_subscription_arn().unwrap())
        .send()
        .await;
    let code = refused.err().and_then(|e| e.into_service_error().meta().code().map(str::to_string));
    assert_eq!(code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(standards_inside(&o, &la, "us-west-2").await, [FSBP, CIS]);

    let admin = sh(&o.emu.sdk_in(&o.st).await, "us-east-1");
    let root = o.emu.orgs().await.list_roots().send().await.unwrap().roots()[0].id().unwrap().to_string();
    admin
        .start_configuration_policy_association()
        .configuration_policy_identifier("SELF_MANAGED_SECURITY_HUB")
        .target(aws_sdk_securityhub::types::Target::RootId(root))
        .send()
        .await
        .unwrap();
    expect_one_drift(
        &o,
        "~ securityhub[\"us-east-1\"].settings",
        "~ root_policy = \"SELF_MANAGED_SECURITY_HUB\" -> \"sra-organization\"",
    );
}

/// The policy's standards changed out of band: exactly that drift, and every
/// account follows the restored policy.
#[tokio::test(flavor = "multi_thread")]
async fn a_policy_with_fewer_standards_is_drift() {
    use aws_sdk_securityhub::types::{Policy, SecurityControlsConfiguration, SecurityHubPolicy};
    let o = applied().await;
    let admin = sh(&o.emu.sdk_in(&o.st).await, "us-east-1");
    let listed = admin.list_configuration_policies().send().await.unwrap();
    let id = listed.configuration_policy_summaries()[0].id().unwrap().to_string();
    let fewer = SecurityHubPolicy::builder()
        .service_enabled(true)
        .enabled_standard_identifiers(format!("arn:aws:securityhub:us-east-1::standards/{FSBP}"))
        .security_controls_configuration(
            SecurityControlsConfiguration::builder().set_disabled_security_control_identifiers(Some(vec![])).build(),
        )
        .build();
    admin
        .update_configuration_policy()
        .identifier(&id)
        .configuration_policy(Policy::SecurityHub(fewer))
        .send()
        .await
        .unwrap();
    assert_eq!(standards_inside(&o, &o.mgmt, "us-west-2").await, [FSBP]);
    expect_one_drift(
        &o,
        "~ securityhub[\"us-east-1\"].settings",
        &format!("~ policy.sra-organization.standards = \"{FSBP}\" -> \"{FSBP}, {CIS}\""),
    );
    assert_eq!(standards_inside(&o, &o.mgmt, "us-west-2").await, [FSBP, CIS]);
}

/// Security Hub keeps the organization's accounts: "You can't invoke this API to
/// delete accounts that belong to an Organizations organization"
/// (API_DeleteMembers). A member leaves coverage by disassociation (below).
#[tokio::test(flavor = "multi_thread")]
async fn an_organization_account_cannot_be_deleted_as_a_member() {
    let o = applied().await;
    let client = sh(&o.emu.sdk_in(&o.st).await, "us-east-1");
    let member = o.all.iter().find(|a| a.0 != o.st).unwrap().0.clone();
    let out = client.delete_members().account_ids(&member).send().await.unwrap();
    let refused: Vec<&str> = out.unprocessed_accounts().iter().filter_map(|u| u.account_id()).collect();
    assert_eq!(refused, [member.as_str()]);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
}

/// A disassociated member is still listed, but not covered: coverage counts
/// enabled members only, and apply associates it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_disassociated_member_is_not_covered() {
    let o = applied().await;
    let client = sh(&o.emu.sdk_in(&o.st).await, "us-east-1");
    let member = o.all.iter().find(|a| a.0 != o.st).unwrap().0.clone();
    client.disassociate_members().account_ids(&member).send().await.unwrap();
    let listed = client.list_members().only_associated(false).send().await.unwrap();
    assert!(listed.members().iter().any(|m| m.account_id() == Some(member.as_str())), "still listed");
    expect_one_drift(&o, "~ securityhub[\"us-east-1\"].coverage", &format!("(not enrolled: {member})"));
    let listed = client.list_members().only_associated(true).send().await.unwrap();
    assert!(listed.members().iter().any(|m| m.account_id() == Some(member.as_str())), "associated again");
}

/// An organization on local configuration (here: switched back by its
/// administrator, which deletes the policies) moves to central configuration in a
/// reviewed change that says why.
#[tokio::test(flavor = "multi_thread")]
async fn local_configuration_moves_to_central_with_a_reason() {
    use aws_sdk_securityhub::types::{
        AutoEnableStandards, OrganizationConfiguration, OrganizationConfigurationConfigurationType,
    };
    let o = applied().await;
    let client = sh(&o.emu.sdk_in(&o.st).await, "us-east-1");
    let local = OrganizationConfiguration::builder()
        .configuration_type(OrganizationConfigurationConfigurationType::Local)
        .build();
    client
        .update_organization_configuration()
        .auto_enable(true)
        .auto_enable_standards(AutoEnableStandards::Default)
        .organization_configuration(local)
        .send()
        .await
        .unwrap();
    let run = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    let line = run.stdout.lines().find(|l| l.trim_start().starts_with("~ configuration ")).unwrap_or_default();
    assert!(line.ends_with("= \"LOCAL\" -> \"CENTRAL\""), "{}", run.stdout);
    assert!(run.stdout.contains("Security Hub moves from local to central configuration"), "{}", run.stdout);
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
    for account in o.all.iter().map(|a| a.0.as_str()) {
        assert_eq!(standards_inside(&o, account, "us-west-2").await, [FSBP, CIS], "{account}");
    }
}
