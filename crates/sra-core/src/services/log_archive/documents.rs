//! The documents sra writes: key policy, bucket policies, lifecycle rules and
//! event selectors. Pure functions of the plan file and the ids.

use serde_json::{Value, json};

use super::{BucketKind, Ids};
use crate::model::LogArchiveSpec;

/// Who may change or delete the buckets' settings: the role sra itself uses (or it
/// could never repair drift) and the break-glass role, both in Log Archive.
fn exempt_principals(spec: &LogArchiveSpec, ids: &Ids) -> Vec<String> {
    let mut out = vec![format!("arn:{}:iam::{}:role/{}", ids.partition, ids.la(), ids.access_role)];
    if let Some(role) = &spec.break_glass_role {
        out.push(format!("arn:{}:iam::{}:role/{role}", ids.partition, ids.la()));
    }
    out
}

fn break_glass(spec: &LogArchiveSpec, ids: &Ids) -> Vec<String> {
    match &spec.break_glass_role {
        Some(role) => vec![format!("arn:{}:iam::{}:role/{role}", ids.partition, ids.la())],
        // Nobody but the account root may delete log objects.
        None => vec![format!("arn:{}:iam::{}:root", ids.partition, ids.la())],
    }
}

/// What would make the trail key unusable or take it from Log Archive's control:
/// denied in the key policy and in the ProtectTrailKey guardrail to all but the
/// exempt roles, so a mistake in one layer does not open it.
pub const KEY_TAMPER_ACTIONS: &[&str] = &[
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:UpdateAlias",
];

/// The CloudTrail key: CloudTrail may encrypt for this trail only, organization
/// principals may decrypt log files, Log Archive administers it.
pub fn key_policy(spec: &LogArchiveSpec, ids: &Ids) -> Value {
    let p = &ids.partition;
    let trail_arn = ids.trail_arn(spec);
    let trails_of_management = format!("arn:{p}:cloudtrail:*:{}:trail/*", ids.management_account);
    let mut statements = vec![
        json!({
            "Sid": "KeyAdministrationByLogArchive",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{p}:iam::{}:root", ids.la())},
            "Action": "kms:*",
            "Resource": "*"
        }),
        json!({
            "Sid": "DenyKeyTampering",
            "Effect": "Deny",
            "Principal": "*",
            "Action": KEY_TAMPER_ACTIONS,
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": exempt_principals(spec, ids)}}
        }),
        json!({
            "Sid": "CloudTrailEncryptsForThisTrail",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail_arn},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails_of_management}
            }
        }),
        json!({
            "Sid": "CloudTrailDescribesKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}
        }),
        // The log bucket's default encryption uses this key with an S3 Bucket
        // Key: then "kms:Decrypt permissions are required to create or update a
        // trail with SSE-KMS encryption enabled" (CloudTrail guide,
        // create-kms-key-policy-for-cloudtrail.html), for the caller of
        // CreateTrail and UpdateTrail, in the management account.
        json!({
            "Sid": "TrailCreatorChecksTheKey",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{p}:iam::{}:root", ids.management_account)},
            "Action": "kms:Decrypt",
            "Resource": "*"
        }),
        json!({
            "Sid": "OrganizationDecryptsLogFiles",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": ids.org()},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails_of_management}
            }
        }),
    ];
    let readers = readers(spec, ids);
    if !readers.is_empty() {
        // Reading a log file is S3 decrypting it for the reader: trail files
        // (CloudTrail's encryption context) and Config files (S3's) alike.
        statements.push(json!({
            "Sid": "ReadersDecryptLogFiles",
            "Effect": "Allow",
            "Principal": {"AWS": readers},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", ids.home_region)}}
        }));
    }
    if spec.config_delivery {
        statements.push(json!({
            "Sid": "ConfigEncryptsDeliveries",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceOrgID": ids.org()}}
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Who may read the log files: `[log_bucket] readers`, by default Security
/// Tooling's account (its own IAM policies then decide which of its principals).
pub fn readers(spec: &LogArchiveSpec, ids: &Ids) -> Vec<String> {
    match &spec.readers {
        Some(list) => list.clone(),
        None => vec![format!("arn:{}:iam::{}:root", ids.partition, ids.st())],
    }
}

/// The actions that would weaken a bucket's protection.
const TAMPER_ACTIONS: &[&str] = &[
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketLogging",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
];

/// The bucket policy: TLS only, the writer service only (scoped to the trail or
/// the log bucket), nobody outside the organization, and no weakening or deleting
/// except by the exempt roles.
pub fn bucket_policy(spec: &LogArchiveSpec, ids: &Ids, kind: BucketKind) -> Value {
    let p = &ids.partition;
    let bucket = format!("arn:{p}:s3:::{}", ids.bucket_name(spec, kind));
    let objects = format!("{bucket}/*");
    let mut statements = vec![
        json!({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }),
        json!({
            "Sid": "DenyOutsideOrganization",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, objects],
            "Condition": {
                "StringNotEquals": {"aws:PrincipalOrgID": ids.org()},
                "Bool": {"aws:PrincipalIsAWSService": "false"}
            }
        }),
        json!({
            "Sid": "DenyWeakeningTheBucket",
            "Effect": "Deny",
            "Principal": "*",
            "Action": TAMPER_ACTIONS,
            "Resource": bucket,
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": exempt_principals(spec, ids)}}
        }),
        json!({
            "Sid": "DenyDeletingLogs",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": objects,
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": break_glass(spec, ids)}}
        }),
    ];
    match kind {
        BucketKind::Log => {
            let trail_arn = ids.trail_arn(spec);
            let prefix = spec.trail.s3_key_prefix.as_deref().map(|s| format!("{s}/")).unwrap_or_default();
            statements.push(json!({
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": bucket,
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}
            }));
            statements.push(json!({
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": [
                    format!("{bucket}/{prefix}AWSLogs/{}/*", ids.management_account),
                    format!("{bucket}/{prefix}AWSLogs/{}/*", ids.org()),
                ],
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}}
            }));
        }
        BucketKind::AccessLog => {
            let log_bucket = format!("arn:{p}:s3:::{}", ids.bucket_name(spec, BucketKind::Log));
            statements.push(json!({
                "Sid": "S3ServerAccessLogsWrite",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": log_bucket},
                    "StringEquals": {"aws:SourceAccount": ids.la()}
                }
            }));
        }
    }
    let readers = readers(spec, ids);
    if kind == BucketKind::Log && !readers.is_empty() {
        // The deny statements above still hold for them: TLS only, the
        // organization only.
        statements.push(json!({
            "Sid": "ReadersReadLogFiles",
            "Effect": "Allow",
            "Principal": {"AWS": readers},
            "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [bucket.clone(), objects.clone()]
        }));
    }
    match kind {
        BucketKind::Log if spec.config_delivery => {
            // AWS Config in Security Tooling and Log Archive (and any account of
            // the organization) delivers snapshots and history here.
            let org_only = json!({"StringEquals": {"aws:SourceOrgID": ids.org()}});
            statements.push(json!({
                "Sid": "ConfigAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": bucket,
                "Condition": org_only
            }));
            statements.push(json!({
                "Sid": "ConfigWrite",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("{bucket}/AWSLogs/*/Config/*"),
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceOrgID": ids.org()}}
            }));
        }
        _ => {}
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Who may assume the CloudWatch Logs role: CloudTrail, for this trail only.
pub fn logs_role_trust(ids: &Ids, spec: &LogArchiveSpec) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceArn": ids.trail_arn(spec)}}
        }]
    })
}

/// What the CloudWatch Logs role may do: write the trail's log streams, nothing else.
pub fn logs_role_policy(ids: &Ids, cw: &crate::model::CloudWatchLogs) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WriteTheTrailsLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": ids.log_group_arn(&cw.log_group)
        }]
    })
}

/// The lifecycle rules, in the shape GetBucketLifecycleConfiguration returns them.
pub fn lifecycle(spec: &LogArchiveSpec) -> Value {
    let lc = &spec.lifecycle;
    let mut rule = json!({
        "ID": "sra-log-retention",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Transitions": [{"Days": lc.transition_days, "StorageClass": lc.transition_storage_class}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": lc.noncurrent_expiration_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}
    });
    if let Some(days) = lc.retention_days {
        rule["Expiration"] = json!({"Days": days});
    }
    json!([rule])
}

/// Advanced event selectors: management events, and the chosen data events, never
/// for the log buckets themselves (logging their writes would loop).
pub fn event_selectors(spec: &LogArchiveSpec, ids: &Ids) -> Value {
    let mut selectors = vec![json!({
        "Name": "Management events selector",
        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]
    })];
    for kind in &spec.trail.data_events {
        match kind.as_str() {
            "s3" => {
                let p = &ids.partition;
                selectors.push(json!({
                    "Name": "S3 data events, except the log buckets",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                        {"Field": "resources.ARN", "NotStartsWith": [
                            format!("arn:{p}:s3:::{}/", ids.bucket_name(spec, BucketKind::Log)),
                            format!("arn:{p}:s3:::{}/", ids.bucket_name(spec, BucketKind::AccessLog)),
                        ]}
                    ]
                }));
            }
            "lambda" => selectors.push(json!({
                "Name": "Lambda data events",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}
                ]
            })),
            _ => {}
        }
    }
    normalize_selectors(&Value::Array(selectors))
}

/// Event selectors compare without regard to the order of field selectors or of
/// the values in them.
pub fn normalize_selectors(v: &Value) -> Value {
    let Value::Array(list) = v else { return v.clone() };
    let mut out: Vec<Value> = list
        .iter()
        .map(|sel| {
            let mut sel = sel.clone();
            if let Some(Value::Array(fields)) = sel.get_mut("FieldSelectors") {
                for f in fields.iter_mut() {
                    if let Value::Object(m) = f {
                        for (k, v) in m.iter_mut() {
                            if k != "Field"
                                && let Value::Array(vals) = v
                            {
                                vals.sort_by_key(|x| x.to_string());
                            }
                        }
                        m.retain(|_, v| !matches!(v, Value::Array(a) if a.is_empty()) && !v.is_null());
                    }
                }
                fields.sort_by_key(|f| f.to_string());
            }
            sel
        })
        .collect();
    out.sort_by_key(|s| s.to_string());
    Value::Array(out)
}
