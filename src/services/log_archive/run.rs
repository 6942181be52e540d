//! Run one log-archive step. Parameters come from the desired state for the ids
//! known now (accounts and the key may have been created earlier in this apply).

use anyhow::Result;
use aws_sdk_s3::types as s3t;
use serde_json::Value;

use super::{BucketKind, Ids, Op, Target, desired_bucket, documents};
use crate::aws::{Sessions, call_error, done_if_exists, error_code, hinted, is_ambiguous};
use crate::model::LogArchiveSpec;
use crate::report::Reporter;

pub async fn run(
    target: Target,
    op: Op,
    spec: &LogArchiveSpec,
    ids: &mut Ids,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    match target {
        Target::Trail => return run_trail(op, spec, ids, sessions, rep).await,
        Target::LogGroup | Target::LogsRole => return run_cloudwatch(op, spec, ids, sessions).await,
        _ => {}
    }
    let la = ids.log_archive.clone().ok_or_else(|| {
        hinted("the Log Archive account does not exist yet", "rerun sra apply: it creates the account first")
    })?;
    let config = sessions.config(&la, rep).await?;
    let site = sessions.site(&la);
    match target {
        Target::Key => {
            let kms = aws_sdk_kms::Client::new(&config);
            let alias = &spec.trail.kms_key_alias;
            let policy_text = documents::key_policy(spec, ids).to_string();
            if op == Op::CreateKey {
                let meta = create_key(&kms, &site, spec, &policy_text, rep).await?;
                let key_id = meta.key_id().to_string();
                ids.key_arn = meta.arn().map(str::to_string);
                match kms.create_alias().alias_name(alias).target_key_id(&key_id).send().await {
                    Ok(_) => {}
                    // An earlier try whose answer was lost named this key already.
                    Err(e) if error_code(&e) == Some("AlreadyExistsException") => {
                        let target = kms.describe_key().key_id(alias).send().await.map_err(|e| {
                            call_error(e, "kms", "DescribeKey", &site, format!("reading which key {alias} names"))
                        })?;
                        if target.key_metadata().map(|m| m.key_id()) != Some(key_id.as_str()) {
                            return Err(hinted(
                                format!("{alias} already names another key"),
                                "rerun sra plan: it reads the key the alias names",
                            ));
                        }
                    }
                    Err(e) => {
                        return Err(call_error(
                            e,
                            "kms",
                            "CreateAlias",
                            &site,
                            format!("naming the trail key {alias}"),
                        )
                        .into());
                    }
                }
                kms.enable_key_rotation().key_id(&key_id).send().await.map_err(|e| {
                    call_error(e, "kms", "EnableKeyRotation", &site, format!("turning on rotation of {alias}"))
                })?;
                return Ok(());
            }
            let key_id =
                ids.key_arn.clone().ok_or_else(|| hinted(format!("the key {alias} is missing"), "rerun sra plan"))?;
            match op {
                Op::PutKeyPolicy => {
                    kms.put_key_policy()
                        .key_id(&key_id)
                        .policy_name("default")
                        .policy(&policy_text)
                        .send()
                        .await
                        .map_err(|e| {
                            call_error(e, "kms", "PutKeyPolicy", &site, format!("setting the policy of {alias}"))
                        })?;
                }
                Op::EnableKeyRotation => {
                    kms.enable_key_rotation().key_id(&key_id).send().await.map_err(|e| {
                        call_error(e, "kms", "EnableKeyRotation", &site, format!("turning on rotation of {alias}"))
                    })?;
                }
                Op::EnableKey => {
                    kms.enable_key()
                        .key_id(&key_id)
                        .send()
                        .await
                        .map_err(|e| call_error(e, "kms", "EnableKey", &site, format!("enabling {alias}")))?;
                }
                _ => unreachable!("{op:?} is not a key operation"),
            }
        }
        Target::AccountPublicAccessBlock => {
            aws_sdk_s3control::Client::new(&config)
                .put_public_access_block()
                .account_id(&la)
                .public_access_block_configuration({
                    let want = super::desired(spec, ids)
                        .account_public_access_block
                        .expect("the account's public access block is always desired");
                    aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(want.block_public_acls)
                        .ignore_public_acls(want.ignore_public_acls)
                        .block_public_policy(want.block_public_policy)
                        .restrict_public_buckets(want.restrict_public_buckets)
                        .build()
                })
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "s3control", "PutPublicAccessBlock", &site, "blocking public access for Log Archive")
                })?;
        }
        Target::Bucket(kind) => run_bucket(kind, op, spec, ids, &aws_sdk_s3::Client::new(&config), &site).await?,
        Target::Trail | Target::LogGroup | Target::LogsRole => unreachable!("handled above"),
    }
    Ok(())
}

async fn run_bucket(
    kind: BucketKind,
    op: Op,
    spec: &LogArchiveSpec,
    ids: &Ids,
    s3: &aws_sdk_s3::Client,
    site: &crate::aws::Site,
) -> Result<()> {
    let want = desired_bucket(spec, ids, kind);
    let name = want.name.clone();
    let what = |s: &str| format!("{s} on bucket {name}");
    match op {
        Op::CreateBucket => {
            let mut req = s3.create_bucket().bucket(&name);
            if ids.home_region != "us-east-1" {
                req = req.create_bucket_configuration(
                    s3t::CreateBucketConfiguration::builder()
                        .location_constraint(s3t::BucketLocationConstraint::from(ids.home_region.as_str()))
                        .build(),
                );
            }
            if want.object_lock_enabled {
                req = req.object_lock_enabled_for_bucket(true);
            }
            match req.send().await {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => {}
                Err(e) => return Err(call_error(e, "s3", "CreateBucket", site, what("creating")).into()),
            }
        }
        Op::PutPublicAccessBlock => {
            let pab = want.public_access_block.expect("desired buckets block public access");
            s3.put_public_access_block()
                .bucket(&name)
                .public_access_block_configuration(
                    s3t::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(pab.block_public_acls)
                        .ignore_public_acls(pab.ignore_public_acls)
                        .block_public_policy(pab.block_public_policy)
                        .restrict_public_buckets(pab.restrict_public_buckets)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "PutPublicAccessBlock", site, what("blocking public access")))?;
        }
        Op::PutOwnership => {
            s3.put_bucket_ownership_controls()
                .bucket(&name)
                .ownership_controls(
                    s3t::OwnershipControls::builder()
                        .rules(
                            s3t::OwnershipControlsRule::builder()
                                .object_ownership(s3t::ObjectOwnership::BucketOwnerEnforced)
                                .build()?,
                        )
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "PutBucketOwnershipControls", site, what("disabling ACLs")))?;
        }
        Op::PutVersioning => {
            s3.put_bucket_versioning()
                .bucket(&name)
                .versioning_configuration(
                    s3t::VersioningConfiguration::builder().status(s3t::BucketVersioningStatus::Enabled).build(),
                )
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "PutBucketVersioning", site, what("enabling versioning")))?;
        }
        Op::PutEncryption => {
            let enc = want.encryption.clone().expect("desired buckets are encrypted");
            let mut default = s3t::ServerSideEncryptionByDefault::builder()
                .sse_algorithm(s3t::ServerSideEncryption::from(enc.algorithm.as_str()));
            if let Some(k) = &enc.kms_key {
                default = default.kms_master_key_id(k);
            }
            s3.put_bucket_encryption()
                .bucket(&name)
                .server_side_encryption_configuration(
                    s3t::ServerSideEncryptionConfiguration::builder()
                        .rules(
                            s3t::ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(default.build()?)
                                .bucket_key_enabled(enc.bucket_key)
                                .build(),
                        )
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "PutBucketEncryption", site, what("setting default encryption")))?;
        }
        Op::PutLifecycle => {
            let rules = want.lifecycle.as_ref().expect("desired buckets have lifecycle rules");
            let rules = lifecycle_rules(rules)?;
            s3.put_bucket_lifecycle_configuration()
                .bucket(&name)
                .lifecycle_configuration(s3t::BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build()?)
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "s3", "PutBucketLifecycleConfiguration", site, what("setting lifecycle rules"))
                })?;
        }
        Op::PutLogging => {
            let (target, prefix) = want.logging.clone().expect("only the log bucket logs");
            s3.put_bucket_logging()
                .bucket(&name)
                .bucket_logging_status(
                    s3t::BucketLoggingStatus::builder()
                        .logging_enabled(
                            s3t::LoggingEnabled::builder().target_bucket(target).target_prefix(prefix).build()?,
                        )
                        .build(),
                )
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "PutBucketLogging", site, what("turning on server access logs")))?;
        }
        Op::PutObjectLock => {
            let lock = want.object_lock.clone().expect("planned only with Object Lock");
            s3.put_object_lock_configuration()
                .bucket(&name)
                .object_lock_configuration(
                    s3t::ObjectLockConfiguration::builder()
                        .object_lock_enabled(s3t::ObjectLockEnabled::Enabled)
                        .rule(
                            s3t::ObjectLockRule::builder()
                                .default_retention(
                                    s3t::DefaultRetention::builder()
                                        .mode(s3t::ObjectLockRetentionMode::from(lock.mode.as_str()))
                                        .days(lock.days as i32)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "s3", "PutObjectLockConfiguration", site, what("setting Object Lock retention"))
                })?;
        }
        Op::PutBucketPolicy => {
            let doc = documents::bucket_policy(spec, ids, kind).to_string();
            s3.put_bucket_policy()
                .bucket(&name)
                .policy(doc)
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "PutBucketPolicy", site, what("setting the bucket policy")))?;
        }
        other => unreachable!("{other:?} is not a bucket operation"),
    }
    Ok(())
}

async fn run_cloudwatch(op: Op, spec: &LogArchiveSpec, ids: &Ids, sessions: &Sessions) -> Result<()> {
    let site = sessions.site(&sessions.management_account);
    let cw = spec
        .trail
        .cloudwatch_logs
        .clone()
        .ok_or_else(|| hinted("CloudWatch Logs delivery is not in the plan", "rerun sra plan"))?;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sessions.base.config);
    let iam = aws_sdk_iam::Client::new(&sessions.base.config);
    let put_policy = || async {
        iam.put_role_policy()
            .role_name(super::LOGS_ROLE)
            .policy_name(super::LOGS_ROLE)
            .policy_document(documents::logs_role_policy(ids, &cw).to_string())
            .send()
            .await
            .map_err(|e| call_error(e, "iam", "PutRolePolicy", &site, "letting CloudTrail write the log group"))
    };
    match op {
        Op::CreateLogGroup => {
            let sent = logs.create_log_group().log_group_name(&cw.log_group).send().await;
            done_if_exists(sent, &["ResourceAlreadyExistsException"])
                .map_err(|e| call_error(e, "logs", "CreateLogGroup", &site, format!("creating {}", cw.log_group)))?;
        }
        Op::PutRetentionPolicy => {
            logs.put_retention_policy()
                .log_group_name(&cw.log_group)
                .retention_in_days(cw.retention_days as i32)
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        e,
                        "logs",
                        "PutRetentionPolicy",
                        &site,
                        format!("setting the retention of {}", cw.log_group),
                    )
                })?;
        }
        Op::CreateLogsRole => {
            let sent = iam
                .create_role()
                .role_name(super::LOGS_ROLE)
                .assume_role_policy_document(documents::logs_role_trust(ids, spec).to_string())
                .description("sra: CloudTrail delivers the organization trail to CloudWatch Logs")
                .send()
                .await;
            done_if_exists(sent, &["EntityAlreadyExists"])
                .map_err(|e| call_error(e, "iam", "CreateRole", &site, "creating the CloudWatch Logs role"))?;
            put_policy().await?;
        }
        Op::PutLogsRolePolicies => {
            iam.update_assume_role_policy()
                .role_name(super::LOGS_ROLE)
                .policy_document(documents::logs_role_trust(ids, spec).to_string())
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        e,
                        "iam",
                        "UpdateAssumeRolePolicy",
                        &site,
                        "restoring who may use the CloudWatch Logs role",
                    )
                })?;
            put_policy().await?;
        }
        other => unreachable!("{other:?} is not a CloudWatch Logs operation"),
    }
    Ok(())
}

async fn run_trail(op: Op, spec: &LogArchiveSpec, ids: &Ids, sessions: &Sessions, rep: &Reporter) -> Result<()> {
    let ct = aws_sdk_cloudtrail::Client::new(&sessions.base.config);
    let site = sessions.site(&sessions.management_account);
    let name = &spec.trail.name;
    let bucket = ids.bucket_name(spec, BucketKind::Log);
    let cw_group = spec.trail.cloudwatch_logs.as_ref().map(|cw| ids.log_group_arn(&cw.log_group));
    let cw_role = spec.trail.cloudwatch_logs.as_ref().map(|_| ids.logs_role_arn());
    rep.debug(format!("cloudtrail: {} {name}", op.phrase().progress()));
    match op {
        Op::CreateTrail => {
            let sent = ct
                .create_trail()
                .name(name)
                .s3_bucket_name(&bucket)
                .set_s3_key_prefix(spec.trail.s3_key_prefix.clone())
                .is_multi_region_trail(true)
                .include_global_service_events(true)
                .enable_log_file_validation(true)
                .is_organization_trail(true)
                .kms_key_id(ids.key())
                .set_cloud_watch_logs_log_group_arn(cw_group.clone())
                .set_cloud_watch_logs_role_arn(cw_role.clone())
                .send()
                .await;
            done_if_exists(sent, &["TrailAlreadyExistsException"]).map_err(|e| {
                call_error(e, "cloudtrail", "CreateTrail", &site, format!("creating the organization trail {name}"))
            })?;
        }
        Op::UpdateTrail => {
            ct.update_trail()
                .name(name)
                .s3_bucket_name(&bucket)
                .s3_key_prefix(spec.trail.s3_key_prefix.clone().unwrap_or_default())
                .is_multi_region_trail(true)
                .include_global_service_events(true)
                .enable_log_file_validation(true)
                .is_organization_trail(true)
                .kms_key_id(ids.key())
                .set_cloud_watch_logs_log_group_arn(cw_group.clone())
                .set_cloud_watch_logs_role_arn(cw_role.clone())
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "cloudtrail", "UpdateTrail", &site, format!("restoring the settings of {name}"))
                })?;
        }
        Op::PutEventSelectors => {
            let selectors = advanced_selectors(&documents::event_selectors(spec, ids))?;
            ct.put_event_selectors()
                .trail_name(name)
                .set_advanced_event_selectors(Some(selectors))
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "cloudtrail", "PutEventSelectors", &site, format!("setting what {name} logs"))
                })?;
        }
        Op::StartLogging => {
            ct.start_logging()
                .name(name)
                .send()
                .await
                .map_err(|e| call_error(e, "cloudtrail", "StartLogging", &site, format!("starting {name}")))?;
        }
        other => unreachable!("{other:?} is not a trail operation"),
    }
    Ok(())
}

fn advanced_selectors(v: &Value) -> Result<Vec<aws_sdk_cloudtrail::types::AdvancedEventSelector>> {
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
    let strings = |f: &Value, k: &str| -> Option<Vec<String>> {
        f.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
    };
    let mut out = Vec::new();
    for sel in v.as_array().into_iter().flatten() {
        let mut b =
            AdvancedEventSelector::builder().set_name(sel.get("Name").and_then(Value::as_str).map(str::to_string));
        for f in sel.get("FieldSelectors").and_then(Value::as_array).into_iter().flatten() {
            b = b.field_selectors(
                AdvancedFieldSelector::builder()
                    .field(f.get("Field").and_then(Value::as_str).unwrap_or_default())
                    .set_equals(strings(f, "Equals"))
                    .set_starts_with(strings(f, "StartsWith"))
                    .set_ends_with(strings(f, "EndsWith"))
                    .set_not_equals(strings(f, "NotEquals"))
                    .set_not_starts_with(strings(f, "NotStartsWith"))
                    .set_not_ends_with(strings(f, "NotEndsWith"))
                    .build()?,
            );
        }
        out.push(b.build()?);
    }
    Ok(out)
}

/// The SDK's lifecycle rules for the rules the plan compared (the JSON shape
/// `documents::lifecycle` writes and observe reads): one source for the values.
fn lifecycle_rules(rules: &Value) -> Result<Vec<s3t::LifecycleRule>> {
    let days = |v: &Value| v.as_i64().and_then(|d| i32::try_from(d).ok());
    let mut out = Vec::new();
    for r in rules.as_array().into_iter().flatten() {
        let mut rule = s3t::LifecycleRule::builder()
            .set_id(r["ID"].as_str().map(str::to_string))
            .status(s3t::ExpirationStatus::from(r["Status"].as_str().unwrap_or("Enabled")))
            .filter(s3t::LifecycleRuleFilter::builder().prefix(r["Filter"]["Prefix"].as_str().unwrap_or("")).build());
        for t in r["Transitions"].as_array().into_iter().flatten() {
            rule = rule.transitions(
                s3t::Transition::builder()
                    .set_days(days(&t["Days"]))
                    .storage_class(s3t::TransitionStorageClass::from(t["StorageClass"].as_str().unwrap_or_default()))
                    .build(),
            );
        }
        if let Some(n) = days(&r["NoncurrentVersionExpiration"]["NoncurrentDays"]) {
            rule = rule
                .noncurrent_version_expiration(s3t::NoncurrentVersionExpiration::builder().noncurrent_days(n).build());
        }
        if let Some(a) = days(&r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]) {
            rule = rule.abort_incomplete_multipart_upload(
                s3t::AbortIncompleteMultipartUpload::builder().days_after_initiation(a).build(),
            );
        }
        if let Some(d) = days(&r["Expiration"]["Days"]) {
            rule = rule.expiration(s3t::LifecycleExpiration::builder().days(d).build());
        }
        out.push(rule.build()?);
    }
    Ok(out)
}

/// The trail key's description: what `observe::unnamed_keys` recognizes it by.
pub(super) fn key_description(spec: &LogArchiveSpec) -> String {
    format!("sra: encrypts the organization trail {}", spec.trail.name)
}

/// Create the trail key exactly once. CreateKey is not idempotent: a retry after a
/// lost answer, or a rerun after sra died before naming the key, would leave a
/// key nobody uses (and AWS bills). So the SDK never resends it; before sending,
/// and after an answer that may have been lost, sra looks for a key it created
/// and did not name yet, and takes that one.
async fn create_key(
    kms: &aws_sdk_kms::Client,
    site: &crate::aws::Site,
    spec: &LogArchiveSpec,
    policy: &str,
    rep: &Reporter,
) -> Result<aws_sdk_kms::types::KeyMetadata> {
    let alias = &spec.trail.kms_key_alias;
    let purpose = format!("creating the trail key {alias}");
    for attempt in 1..=3 {
        if let Some(key) = super::observe::unnamed_keys(kms, site, spec, rep).await?.into_iter().next() {
            rep.progress(format!(
                "log_archive.kms_key: taking {} (created by an earlier run, not named yet)",
                key.key_id()
            ));
            return Ok(key);
        }
        let sent = kms
            .create_key()
            .description(key_description(spec))
            .policy(policy)
            .tags(aws_sdk_kms::types::Tag::builder().tag_key(super::MANAGED_TAG).tag_value("true").build()?)
            .customize()
            .config_override(
                aws_sdk_kms::config::Config::builder().retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match sent {
            Ok(out) => {
                return out
                    .key_metadata()
                    .cloned()
                    .ok_or_else(|| hinted("CreateKey returned no key", "rerun sra apply"));
            }
            Err(e) if attempt < 3 && (is_ambiguous(&e) || is_transient(&e)) => {
                rep.progress(format!(
                    "log_archive.kms_key: CreateKey may not have reached AWS (attempt {attempt}); looking for the key before sending again"
                ));
                tokio::time::sleep(std::time::Duration::from_millis(500 * attempt)).await;
            }
            Err(e) => return Err(call_error(e, "kms", "CreateKey", site, purpose).into()),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// Throttled, or AWS failed on its side (5xx): the key may or may not exist.
fn is_transient<E: aws_sdk_kms::error::ProvideErrorMetadata>(
    e: &aws_sdk_kms::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> bool {
    error_code(e)
        .is_some_and(|c| matches!(c, "ThrottlingException" | "KMSInternalException" | "DependencyTimeoutException"))
        || e.raw_response().is_some_and(|r| r.status().is_server_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request sends exactly the rules the plan compared: built from the
    /// desired JSON and read back the way observe reads AWS's answer, they are
    /// the same rules, expiration included.
    #[test]
    fn lifecycle_requests_carry_the_compared_rules() {
        let mut spec = LogArchiveSpec::default();
        spec.lifecycle.transition_days = 45;
        spec.lifecycle.retention_days = Some(2557);
        let want = documents::lifecycle(&spec);
        let sent: Vec<Value> =
            lifecycle_rules(&want).unwrap().iter().map(super::super::observe::lifecycle_rule_json).collect();
        assert_eq!(Value::Array(sent), want);
    }
}
