//! Read the trail (management account) and the key and buckets (Log Archive).

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::documents::normalize_selectors;
use super::{BucketKind, BucketState, Encryption, Ids, KeyState, ObservedLogArchive, PublicAccessBlock, TrailState};
use crate::aws::{Sessions, Site, call_error, error_code, hinted};
use crate::model::{LogArchiveSpec, ObjectLock};
use crate::policy;
use crate::report::Reporter;

pub async fn observe(
    sessions: &Sessions,
    spec: &LogArchiveSpec,
    ids: &Ids,
    rep: &Reporter,
) -> Result<ObservedLogArchive> {
    let mut out = ObservedLogArchive::default();
    if !spec.enabled {
        return Ok(out);
    }
    // The trail (management account) and the Log Archive side, side by side.
    let cloudwatch = async {
        match &spec.trail.cloudwatch_logs {
            Some(cw) => observe_cloudwatch(sessions, &cw.log_group, rep).await,
            None => Ok(Default::default()),
        }
    };
    let log_archive = async {
        let Some(la) = ids.log_archive.clone() else {
            return Ok(None);
        };
        let config = sessions.config(&la, rep).await?;
        let site = sessions.site(&la);
        let (kms, s3c, s3) = (
            aws_sdk_kms::Client::new(&config),
            aws_sdk_s3control::Client::new(&config),
            aws_sdk_s3::Client::new(&config),
        );
        let (access_log, log) = (ids.bucket_name(spec, BucketKind::AccessLog), ids.bucket_name(spec, BucketKind::Log));
        let found = tokio::try_join!(
            async {
                // Stray keys matter only once the trail key exists (apply takes one before).
                let key = observe_key(&kms, &site, spec, rep).await?;
                let stray = match key {
                    Some(_) => unnamed_keys(&kms, &site, spec, rep).await?,
                    None => vec![],
                };
                Ok::<_, anyhow::Error>((key, stray))
            },
            observe_account_pab(&s3c, &site, &la, rep),
            observe_bucket(&s3, &site, &access_log, rep),
            observe_bucket(&s3, &site, &log, rep),
        )?;
        Ok::<_, anyhow::Error>(Some(found))
    };
    let (trail, cloudwatch, log_archive) =
        tokio::try_join!(observe_trail(sessions, spec, rep), cloudwatch, log_archive)?;
    (out.trail, out.cloudwatch) = (trail, cloudwatch);
    if let Some(((key, stray), pab, access_log, log)) = log_archive {
        (out.key, out.account_public_access_block) = (key, pab);
        out.stray_keys = stray.iter().filter_map(|k| k.arn().map(str::to_string)).collect();
        for (kind, bucket) in [(BucketKind::AccessLog, access_log), (BucketKind::Log, log)] {
            if let Some(b) = bucket {
                out.buckets.insert(kind, b);
            }
        }
    }
    Ok(out)
}

async fn observe_trail(sessions: &Sessions, spec: &LogArchiveSpec, rep: &Reporter) -> Result<Option<TrailState>> {
    let ct = aws_sdk_cloudtrail::Client::new(&sessions.base.config);
    let site = sessions.site(&sessions.management_account);
    let name = &spec.trail.name;
    // Side by side: when there is no trail, the other two answers are ignored.
    rep.debug(format!("cloudtrail:GetTrail, GetTrailStatus, GetEventSelectors {name}"));
    let (trail, status, selectors) = tokio::join!(
        ct.get_trail().name(name).send(),
        ct.get_trail_status().name(name).send(),
        ct.get_event_selectors().trail_name(name).send()
    );
    let trail = match trail {
        Ok(o) => match o.trail().cloned() {
            Some(t) => t,
            None => return Ok(None),
        },
        Err(e) if error_code(&e) == Some("TrailNotFoundException") => return Ok(None),
        Err(e) => return Err(call_error(e, "cloudtrail", "GetTrail", &site, format!("reading trail {name}")).into()),
    };
    let status = status
        .map_err(|e| call_error(e, "cloudtrail", "GetTrailStatus", &site, format!("reading whether {name} logs")))?;
    let selectors = selectors.map_err(|e| {
        call_error(e, "cloudtrail", "GetEventSelectors", &site, format!("reading the event selectors of {name}"))
    })?;
    let event_selectors = if !selectors.advanced_event_selectors().is_empty() {
        let list: Vec<Value> = selectors
            .advanced_event_selectors()
            .iter()
            .map(|s| {
                let fields: Vec<Value> = s
                    .field_selectors()
                    .iter()
                    .map(|f| {
                        let mut m = Map::new();
                        m.insert("Field".into(), json!(f.field()));
                        for (k, v) in [
                            ("Equals", f.equals()),
                            ("StartsWith", f.starts_with()),
                            ("EndsWith", f.ends_with()),
                            ("NotEquals", f.not_equals()),
                            ("NotStartsWith", f.not_starts_with()),
                            ("NotEndsWith", f.not_ends_with()),
                        ] {
                            if !v.is_empty() {
                                m.insert(k.into(), json!(v));
                            }
                        }
                        Value::Object(m)
                    })
                    .collect();
                json!({"Name": s.name().unwrap_or_default(), "FieldSelectors": fields})
            })
            .collect();
        normalize_selectors(&Value::Array(list))
    } else {
        // Basic selectors (set outside sra): shown as they are, so they differ.
        let basic: Vec<Value> = selectors
            .event_selectors()
            .iter()
            .map(|s| {
                json!({
                    "ReadWriteType": s.read_write_type().map(|r| r.as_str()),
                    "IncludeManagementEvents": s.include_management_events(),
                    "DataResources": s.data_resources().iter().map(|d| json!({"Type": d.r#type(), "Values": d.values()})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({"BasicEventSelectors": basic})
    };
    Ok(Some(TrailState {
        arn: trail.trail_arn().unwrap_or_default().to_string(),
        bucket: trail.s3_bucket_name().unwrap_or_default().to_string(),
        s3_key_prefix: trail.s3_key_prefix().filter(|p| !p.is_empty()).map(str::to_string),
        kms_key: trail.kms_key_id().filter(|k| !k.is_empty()).map(str::to_string),
        organization: trail.is_organization_trail().unwrap_or(false),
        multi_region: trail.is_multi_region_trail().unwrap_or(false),
        global_service_events: trail.include_global_service_events().unwrap_or(false),
        log_file_validation: trail.log_file_validation_enabled().unwrap_or(false),
        logging: status.is_logging().unwrap_or(false),
        event_selectors,
        cloudwatch_logs: trail
            .cloud_watch_logs_log_group_arn()
            .filter(|a| !a.is_empty())
            .map(|g| (g.to_string(), trail.cloud_watch_logs_role_arn().unwrap_or_default().to_string())),
    }))
}

/// IAM returns policy documents URL-encoded (RFC 3986: `+` is itself).
fn url_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

pub(crate) fn parse_iam_policy(text: &str) -> Option<Value> {
    policy::parse(text).or_else(|| policy::parse(&url_decoded(text)))
}

async fn observe_cloudwatch(sessions: &Sessions, group: &str, rep: &Reporter) -> Result<super::CloudWatchState> {
    let site = sessions.site(&sessions.management_account);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sessions.base.config);
    rep.debug(format!("logs:DescribeLogGroups {group}"));
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .map_err(|e| call_error(e, "logs", "DescribeLogGroups", &site, format!("finding the log group {group}")))?;
    let retention = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .map(|g| g.retention_in_days().unwrap_or(0) as u32);
    let iam = aws_sdk_iam::Client::new(&sessions.base.config);
    rep.debug(format!("iam:GetRole {}", super::LOGS_ROLE));
    let role = match iam.get_role().role_name(super::LOGS_ROLE).send().await {
        Ok(r) => {
            let trust = r.role().and_then(|r| r.assume_role_policy_document()).and_then(parse_iam_policy);
            let perms =
                match iam.get_role_policy().role_name(super::LOGS_ROLE).policy_name(super::LOGS_ROLE).send().await {
                    Ok(p) => parse_iam_policy(p.policy_document()),
                    Err(e) if error_code(&e) == Some("NoSuchEntity") => None,
                    Err(e) => {
                        return Err(call_error(
                            e,
                            "iam",
                            "GetRolePolicy",
                            &site,
                            "reading the CloudWatch Logs role's policy",
                        )
                        .into());
                    }
                };
            Some((trust, perms))
        }
        Err(e) if error_code(&e) == Some("NoSuchEntity") => None,
        Err(e) => return Err(call_error(e, "iam", "GetRole", &site, "reading the CloudWatch Logs role").into()),
    };
    Ok(super::CloudWatchState { log_group_retention: retention, role })
}

async fn observe_key(
    kms: &aws_sdk_kms::Client,
    site: &Site,
    spec: &LogArchiveSpec,
    rep: &Reporter,
) -> Result<Option<KeyState>> {
    let alias = &spec.trail.kms_key_alias;
    rep.debug(format!("kms:DescribeKey {alias}"));
    let key = match kms.describe_key().key_id(alias).send().await {
        Ok(o) => match o.key_metadata().cloned() {
            Some(k) => k,
            None => return Ok(None),
        },
        Err(e) if error_code(&e) == Some("NotFoundException") => return Ok(None),
        Err(e) => {
            return Err(call_error(e, "kms", "DescribeKey", site, format!("finding the trail key {alias}")).into());
        }
    };
    let key_id = key.key_id().to_string();
    rep.debug(format!("kms:GetKeyRotationStatus, GetKeyPolicy {key_id}"));
    let (rotation, key_policy) = tokio::join!(
        kms.get_key_rotation_status().key_id(&key_id).send(),
        kms.get_key_policy().key_id(&key_id).policy_name("default").send()
    );
    let rotation = rotation
        .map_err(|e| call_error(e, "kms", "GetKeyRotationStatus", site, format!("reading rotation of {alias}")))?;
    let key_policy =
        key_policy.map_err(|e| call_error(e, "kms", "GetKeyPolicy", site, format!("reading the policy of {alias}")))?;
    Ok(Some(KeyState {
        arn: key.arn().map(str::to_string),
        enabled: key.enabled(),
        rotation: rotation.key_rotation_enabled(),
        policy: key_policy.policy().and_then(policy::parse),
    }))
}

pub(crate) async fn observe_account_pab(
    s3c: &aws_sdk_s3control::Client,
    site: &Site,
    account: &str,
    rep: &Reporter,
) -> Result<Option<PublicAccessBlock>> {
    rep.debug(format!("s3control:GetPublicAccessBlock {account}"));
    match s3c.get_public_access_block().account_id(account).send().await {
        Ok(o) => Ok(o.public_access_block_configuration().map(|c| PublicAccessBlock {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        })),
        Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => Ok(None),
        Err(e) => {
            Err(call_error(e, "s3control", "GetPublicAccessBlock", site, "reading the account's Block Public Access")
                .into())
        }
    }
}

/// Read a bucket's settings; None when there is no bucket of that name.
async fn observe_bucket(
    s3: &aws_sdk_s3::Client,
    site: &Site,
    name: &str,
    rep: &Reporter,
) -> Result<Option<BucketState>> {
    let what = |op: &str| format!("reading {op} of bucket {name}");
    rep.debug(format!("s3:HeadBucket {name}"));
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
            return Err(hinted(
                format!("the bucket name {name} is taken by an account that is not Log Archive ({})", site.account),
                "S3 bucket names are global: choose another [log_bucket] name (e.g. with {account_id} in it)",
            ));
        }
        Err(e) => return Err(call_error(e, "s3", "HeadBucket", site, what("the existence")).into()),
    }
    // The bucket exists: its settings, side by side.
    let pab = async {
        Ok::<_, anyhow::Error>(match s3.get_public_access_block().bucket(name).send().await {
            Ok(o) => o.public_access_block_configuration().map(|c| PublicAccessBlock {
                block_public_acls: c.block_public_acls().unwrap_or(false),
                ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                block_public_policy: c.block_public_policy().unwrap_or(false),
                restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
            }),
            Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => None,
            Err(e) => return Err(call_error(e, "s3", "GetPublicAccessBlock", site, what("Block Public Access")).into()),
        })
    };
    let versioning = async {
        Ok::<_, anyhow::Error>(
            s3.get_bucket_versioning()
                .bucket(name)
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "GetBucketVersioning", site, what("versioning")))?
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        )
    };
    let encryption = async {
        Ok::<_, anyhow::Error>(match s3.get_bucket_encryption().bucket(name).send().await {
            Ok(o) => o.server_side_encryption_configuration().and_then(|c| c.rules().first()).map(|r| {
                let d = r.apply_server_side_encryption_by_default();
                Encryption {
                    algorithm: d.map(|d| d.sse_algorithm().as_str().to_string()).unwrap_or_default(),
                    kms_key: d.and_then(|d| d.kms_master_key_id()).map(str::to_string),
                    bucket_key: r.bucket_key_enabled().unwrap_or(false),
                }
            }),
            Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => None,
            Err(e) => return Err(call_error(e, "s3", "GetBucketEncryption", site, what("default encryption")).into()),
        })
    };
    let ownership = async {
        Ok::<_, anyhow::Error>(match s3.get_bucket_ownership_controls().bucket(name).send().await {
            Ok(o) => o
                .ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|r| r.object_ownership().as_str().to_string()),
            Err(e) if error_code(&e) == Some("OwnershipControlsNotFoundError") => None,
            Err(e) => {
                return Err(call_error(e, "s3", "GetBucketOwnershipControls", site, what("object ownership")).into());
            }
        })
    };
    let bucket_policy = async {
        Ok::<_, anyhow::Error>(match s3.get_bucket_policy().bucket(name).send().await {
            Ok(o) => o.policy().and_then(policy::parse),
            Err(e) if error_code(&e) == Some("NoSuchBucketPolicy") => None,
            Err(e) => return Err(call_error(e, "s3", "GetBucketPolicy", site, what("the policy")).into()),
        })
    };
    let lifecycle = async {
        Ok::<_, anyhow::Error>(match s3.get_bucket_lifecycle_configuration().bucket(name).send().await {
            Ok(o) => Some(Value::Array(o.rules().iter().map(lifecycle_rule_json).collect())),
            Err(e) if error_code(&e) == Some("NoSuchLifecycleConfiguration") => None,
            Err(e) => {
                return Err(
                    call_error(e, "s3", "GetBucketLifecycleConfiguration", site, what("lifecycle rules")).into()
                );
            }
        })
    };
    let logging = async {
        Ok::<_, anyhow::Error>(
            s3.get_bucket_logging()
                .bucket(name)
                .send()
                .await
                .map_err(|e| call_error(e, "s3", "GetBucketLogging", site, what("server access logging")))?
                .logging_enabled()
                .map(|l| (l.target_bucket().to_string(), l.target_prefix().to_string())),
        )
    };
    let object_lock = async {
        Ok::<_, anyhow::Error>(match s3.get_object_lock_configuration().bucket(name).send().await {
            Ok(o) => {
                let c = o.object_lock_configuration();
                let enabled = c.and_then(|c| c.object_lock_enabled()).is_some_and(|e| e.as_str() == "Enabled");
                // moto reads back an extra `Years: 0` next to Days: ignore a zero.
                let rule = c.and_then(|c| c.rule()).and_then(|r| r.default_retention()).and_then(|d| {
                    Some(ObjectLock { mode: d.mode()?.as_str().to_string(), days: d.days().filter(|d| *d > 0)? as u32 })
                });
                (enabled, rule)
            }
            Err(e) if error_code(&e) == Some("ObjectLockConfigurationNotFoundError") => (false, None),
            Err(e) => return Err(call_error(e, "s3", "GetObjectLockConfiguration", site, what("Object Lock")).into()),
        })
    };
    let (pab, versioning, encryption, ownership, bucket_policy, lifecycle, logging, (object_lock_enabled, object_lock)) =
        tokio::try_join!(pab, versioning, encryption, ownership, bucket_policy, lifecycle, logging, object_lock)?;
    Ok(Some(BucketState {
        name: name.to_string(),
        public_access_block: pab,
        versioning,
        encryption,
        ownership,
        policy: bucket_policy,
        lifecycle,
        logging,
        object_lock_enabled,
        object_lock,
    }))
}

/// A lifecycle rule in the JSON shape `documents::lifecycle` writes.
pub(super) fn lifecycle_rule_json(r: &aws_sdk_s3::types::LifecycleRule) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), json!(r.id().unwrap_or_default()));
    m.insert("Status".into(), json!(r.status().as_str()));
    m.insert("Filter".into(), json!({"Prefix": r.filter().and_then(|f| f.prefix()).unwrap_or_default()}));
    let transitions: Vec<Value> = r
        .transitions()
        .iter()
        .map(|t| json!({"Days": t.days().unwrap_or_default(), "StorageClass": t.storage_class().map(|s| s.as_str()).unwrap_or_default()}))
        .collect();
    if !transitions.is_empty() {
        m.insert("Transitions".into(), Value::Array(transitions));
    }
    if let Some(n) = r.noncurrent_version_expiration().and_then(|n| n.noncurrent_days()) {
        m.insert("NoncurrentVersionExpiration".into(), json!({"NoncurrentDays": n}));
    }
    if let Some(a) = r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()) {
        m.insert("AbortIncompleteMultipartUpload".into(), json!({"DaysAfterInitiation": a}));
    }
    if let Some(d) = r.expiration().and_then(|e| e.days()) {
        m.insert("Expiration".into(), json!({"Days": d}));
    }
    Value::Object(m)
}

/// Keys sra created for this trail that no alias names: enabled, customer
/// managed, with the trail key's description and sra's tag. Apply takes one
/// (an earlier run created it and died before naming it); once the trail key
/// exists, plan reports them as manual clean-up (a concurrent run made them).
pub(super) async fn unnamed_keys(
    kms: &aws_sdk_kms::Client,
    site: &crate::aws::Site,
    spec: &LogArchiveSpec,
    rep: &Reporter,
) -> Result<Vec<aws_sdk_kms::types::KeyMetadata>> {
    rep.debug("kms:ListKeys, ListAliases");
    let (keys, aliases) = tokio::join!(
        kms.list_keys().into_paginator().send().try_collect(),
        kms.list_aliases().into_paginator().send().try_collect()
    );
    let keys = keys.map_err(|e| call_error(e, "kms", "ListKeys", site, "looking for a trail key sra did not name"))?;
    let aliases =
        aliases.map_err(|e| call_error(e, "kms", "ListAliases", site, "looking for a trail key sra did not name"))?;
    let named: std::collections::HashSet<&str> =
        aliases.iter().flat_map(|p| p.aliases()).filter_map(|a| a.target_key_id()).collect();
    let description = super::run::key_description(spec);
    let mut found = Vec::new();
    for id in keys.iter().flat_map(|p| p.keys()).filter_map(|k| k.key_id()).filter(|id| !named.contains(id)) {
        let meta = kms
            .describe_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| call_error(e, "kms", "DescribeKey", site, format!("reading key {id}")))?;
        let Some(meta) = meta.key_metadata() else { continue };
        let ours = meta.description() == Some(description.as_str())
            && meta.key_manager().is_some_and(|m| m.as_str() == "CUSTOMER")
            && meta.key_state().is_some_and(|s| s.as_str() == "Enabled");
        if !ours {
            continue;
        }
        let tags = kms
            .list_resource_tags()
            .key_id(id)
            .send()
            .await
            .map_err(|e| call_error(e, "kms", "ListResourceTags", site, format!("reading the tags of key {id}")))?;
        if tags.tags().iter().any(|t| t.tag_key() == super::MANAGED_TAG && t.tag_value() == "true") {
            found.push(meta.clone());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_policy_documents_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(parse_iam_policy(encoded), Some(json!({"Version": "2012-10-17", "Statement": []})));
        // RFC 3986: a plus is a plus; a stray percent before a multi-byte
        // character is kept as it is (this used to slice inside the character).
        assert_eq!(url_decoded("a+b%20c"), "a+b c");
        assert_eq!(url_decoded("%aé"), "%aé");
    }
}
