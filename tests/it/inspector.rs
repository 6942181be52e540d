//! Inspector delegated to Security Tooling in every governed region, with scans
//! auto-enabled and every account associated; drift restored.

use crate::common::{Emulator, MINIMAL, accounts};

fn inspector(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_inspector2::Client {
    let conf =
        aws_sdk_inspector2::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_inspector2::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn inspector_is_delegated_configured_and_covers_every_account_and_drift_is_restored() {
    let emu = Emulator::start();
    let text = MINIMAL.replace(
        "home_region = \"us-east-1\"",
        "home_region = \"us-east-1\"\ngoverned_regions = [\"us-east-1\", \"us-west-2\"]",
    );
    let plan = emu.plan_file(&text).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
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
}
