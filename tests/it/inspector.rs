//! Inspector delegated to Security Tooling in every governed region, with scans
//! auto-enabled and every account associated; drift restored.

use crate::common::{Emulator, accounts};

fn inspector(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_inspector2::Client {
    let conf =
        aws_sdk_inspector2::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_inspector2::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn inspector_is_delegated_configured_and_covers_every_account_and_drift_is_restored() {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == "aws+security-tooling@example.com").unwrap().0.clone();
    let mgmt = emu.sdk().await;
    let admin = emu.sdk_in(&st).await;
    for region in ["us-east-1", "us-west-2"] {
        let listed = inspector(&mgmt, region).list_delegated_admin_accounts().send().await.unwrap();
        let ids: Vec<&str> = listed.delegated_admin_accounts().iter().filter_map(|a| a.account_id()).collect();
        assert_eq!(ids, [st.as_str()], "{region}");
        let client = inspector(&admin, region);
        let conf = client.describe_organization_configuration().send().await.unwrap();
        let ae = conf.auto_enable().unwrap();
        assert!(
            ae.ec2() && ae.ecr() && ae.lambda() == Some(true) && ae.lambda_code() == Some(true),
            "{region}: {ae:?}"
        );
        let members = client.list_members().send().await.unwrap();
        let mut got: Vec<&str> = members.members().iter().filter_map(|m| m.account_id()).collect();
        got.sort();
        let mut want: Vec<&str> = all.iter().map(|a| a.0.as_str()).filter(|id| *id != st).collect();
        want.sort();
        assert_eq!(got, want, "{region}");
    }
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);

    // drift: ECR scanning no longer auto-enabled in one region
    let client = inspector(&admin, "us-west-2");
    let auto = aws_sdk_inspector2::types::AutoEnable::builder()
        .ec2(true)
        .ecr(false)
        .lambda(true)
        .lambda_code(true)
        .build()
        .unwrap();
    client.update_organization_configuration().auto_enable(auto).send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("~ inspector[\"us-west-2\"].settings"), "{}", run.stdout);
    assert!(run.stdout.contains("~ auto_enable.ecr = false -> true"), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);

    // drift: an account left Inspector in one region
    let removed = all.iter().find(|a| a.0 != st).unwrap().0.clone();
    inspector(&admin, "us-east-1").disassociate_member().account_id(&removed).send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains(&format!("(not enrolled: {removed})")), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
    // Every account scans, Security Tooling's own included, as each reads itself.
    let org = emu.orgs().await.describe_organization().send().await.unwrap();
    let management = org.organization().unwrap().master_account_id().unwrap().to_string();
    for (id, ..) in &all {
        let own = match id {
            id if *id == st => admin.clone(),
            id if *id == management => mgmt.clone(),
            id => emu.sdk_in(id).await,
        };
        let status = inspector(&own, "us-west-2").batch_get_account_status().send().await.unwrap();
        let r = status.accounts()[0].resource_state().unwrap();
        let on = |s: Option<&aws_sdk_inspector2::types::State>| {
            s.is_some_and(|s| *s.status() == aws_sdk_inspector2::types::Status::Enabled)
        };
        assert!(on(r.ec2()) && on(r.ecr()) && on(r.lambda()) && on(r.lambda_code()), "{id}: {r:?}");
    }

    // drift: a member stops its own Lambda scans, and Security Tooling its EC2
    // scans; associated is not covered.
    let removed = all.iter().find(|a| a.0 != st && a.0 != management).unwrap().0.clone();
    let member = emu.sdk_in(&removed).await;
    let lambda = aws_sdk_inspector2::types::ResourceScanType::Lambda;
    inspector(&member, "us-west-2").disable().resource_types(lambda).send().await.unwrap();
    let ec2 = aws_sdk_inspector2::types::ResourceScanType::Ec2;
    inspector(&admin, "us-west-2").disable().account_ids(&st).resource_types(ec2).send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("~ inspector[\"us-west-2\"].coverage"), "{}", run.stdout);
    let line = run.stdout.lines().find(|l| l.contains("~ members = ")).unwrap_or_default();
    assert!(line.contains("1 of 3 accounts (not enrolled: "), "{}", run.stdout);
    assert!(line.contains(&removed) && line.contains(&st), "{}", run.stdout);
    assert!(!run.stdout.contains("inspector[\"us-east-1\"].coverage"), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// Inspector's administrator must be the same in every Region (designating-admin:
/// "If you have designated an account as a delegated administrator in one Region,
/// that account must be your delegated administrator in all other Regions").
/// Replacing another administrator therefore removes it everywhere before
/// delegating to Security Tooling anywhere.
#[tokio::test(flavor = "multi_thread")]
async fn another_administrator_in_every_region_is_replaced_everywhere_first() {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == "aws+security-tooling@example.com").unwrap().0.clone();
    let la = all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0.clone();
    let mgmt = emu.sdk().await;
    for region in ["us-east-1", "us-west-2"] {
        inspector(&mgmt, region)
            .disable_delegated_admin_account()
            .delegated_admin_account_id(&st)
            .send()
            .await
            .unwrap();
    }
    for region in ["us-east-1", "us-west-2"] {
        inspector(&mgmt, region).enable_delegated_admin_account().delegated_admin_account_id(&la).send().await.unwrap();
    }
    // The emulator holds Inspector to one administrator across Regions.
    let mixed = inspector(&mgmt, "us-east-1").disable_delegated_admin_account().delegated_admin_account_id(&la).send();
    mixed.await.unwrap();
    let refused = inspector(&mgmt, "us-east-1").enable_delegated_admin_account().delegated_admin_account_id(&st).send();
    assert!(refused.await.is_err(), "another Region still has {la}");
    inspector(&mgmt, "us-east-1")
        .enable_delegated_admin_account()
        .delegated_admin_account_id(&la)
        .send()
        .await
        .unwrap();

    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert_eq!(run.stdout.matches(&format!("DESTRUCTIVE: replaces the delegated administrator {la}")).count(), 2);
    emu.run(&["apply", &plan, "--auto-approve", "--allow-admin-change"]).expect_code(0);
    for region in ["us-east-1", "us-west-2"] {
        let listed = inspector(&mgmt, region).list_delegated_admin_accounts().send().await.unwrap();
        let ids: Vec<&str> = listed.delegated_admin_accounts().iter().filter_map(|a| a.account_id()).collect();
        assert_eq!(ids, [st.as_str()], "{region}");
    }
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}
