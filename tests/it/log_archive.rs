//! Log Archive against the emulator: the trail, its key and both buckets, set up
//! from an empty organization and read back setting by setting; then each drift
//! made out of band shows as exactly that drift, and apply restores it.

use crate::common::{Emulator, MINIMAL, accounts};
use aws_sdk_s3::types::{BucketVersioningStatus, PublicAccessBlockConfiguration, VersioningConfiguration};
use serde_json::Value;

const LA_EMAIL: &str = "aws+log-archive@example.com";
const TRAIL: &str = "sra-organization-trail";

struct Applied {
    emu: Emulator,
    plan: String,
    la: String,
}

impl Applied {
    fn log_bucket(&self) -> String {
        format!("sra-org-trail-logs-{}-us-east-1", self.la)
    }
    fn access_bucket(&self) -> String {
        format!("sra-s3-access-logs-{}-us-east-1", self.la)
    }
    async fn la_config(&self) -> aws_config::SdkConfig {
        self.emu.sdk_in(&self.la).await
    }
    async fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::new(&self.la_config().await)
    }
    async fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.emu.sdk().await)
    }
}

async fn applied() -> Applied {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let la = all.iter().find(|a| a.2 == LA_EMAIL).unwrap().0.clone();
    Applied { emu, plan, la }
}

/// Plan shows exactly the drift described (one resource updated, these changed
/// properties and nothing else), apply restores it, and plan is clean again.
fn expect_drift(a: &Applied, resource: &str, properties: &[&str]) {
    let run = a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    let out = &run.stdout;
    assert!(out.contains("Plan: 0 to create, 1 to update"), "exactly one resource drifted:\n{out}");
    assert!(out.contains(&format!("~ {resource} (")), "{resource} is the one:\n{out}");
    let changed: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("~ "))
        .filter(|l| !l.contains(" will be "))
        .map(|l| l.split([' ', ':']).next().unwrap())
        .collect();
    assert_eq!(changed, properties, "changed properties:\n{out}");
    a.emu.run(&["apply", &a.plan, "--auto-approve"]).expect_code(0);
    let after = a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]);
    after.expect_code(0);
    assert!(after.stdout.contains("No changes."), "{}", after.stdout);
}

fn sids(policy: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(policy).unwrap();
    v["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_sets_every_setting_then_plan_shows_no_changes() {
    let a = applied().await;
    a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]).expect_code(0);
    let la_cfg = a.la_config().await;

    // the key, in Log Archive
    let kms = aws_sdk_kms::Client::new(&la_cfg);
    let key = kms.describe_key().key_id("alias/sra-organization-trail").send().await.unwrap();
    let key = key.key_metadata().unwrap();
    let key_arn = key.arn().unwrap().to_string();
    assert!(key.enabled());
    assert!(kms.get_key_rotation_status().key_id(key.key_id()).send().await.unwrap().key_rotation_enabled());
    let key_policy = kms.get_key_policy().key_id(key.key_id()).policy_name("default").send().await.unwrap();
    let key_policy = key_policy.policy().unwrap();
    assert!(sids(key_policy).contains(&"CloudTrailEncryptsForThisTrail".to_string()), "{key_policy}");
    assert!(key_policy.contains(&format!("arn:aws:cloudtrail:us-east-1:123456789012:trail/{TRAIL}")), "{key_policy}");

    // the account's Block Public Access (S3 Control, read with boto3 through the
    // emulator as proxy: the Rust SDK here does not route the account-id host)
    let pab = a.emu.boto3(&format!(
        "c = client('s3control', '{}'); print(json.dumps(c.get_public_access_block(AccountId='{}')['PublicAccessBlockConfiguration']))",
        a.la, a.la
    ));
    let pab: Value = serde_json::from_str(pab.trim()).unwrap();
    for flag in ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"] {
        assert_eq!(pab[flag], Value::Bool(true), "{flag}: {pab}");
    }

    // both buckets
    let s3 = a.s3().await;
    for (bucket, algorithm) in [(a.log_bucket(), "aws:kms"), (a.access_bucket(), "AES256")] {
        let pab = s3.get_public_access_block().bucket(&bucket).send().await.unwrap();
        let pab = pab.public_access_block_configuration().unwrap();
        assert_eq!(
            [
                pab.block_public_acls(),
                pab.ignore_public_acls(),
                pab.block_public_policy(),
                pab.restrict_public_buckets()
            ],
            [Some(true); 4],
            "{bucket}"
        );
        let v = s3.get_bucket_versioning().bucket(&bucket).send().await.unwrap();
        assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled), "{bucket}");
        let enc = s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap();
        let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
        let default = rule.apply_server_side_encryption_by_default().unwrap();
        assert_eq!(default.sse_algorithm().as_str(), algorithm, "{bucket}");
        if algorithm == "aws:kms" {
            assert_eq!(default.kms_master_key_id(), Some(key_arn.as_str()));
            assert_eq!(rule.bucket_key_enabled(), Some(true));
        }
        let own = s3.get_bucket_ownership_controls().bucket(&bucket).send().await.unwrap();
        assert_eq!(own.ownership_controls().unwrap().rules()[0].object_ownership().as_str(), "BucketOwnerEnforced");
        let lc = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap();
        let rule = &lc.rules()[0];
        assert_eq!(rule.id(), Some("sra-log-retention"));
        assert_eq!(rule.transitions()[0].days(), Some(90));
        assert_eq!(rule.noncurrent_version_expiration().unwrap().noncurrent_days(), Some(365));
        let policy = s3.get_bucket_policy().bucket(&bucket).send().await.unwrap();
        let got = sids(policy.policy().unwrap());
        for sid in ["DenyInsecureTransport", "DenyOutsideOrganization", "DenyWeakeningTheBucket", "DenyDeletingLogs"] {
            assert!(got.contains(&sid.to_string()), "{bucket}: {got:?}");
        }
    }
    let log_policy = s3.get_bucket_policy().bucket(a.log_bucket()).send().await.unwrap();
    assert!(sids(log_policy.policy().unwrap()).contains(&"CloudTrailWrite".to_string()));
    let access_policy = s3.get_bucket_policy().bucket(a.access_bucket()).send().await.unwrap();
    assert!(sids(access_policy.policy().unwrap()).contains(&"S3ServerAccessLogsWrite".to_string()));
    let logging = s3.get_bucket_logging().bucket(a.log_bucket()).send().await.unwrap();
    assert_eq!(logging.logging_enabled().unwrap().target_bucket(), a.access_bucket());

    // the organization trail, in the management account
    let ct = a.cloudtrail().await;
    let trail = ct.get_trail().name(TRAIL).send().await.unwrap();
    let trail = trail.trail().unwrap();
    assert_eq!(trail.s3_bucket_name(), Some(a.log_bucket().as_str()));
    assert_eq!(trail.is_organization_trail(), Some(true));
    assert_eq!(trail.is_multi_region_trail(), Some(true));
    assert_eq!(trail.include_global_service_events(), Some(true));
    assert_eq!(trail.log_file_validation_enabled(), Some(true));
    assert_eq!(trail.kms_key_id(), Some(key_arn.as_str()));
    assert_eq!(ct.get_trail_status().name(TRAIL).send().await.unwrap().is_logging(), Some(true));
    let sel = ct.get_event_selectors().trail_name(TRAIL).send().await.unwrap();
    assert_eq!(sel.advanced_event_selectors()[0].field_selectors()[0].equals(), ["Management"]);
    // The name the console writes, and scanners look for (CloudTrail guide,
    // logging-management-events-with-cloudtrail.html).
    assert_eq!(sel.advanced_event_selectors()[0].name(), Some("Management events selector"));

    let orgs = a.emu.orgs().await;
    let access = orgs.list_aws_service_access_for_organization().send().await.unwrap();
    assert!(
        access.enabled_service_principals().iter().any(|p| p.service_principal() == Some("cloudtrail.amazonaws.com"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn loosened_bucket_policy_is_drift() {
    let a = applied().await;
    let s3 = a.s3().await;
    let policy = s3.get_bucket_policy().bucket(a.log_bucket()).send().await.unwrap();
    let mut doc: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    doc["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "DenyOutsideOrganization");
    s3.put_bucket_policy().bucket(a.log_bucket()).policy(doc.to_string()).send().await.unwrap();
    let run = a.emu.run(&["plan", &a.plan]);
    assert!(
        run.stdout.contains("+ ") && run.stdout.contains("\"DenyOutsideOrganization\""),
        "the diff shows the statement:\n{}",
        run.stdout
    );
    expect_drift(&a, "log_archive.log_bucket", &["policy"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn public_access_block_flag_off_is_drift() {
    let a = applied().await;
    a.s3()
        .await
        .put_public_access_block()
        .bucket(a.access_bucket())
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    expect_drift(&a, "log_archive.access_log_bucket", &["public_access_block.block_public_policy"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn suspended_versioning_is_drift() {
    let a = applied().await;
    a.s3()
        .await
        .put_bucket_versioning()
        .bucket(a.log_bucket())
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build())
        .send()
        .await
        .unwrap();
    expect_drift(&a, "log_archive.log_bucket", &["versioning"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn removed_default_encryption_is_drift() {
    let a = applied().await;
    a.s3().await.delete_bucket_encryption().bucket(a.log_bucket()).send().await.unwrap();
    expect_drift(
        &a,
        "log_archive.log_bucket",
        &["encryption.algorithm", "encryption.kms_key", "encryption.bucket_key"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stopped_logging_is_drift() {
    let a = applied().await;
    a.cloudtrail().await.stop_logging().name(TRAIL).send().await.unwrap();
    expect_drift(&a, "trail", &["logging"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn log_file_validation_off_is_drift() {
    let a = applied().await;
    a.cloudtrail().await.update_trail().name(TRAIL).enable_log_file_validation(false).send().await.unwrap();
    expect_drift(&a, "trail", &["log_file_validation"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn single_region_trail_is_drift() {
    let a = applied().await;
    a.cloudtrail().await.update_trail().name(TRAIL).is_multi_region_trail(false).send().await.unwrap();
    expect_drift(&a, "trail", &["multi_region"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_key_rotation_is_drift() {
    let a = applied().await;
    let kms = aws_sdk_kms::Client::new(&a.la_config().await);
    let key = kms.describe_key().key_id("alias/sra-organization-trail").send().await.unwrap();
    kms.disable_key_rotation().key_id(key.key_metadata().unwrap().key_id()).send().await.unwrap();
    expect_drift(&a, "log_archive.kms_key", &["rotation"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_equivalent_policy_rewritten_by_hand_is_not_drift() {
    let a = applied().await;
    let s3 = a.s3().await;
    let policy = s3.get_bucket_policy().bucket(a.log_bucket()).send().await.unwrap();
    let mut doc: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statements = doc["Statement"].as_array_mut().unwrap();
    statements.reverse();
    for s in statements.iter_mut() {
        if let Some(action) = s["Action"].as_str().map(str::to_string) {
            s["Action"] = Value::Array(vec![Value::String(action)]);
        }
    }
    let text = serde_json::to_string_pretty(&doc).unwrap().replace("  ", "\t");
    s3.put_bucket_policy().bucket(a.log_bucket()).policy(text).send().await.unwrap();
    let run = a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]);
    run.expect_code(0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn optional_cloudwatch_logs_delivery_is_set_up_and_kept() {
    let emu = Emulator::start();
    let text = format!(
        "{MINIMAL}[trail]\ncloudwatch_log_group = \"/sra/organization-trail\"\ncloudwatch_retention_days = 400\n"
    );
    let plan = emu.plan_file(&text).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
    let mgmt = emu.sdk().await;
    let trail = aws_sdk_cloudtrail::Client::new(&mgmt).get_trail().name(TRAIL).send().await.unwrap();
    let trail = trail.trail().unwrap();
    assert_eq!(
        trail.cloud_watch_logs_log_group_arn(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/sra/organization-trail:*")
    );
    assert_eq!(
        trail.cloud_watch_logs_role_arn(),
        Some("arn:aws:iam::123456789012:role/sra-cloudtrail-cloudwatch-logs")
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(&mgmt);
    let groups = logs.describe_log_groups().log_group_name_prefix("/sra/organization-trail").send().await.unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(400));
    let role =
        aws_sdk_iam::Client::new(&mgmt).get_role().role_name("sra-cloudtrail-cloudwatch-logs").send().await.unwrap();
    assert!(role.role().unwrap().assume_role_policy_document().unwrap().contains("cloudtrail.amazonaws.com"));

    // drift: retention shortened out of band
    logs.put_retention_policy().log_group_name("/sra/organization-trail").retention_in_days(1).send().await.unwrap();
    let run = emu.run(&["plan", &plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("~ retention_days = 1 -> 400"), "{}", run.stdout);
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", &plan, "--detailed-exitcode"]).expect_code(0);
}

/// A run that died between CreateKey and CreateAlias left a key nobody names:
/// the next apply takes that key instead of creating (and billing) another, and
/// leaves alone a key that only looks like it (no sra tag).
#[tokio::test(flavor = "multi_thread")]
async fn a_key_created_but_not_named_is_taken_not_doubled() {
    let a = applied().await;
    let kms = aws_sdk_kms::Client::new(&a.la_config().await);
    let alias = "alias/sra-organization-trail";
    let key = kms.describe_key().key_id(alias).send().await.unwrap().key_metadata().unwrap().key_id().to_string();
    kms.delete_alias().alias_name(alias).send().await.unwrap();
    let description = format!("sra: encrypts the organization trail {TRAIL}");
    let lookalike = kms.create_key().description(&description).send().await.unwrap();
    let lookalike = lookalike.key_metadata().unwrap().key_id().to_string();

    let plan = a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(plan.stdout.contains("log_archive.kms_key"), "{}", plan.stdout);
    let apply = a.emu.run(&["apply", &a.plan, "--auto-approve"]);
    apply.expect_code(0);
    assert!(apply.stderr.contains(&format!("taking {key}")), "{}", apply.stderr);

    let named = kms.describe_key().key_id(alias).send().await.unwrap();
    assert_eq!(named.key_metadata().unwrap().key_id(), key, "the alias names the key the first run created");
    let keys: Vec<String> =
        kms.list_keys().send().await.unwrap().keys().iter().filter_map(|k| k.key_id().map(str::to_string)).collect();
    assert_eq!(keys.len(), 2, "no new key: {keys:?}");
    assert!(keys.contains(&lookalike));
    a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]).expect_code(0);
}

/// Object Lock asked for after the log bucket exists (and holds logs): S3
/// enables it in place, so plan shows an update that says the logs already
/// there stay unlocked, apply makes it, and the bucket is never replaced.
#[tokio::test(flavor = "multi_thread")]
async fn object_lock_is_enabled_on_the_existing_log_bucket() {
    // AWS Config does not deliver to an Object Lock bucket (sra refuses the
    // combination, see bad_plans/object_lock_with_config.toml): Config is off.
    let without_config = format!("{MINIMAL}[services.config]\nenabled = false\n");
    let emu = Emulator::start();
    let plan = emu.plan_file(&without_config).to_str().unwrap().to_string();
    emu.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
    let all = accounts(&emu.orgs().await).await;
    let la = all.iter().find(|a| a.2 == LA_EMAIL).unwrap().0.clone();
    let a = Applied { emu, plan, la };
    let s3 = a.s3().await;
    let bucket = a.log_bucket();
    // Logs already in the bucket. The emulator answers over plain HTTP, which the
    // bucket policy denies (TLS only): lift it for the write, as only the role sra
    // uses may; apply puts it back with the rest.
    s3.delete_bucket_policy().bucket(&bucket).send().await.unwrap();
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"{}");
    s3.put_object().bucket(&bucket).key("AWSLogs/earlier.json.gz").body(body).send().await.unwrap();
    std::fs::write(
        &a.plan,
        format!("{without_config}[log_bucket]\nobject_lock_mode = \"GOVERNANCE\"\nobject_lock_days = 30\n"),
    )
    .unwrap();
    let run = a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 0 to create, 1 to update"), "{}", run.stdout);
    assert!(run.stdout.contains("not locked, only those written after"), "{}", run.stdout);
    assert!(!run.stdout.contains("manual"), "{}", run.stdout);
    a.emu.run(&["apply", &a.plan, "--auto-approve"]).expect_code(0);
    let lock = s3.get_object_lock_configuration().bucket(&bucket).send().await.unwrap();
    let lock = lock.object_lock_configuration().unwrap();
    assert_eq!(lock.object_lock_enabled().map(|e| e.as_str()), Some("Enabled"));
    let retention = lock.rule().unwrap().default_retention().unwrap();
    assert_eq!((retention.mode().map(|m| m.as_str()), retention.days()), (Some("GOVERNANCE"), Some(30)));
    a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]).expect_code(0);
}

/// Readers (#20): by default Security Tooling's account may read and decrypt the
/// log files (bucket and key policy name it); naming other readers in the plan
/// file is planned as exactly those two policies changing, and apply writes them.
#[tokio::test(flavor = "multi_thread")]
async fn security_tooling_reads_the_logs_by_default_and_named_readers_replace_it() {
    let a = applied().await;
    let all = accounts(&a.emu.orgs().await).await;
    let st = all.iter().find(|x| x.2 == "aws+security-tooling@example.com").unwrap().0.clone();
    let s3 = a.s3().await;
    let statement = |policy: &str, sid: &str| -> Value {
        let v: Value = serde_json::from_str(policy).unwrap();
        v["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == sid).cloned().unwrap_or(Value::Null)
    };
    let policy = s3.get_bucket_policy().bucket(a.log_bucket()).send().await.unwrap();
    let read = statement(policy.policy().unwrap(), "ReadersReadLogFiles");
    assert_eq!(read["Principal"]["AWS"], serde_json::json!([format!("arn:aws:iam::{st}:root")]), "{read}");
    assert_eq!(read["Action"], serde_json::json!(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]));
    // The access-log bucket stays unread.
    let access = s3.get_bucket_policy().bucket(a.access_bucket()).send().await.unwrap();
    assert_eq!(statement(access.policy().unwrap(), "ReadersReadLogFiles"), Value::Null);
    let kms = aws_sdk_kms::Client::new(&a.la_config().await);
    let key = kms.describe_key().key_id("alias/sra-organization-trail").send().await.unwrap();
    let key_policy =
        kms.get_key_policy().key_id(key.key_metadata().unwrap().key_id()).policy_name("default").send().await.unwrap();
    let decrypt = statement(key_policy.policy().unwrap(), "ReadersDecryptLogFiles");
    assert_eq!(decrypt["Condition"]["StringEquals"]["kms:ViaService"], "s3.us-east-1.amazonaws.com", "{decrypt}");

    let auditor = format!("arn:aws:iam::{st}:role/SecurityAudit");
    let text = format!("{MINIMAL}[log_bucket]\nreaders = [\"{auditor}\"]\n");
    std::fs::write(&a.plan, text).unwrap();
    let run = a.emu.run(&["plan", &a.plan, "--detailed-exitcode", "--format", "json"]);
    run.expect_code(2);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let changed = crate::common::changed_addresses(&doc);
    assert_eq!(changed, ["log_archive.kms_key", "log_archive.log_bucket"], "{}", run.stdout);
    a.emu.run(&["apply", &a.plan, "--auto-approve"]).expect_code(0);
    let policy = s3.get_bucket_policy().bucket(a.log_bucket()).send().await.unwrap();
    assert_eq!(
        statement(policy.policy().unwrap(), "ReadersReadLogFiles")["Principal"]["AWS"],
        serde_json::json!([auditor])
    );
    a.emu.run(&["plan", &a.plan, "--detailed-exitcode"]).expect_code(0);
}
