//! Macie delegated to Security Tooling in every governed region, on there, new
//! accounts auto-enabled and every existing account a member; drift restored.

use crate::common::{Emulator, accounts};

fn macie(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_macie2::Client {
    let conf =
        aws_sdk_macie2::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_macie2::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn macie_is_delegated_enabled_covers_every_account_and_drift_is_restored() {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let all = accounts(&emu.orgs().await).await;
    let st = all.iter().find(|a| a.2 == "aws+security-tooling@example.com").unwrap().0.clone();
    let mgmt = emu.sdk().await;
    let admin = emu.sdk_in(&st).await;
    for region in ["us-east-1", "us-west-2"] {
        let listed = macie(&mgmt, region).list_organization_admin_accounts().send().await.unwrap();
        let ids: Vec<&str> = listed.admin_accounts().iter().filter_map(|a| a.account_id()).collect();
        assert_eq!(ids, [st.as_str()], "{region}");
        let client = macie(&admin, region);
        assert_eq!(client.get_macie_session().send().await.unwrap().status().map(|s| s.as_str()), Some("ENABLED"));
        assert_eq!(client.describe_organization_configuration().send().await.unwrap().auto_enable(), Some(true));
        let members = client.list_members().only_associated("false").send().await.unwrap();
        let mut got: Vec<&str> = members.members().iter().filter_map(|m| m.account_id()).collect();
        got.sort();
        let mut want: Vec<&str> = all.iter().map(|a| a.0.as_str()).filter(|id| *id != st).collect();
        want.sort();
        assert_eq!(got, want, "{region}");
    }
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);

    macie(&admin, "us-west-2").update_organization_configuration().auto_enable(false).send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("~ macie[\"us-west-2\"].settings"), "{}", run.stdout);
    assert!(run.stdout.contains("~ auto_enable = false -> true"), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}
