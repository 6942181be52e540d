//! Security Hub delegated to Security Tooling in every governed region: hub,
//! organization configuration, standards, a finding aggregator in the home
//! region, and members, read back; then drift in each is restored.

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
    all: Vec<(String, String, String, String)>,
}

async fn applied() -> Org {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == ST_EMAIL).unwrap().0.clone();
    Org { emu, plan, st, all }
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
        assert_eq!(conf.auto_enable(), Some(true), "{region}");
        let subs = client.get_enabled_standards().send().await.unwrap();
        let mut arns: Vec<&str> = subs.standards_subscriptions().iter().filter_map(|s| s.standards_arn()).collect();
        arns.sort();
        assert_eq!(
            arns,
            [
                format!("arn:aws:securityhub:{region}::standards/{FSBP}"),
                format!("arn:aws:securityhub:{region}::standards/{CIS}")
            ]
        );
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
    // Security Hub registered its administrator with Organizations, as AWS does.
    let registered = o.emu.orgs().await.list_delegated_administrators().service_principal("securityhub.amazonaws.com");
    let registered = registered.send().await.unwrap();
    let ids: Vec<&str> = registered.delegated_administrators().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, [o.st.as_str()]);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_standard_is_drift() {
    let o = applied().await;
    let client = sh(&o.emu.sdk_in(&o.st).await, "us-west-2");
    let subs = client.get_enabled_standards().send().await.unwrap();
    let cis = subs.standards_subscriptions().iter().find(|s| s.standards_arn().unwrap().contains("cis")).unwrap();
    client
        .batch_disable_standards()
        .standards_subscription_arns(cis.standards_subscription_arn().unwrap())
        .send()
        .await
        .unwrap();
    expect_one_drift(&o, "~ securityhub[\"us-west-2\"].settings", &format!("standards.{CIS}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_enable_turned_off_is_drift() {
    let o = applied().await;
    let client = sh(&o.emu.sdk_in(&o.st).await, "us-east-1");
    client.update_organization_configuration().auto_enable(false).send().await.unwrap();
    expect_one_drift(&o, "~ securityhub[\"us-east-1\"].settings", "~ auto_enable = false -> true");
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

/// An organization switched to Security Hub central configuration: AutoEnable
/// can no longer be set (AWS refuses it), so the plan shows what a person must
/// see to (configuration policies) and apply sends nothing that AWS refuses.
#[tokio::test(flavor = "multi_thread")]
async fn central_configuration_is_left_to_its_policies() {
    use aws_sdk_securityhub::types::{
        AutoEnableStandards, OrganizationConfiguration, OrganizationConfigurationConfigurationType,
    };
    let o = applied().await;
    let client = sh(&o.emu.sdk_in(&o.st).await, "us-east-1");
    let central = OrganizationConfiguration::builder()
        .configuration_type(OrganizationConfigurationConfigurationType::Central)
        .status(aws_sdk_securityhub::types::OrganizationConfigurationStatus::Enabled)
        .build();
    client
        .update_organization_configuration()
        .auto_enable(false)
        .auto_enable_standards(AutoEnableStandards::None)
        .organization_configuration(central)
        .send()
        .await
        .unwrap();
    let run = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 0 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("central configuration"), "{}", run.stdout);
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
}
