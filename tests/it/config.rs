//! AWS Config: recorders in Security Tooling and Log Archive in every governed
//! region delivering to the log bucket, an organization aggregator in Security
//! Tooling over the governed regions; a stopped recorder is drift apply restores.

use crate::common::{Emulator, MINIMAL, accounts};

fn config(sdk: &aws_config::SdkConfig, region: &str) -> aws_sdk_config::Client {
    let conf = aws_sdk_config::config::Builder::from(sdk).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_config::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn recorders_deliver_to_the_log_bucket_the_aggregator_covers_the_regions_and_drift_is_restored() {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let all = accounts(&emu.orgs().await).await;
    let id = |email: &str| all.iter().find(|a| a.2 == email).unwrap().0.clone();
    let (st, la) = (id("aws+security-tooling@example.com"), id("aws+log-archive@example.com"));
    let bucket = format!("sra-org-trail-logs-{la}-us-east-1");
    for account in [&st, &la] {
        let sdk = emu.sdk_in(account).await;
        for region in ["us-east-1", "us-west-2"] {
            let c = config(&sdk, region);
            let recorders = c.describe_configuration_recorders().send().await.unwrap();
            let [recorder] = recorders.configuration_recorders() else { panic!("{account} {region}: {recorders:?}") };
            let group = recorder.recording_group().unwrap();
            assert!(group.all_supported(), "{account} {region}");
            assert_eq!(group.include_global_resource_types(), region == "us-east-1", "{account} {region}");
            let status = c.describe_configuration_recorder_status().send().await.unwrap();
            assert!(status.configuration_recorders_status()[0].recording(), "{account} {region}");
            let channels = c.describe_delivery_channels().send().await.unwrap();
            let channel = &channels.delivery_channels()[0];
            assert_eq!(channel.s3_bucket_name(), Some(bucket.as_str()), "{account} {region}");
            assert!(channel.s3_kms_key_arn().is_some_and(|k| k.contains(&la)), "{account} {region}");
        }
    }
    let aggregators =
        config(&emu.sdk_in(&st).await, "us-east-1").describe_configuration_aggregators().send().await.unwrap();
    let source = aggregators.configuration_aggregators()[0].organization_aggregation_source().unwrap();
    let mut regions = source.aws_regions().to_vec();
    regions.sort();
    assert_eq!(regions, ["us-east-1", "us-west-2"]);
    assert!(source.role_arn().contains(&st));
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);

    // Out of band: someone stops Log Archive's recorder in us-west-2.
    let c = config(&emu.sdk_in(&la).await, "us-west-2");
    c.stop_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("~ config[\"us-west-2\"].recorder.log_archive"), "{}", run.stdout);
    assert!(run.stdout.contains("~ recording = \"off\" -> \"on\""), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// A role IAM just created is not usable by AWS Config at once (the emulator's
/// `role_delay_seconds`; AWS answers InvalidRoleException), and Config's
/// delegation takes a while to reach Security Tooling: apply waits for both,
/// with progress, and converges.
#[test]
fn apply_waits_until_config_can_use_a_new_role_and_its_delegation() {
    let emu = Emulator::start();
    emu.configure(r#"{"role_delay_seconds": 6, "delegation_delay_seconds": 3}"#);
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    let run = emu.run(&["apply", &plan, "--auto-approve"]);
    run.expect_code(0);
    assert!(run.stderr.contains("Config us-east-1: waiting for the new role to become usable"), "{}", run.stderr);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// Control Tower's recorder and channel (#20): its mandatory controls protect
/// them and they deliver to Control Tower's bucket. sra leaves them as they are,
/// says so in the plan (a note, not a change: exit 0), and apply writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn control_towers_recorder_is_left_as_it_is_and_reported() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let la = all.iter().find(|a| a.2 == "aws+log-archive@example.com").unwrap().0.clone();
    // Log Archive as a Control Tower landing zone has it: its recorder, not sra's.
    let c = config(&emu.sdk_in(&la).await, "us-east-1");
    c.stop_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    c.delete_delivery_channel().delivery_channel_name("default").send().await.unwrap();
    c.delete_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let iam = aws_sdk_iam::Client::new(&emu.sdk_in(&la).await);
    let made = iam.create_role().role_name("aws-controltower-ConfigRecorderRole").assume_role_policy_document(trust);
    let role = made.send().await.unwrap().role().unwrap().arn().to_string();
    let group = aws_sdk_config::types::RecordingGroup::builder()
        .all_supported(true)
        .include_global_resource_types(false)
        .build();
    let recorder = aws_sdk_config::types::ConfigurationRecorder::builder()
        .name("aws-controltower-BaselineConfigRecorder")
        .role_arn(&role)
        .recording_group(group)
        .build();
    c.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    let s3 = aws_sdk_s3::Client::new(&emu.sdk_in(&la).await);
    s3.create_bucket().bucket("aws-controltower-logs-example").send().await.unwrap();
    let channel = aws_sdk_config::types::DeliveryChannel::builder()
        .name("aws-controltower-BaselineConfigDeliveryChannel")
        .s3_bucket_name("aws-controltower-logs-example")
        .build();
    c.put_delivery_channel().delivery_channel(channel).send().await.unwrap();
    c.start_configuration_recorder()
        .configuration_recorder_name("aws-controltower-BaselineConfigRecorder")
        .send()
        .await
        .unwrap();

    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("note: config[\"us-east-1\"].recorder.log_archive: Control Tower's \"aws-controltower-BaselineConfigRecorder\" is left as it is"),
        "{}",
        run.stdout
    );
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let channels = c.describe_delivery_channels().send().await.unwrap();
    assert_eq!(channels.delivery_channels()[0].s3_bucket_name(), Some("aws-controltower-logs-example"));
    let recorders = c.describe_configuration_recorders().send().await.unwrap();
    let group = recorders.configuration_recorders()[0].recording_group().unwrap();
    assert!(!group.include_global_resource_types(), "Control Tower's recording group is left as it was");
}
