//! Detective delegated to Security Tooling in every governed region, the
//! organization behavior graph there, new accounts auto-enabled and every existing
//! account a member; drift restored; the 48-hour note shown when it is turned on.

use crate::common::{Emulator, MINIMAL, accounts};

fn detective(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_detective::Client {
    let conf =
        aws_sdk_detective::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_detective::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn detective_is_delegated_with_a_graph_covering_every_account_and_drift_is_restored() {
    let emu = Emulator::start();
    let plan = emu.plan_file(&crate::common::two_regions()).to_str().unwrap().to_string();
    let first = emu.run(&["plan", &plan]);
    first.expect_code(0);
    assert!(first.stdout.contains("+ detective[\"us-west-2\"].settings"), "{}", first.stdout);
    assert!(first.stdout.contains("Detective investigates GuardDuty's findings"), "{}", first.stdout);
    // GuardDuty, whose findings Detective investigates, is delegated first,
    // though "detective" sorts before "guardduty"; apply runs in plan order.
    let at = |s: &str| first.stdout.find(s).unwrap_or_else(|| panic!("{s} in:\n{}", first.stdout));
    assert!(at("guardduty[\"us-east-1\"].delegated_admin") < at("detective[\"us-east-1\"].delegated_admin"));
    let applied = emu.run(&["apply", &plan, "--auto-approve"]);
    applied.expect_code(0);
    let progress = |s: &str| applied.stderr.find(s).unwrap_or_else(|| panic!("{s} in:\n{}", applied.stderr));
    assert!(
        progress("guardduty[\"us-east-1\"].delegated_admin") < progress("detective[\"us-east-1\"].delegated_admin")
    );
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == "aws+security-tooling@example.com").unwrap().0.clone();
    let mgmt = emu.sdk().await;
    let admin = emu.sdk_in(&st).await;
    for region in ["us-east-1", "us-west-2"] {
        let listed = detective(&mgmt, region).list_organization_admin_accounts().send().await.unwrap();
        let ids: Vec<&str> = listed.administrators().iter().filter_map(|a| a.account_id()).collect();
        assert_eq!(ids, [st.as_str()], "{region}");
        let client = detective(&admin, region);
        let graphs = client.list_graphs().send().await.unwrap();
        let graph = graphs.graph_list()[0].arn().unwrap().to_string();
        let conf = client.describe_organization_configuration().graph_arn(&graph).send().await.unwrap();
        assert!(conf.auto_enable(), "{region}");
        let members = client.list_members().graph_arn(&graph).send().await.unwrap();
        let mut got: Vec<&str> = members.member_details().iter().filter_map(|m| m.account_id()).collect();
        got.sort();
        let mut want: Vec<&str> = all.iter().map(|a| a.0.as_str()).filter(|id| *id != st).collect();
        want.sort();
        assert_eq!(got, want, "{region}");
    }
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);

    // Out of band: auto-enable off in one region.
    let client = detective(&admin, "us-west-2");
    let graph = client.list_graphs().send().await.unwrap().graph_list()[0].arn().unwrap().to_string();
    client.update_organization_configuration().graph_arn(&graph).auto_enable(false).send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("~ detective[\"us-west-2\"].settings"), "{}", run.stdout);
    assert!(run.stdout.contains("~ auto_enable = false -> true"), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn turning_guardduty_off_warns_that_detective_needs_it() {
    let emu = Emulator::start();
    let text = format!("{MINIMAL}\n[services.guardduty]\nenabled = false\n");
    let plan = emu.plan_file(&text).to_str().unwrap().to_string();
    let run = emu.run(&["plan", &plan]);
    run.expect_code(0);
    assert!(run.stdout.contains("WARNING: [services.guardduty] is off"), "{}", run.stdout);
}
