//! Log Archive: the organization trail, its KMS key and its two locked-down buckets.
//!
//! `desired` and `diff` here are pure: the desired state is the same struct as the
//! observed one, built from the plan file and the ids known so far; the diff
//! compares them property by property and maps each changed property to the step
//! that sets it. `observe` and `run` touch AWS.

pub mod documents;

use std::collections::BTreeMap;

use crate::engine::plan::{Action, Address, Change, Phrase, Property, Step, Verb};
use crate::model::{LogArchiveSpec, ObjectLock};
use crate::policy;

/// Which of the two buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BucketKind {
    /// Receives the server access logs of the log bucket.
    AccessLog,
    /// Receives the organization trail's logs.
    Log,
}

impl BucketKind {
    pub fn key(self) -> &'static str {
        match self {
            BucketKind::AccessLog => "access_log_bucket",
            BucketKind::Log => "log_bucket",
        }
    }
}

/// Ids the log-archive resources are named after. Unknown ones (accounts or a key
/// that apply will create) render as `(known after apply)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ids {
    pub partition: String,
    pub home_region: String,
    pub management_account: String,
    pub access_role: String,
    pub org_id: Option<String>,
    pub log_archive: Option<String>,
    pub security_tooling: Option<String>,
    pub key_arn: Option<String>,
}

pub const UNKNOWN: &str = "(known after apply)";
/// The tag on the trail key sra creates: how a key it created but did not name
/// yet (a run that stopped in between) is recognized and taken instead of a new one.
pub const MANAGED_TAG: &str = "sra:managed";

#[cfg(test)]
impl Ids {
    /// The ids unit tests use: management 111111111111, Log Archive 222222222222,
    /// Security Tooling 333333333333, organization o-abc, the trail key made.
    pub fn example() -> Ids {
        Ids {
            partition: "aws".into(),
            home_region: "us-east-1".into(),
            management_account: "111111111111".into(),
            access_role: "OrganizationAccountAccessRole".into(),
            org_id: Some("o-abc".into()),
            log_archive: Some("222222222222".into()),
            security_tooling: Some("333333333333".into()),
            key_arn: Some("arn:aws:kms:us-east-1:222222222222:key/k".into()),
        }
    }
}

impl Ids {
    pub fn org(&self) -> &str {
        self.org_id.as_deref().unwrap_or(UNKNOWN)
    }
    pub fn la(&self) -> &str {
        self.log_archive.as_deref().unwrap_or(UNKNOWN)
    }
    pub fn st(&self) -> &str {
        self.security_tooling.as_deref().unwrap_or(UNKNOWN)
    }
    pub fn key(&self) -> &str {
        self.key_arn.as_deref().unwrap_or(UNKNOWN)
    }
    pub fn bucket_name(&self, spec: &LogArchiveSpec, kind: BucketKind) -> String {
        let template = match kind {
            BucketKind::Log => &spec.bucket,
            BucketKind::AccessLog => &spec.access_log_bucket,
        };
        template.replace("{account_id}", self.la()).replace("{region}", &self.home_region)
    }
    /// Both log buckets and their objects, as ARNs (what the guardrails and the
    /// data perimeter name).
    pub fn bucket_arns(&self, spec: &LogArchiveSpec) -> Vec<String> {
        let p = &self.partition;
        [BucketKind::Log, BucketKind::AccessLog]
            .into_iter()
            .flat_map(|kind| {
                let name = self.bucket_name(spec, kind);
                [format!("arn:{p}:s3:::{name}"), format!("arn:{p}:s3:::{name}/*")]
            })
            .collect()
    }
    pub fn trail_arn(&self, spec: &LogArchiveSpec) -> String {
        format!(
            "arn:{}:cloudtrail:{}:{}:trail/{}",
            self.partition, self.home_region, self.management_account, spec.trail.name
        )
    }
}

/// The trail's KMS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    pub arn: Option<String>,
    pub enabled: bool,
    pub rotation: bool,
    pub policy: Option<serde_json::Value>,
}

/// S3 Block Public Access: the four flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
    fn props(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            (format!("{prefix}block_public_acls"), self.block_public_acls.to_string()),
            (format!("{prefix}ignore_public_acls"), self.ignore_public_acls.to_string()),
            (format!("{prefix}block_public_policy"), self.block_public_policy.to_string()),
            (format!("{prefix}restrict_public_buckets"), self.restrict_public_buckets.to_string()),
        ]
    }
}

/// Default encryption of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// `aws:kms` or `AES256`.
    pub algorithm: String,
    pub kms_key: Option<String>,
    pub bucket_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketState {
    pub name: String,
    pub public_access_block: Option<PublicAccessBlock>,
    /// `Enabled`, `Suspended`, or empty (never enabled).
    pub versioning: String,
    pub encryption: Option<Encryption>,
    pub ownership: Option<String>,
    pub policy: Option<serde_json::Value>,
    /// The lifecycle rules as JSON, in AWS's shape.
    pub lifecycle: Option<serde_json::Value>,
    /// Target bucket and prefix of server access logs.
    pub logging: Option<(String, String)>,
    /// Whether Object Lock was enabled when the bucket was made, and its default rule.
    pub object_lock_enabled: bool,
    pub object_lock: Option<ObjectLock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailState {
    pub arn: String,
    pub bucket: String,
    pub s3_key_prefix: Option<String>,
    pub kms_key: Option<String>,
    pub organization: bool,
    pub multi_region: bool,
    pub global_service_events: bool,
    pub log_file_validation: bool,
    pub logging: bool,
    /// Advanced event selectors, normalized JSON.
    pub event_selectors: serde_json::Value,
    /// CloudWatch Logs delivery: log group ARN and role ARN.
    pub cloudwatch_logs: Option<(String, String)>,
}

/// The trail's CloudWatch Logs group and the role CloudTrail writes to it with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CloudWatchState {
    /// Retention in days of the log group, if it exists (0: never expires).
    pub log_group_retention: Option<u32>,
    /// The role's trust and permissions policies, if it exists.
    pub role: Option<(Option<serde_json::Value>, Option<serde_json::Value>)>,
}

/// Name of the role CloudTrail uses to write to CloudWatch Logs.
pub const LOGS_ROLE: &str = "sra-cloudtrail-cloudwatch-logs";

impl Ids {
    pub fn log_group_arn(&self, group: &str) -> String {
        format!("arn:{}:logs:{}:{}:log-group:{group}:*", self.partition, self.home_region, self.management_account)
    }
    pub fn logs_role_arn(&self) -> String {
        format!("arn:{}:iam::{}:role/{LOGS_ROLE}", self.partition, self.management_account)
    }
}

/// What AWS has. `None` means absent; for resources in Log Archive, absent too when
/// that account does not exist yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedLogArchive {
    pub key: Option<KeyState>,
    pub account_public_access_block: Option<PublicAccessBlock>,
    pub buckets: BTreeMap<BucketKind, BucketState>,
    pub trail: Option<TrailState>,
    pub cloudwatch: CloudWatchState,
    /// Keys tagged `sra:managed` with the trail key's description that no alias
    /// names (ARNs): left by an interrupted or concurrent apply.
    pub stray_keys: Vec<String>,
}

/// The desired state of everything in this slice.
pub fn desired(spec: &LogArchiveSpec, ids: &Ids) -> ObservedLogArchive {
    let mut buckets = BTreeMap::new();
    for kind in [BucketKind::AccessLog, BucketKind::Log] {
        buckets.insert(kind, desired_bucket(spec, ids, kind));
    }
    ObservedLogArchive {
        key: Some(KeyState {
            arn: ids.key_arn.clone(),
            enabled: true,
            rotation: true,
            policy: Some(documents::key_policy(spec, ids)),
        }),
        account_public_access_block: Some(PublicAccessBlock::ALL),
        buckets,
        trail: Some(TrailState {
            arn: ids.trail_arn(spec),
            bucket: ids.bucket_name(spec, BucketKind::Log),
            s3_key_prefix: spec.trail.s3_key_prefix.clone(),
            kms_key: Some(ids.key().to_string()),
            organization: true,
            multi_region: true,
            global_service_events: true,
            log_file_validation: true,
            logging: true,
            event_selectors: documents::event_selectors(spec, ids),
            cloudwatch_logs: spec
                .trail
                .cloudwatch_logs
                .as_ref()
                .map(|cw| (ids.log_group_arn(&cw.log_group), ids.logs_role_arn())),
        }),
        cloudwatch: CloudWatchState {
            log_group_retention: spec.trail.cloudwatch_logs.as_ref().map(|c| c.retention_days),
            role: None,
        },
        stray_keys: vec![],
    }
}

pub fn desired_bucket(spec: &LogArchiveSpec, ids: &Ids, kind: BucketKind) -> BucketState {
    let (encryption, logging, object_lock) = match kind {
        BucketKind::Log => (
            Encryption { algorithm: "aws:kms".into(), kms_key: Some(ids.key().to_string()), bucket_key: true },
            Some((ids.bucket_name(spec, BucketKind::AccessLog), "log-bucket/".to_string())),
            spec.object_lock.clone(),
        ),
        // S3 delivers server access logs only to buckets encrypted with SSE-S3.
        BucketKind::AccessLog => {
            (Encryption { algorithm: "AES256".into(), kms_key: None, bucket_key: false }, None, None)
        }
    };
    BucketState {
        name: ids.bucket_name(spec, kind),
        public_access_block: Some(PublicAccessBlock::ALL),
        versioning: "Enabled".into(),
        encryption: Some(encryption),
        ownership: Some("BucketOwnerEnforced".into()),
        policy: Some(documents::bucket_policy(spec, ids, kind)),
        lifecycle: Some(documents::lifecycle(spec)),
        logging,
        object_lock_enabled: object_lock.is_some(),
        object_lock,
    }
}

/// A resource's properties as (name, rendered value); policies are pretty,
/// normalized JSON, so comparing renderings is comparing meaning.
type Props = Vec<(String, String)>;

fn key_props(k: &KeyState) -> Props {
    vec![
        ("enabled".into(), k.enabled.to_string()),
        ("rotation".into(), k.rotation.to_string()),
        ("policy".into(), k.policy.as_ref().map_or_else(|| "(none)".into(), policy::pretty)),
    ]
}

fn bucket_props(b: &BucketState) -> Props {
    let none = || "(none)".to_string();
    let mut p = b.public_access_block.unwrap_or_default().props("public_access_block.");
    p.push((
        "versioning".into(),
        if b.versioning.is_empty() { "(never enabled)".into() } else { b.versioning.clone() },
    ));
    let enc = b.encryption.clone();
    p.push(("encryption.algorithm".into(), enc.as_ref().map_or_else(none, |e| e.algorithm.clone())));
    p.push(("encryption.kms_key".into(), enc.as_ref().and_then(|e| e.kms_key.clone()).unwrap_or_else(none)));
    p.push(("encryption.bucket_key".into(), enc.as_ref().is_some_and(|e| e.bucket_key).to_string()));
    p.push(("ownership".into(), b.ownership.clone().unwrap_or_else(none)));
    p.push(("policy".into(), b.policy.as_ref().map_or_else(none, policy::pretty)));
    p.push((
        "lifecycle".into(),
        b.lifecycle.as_ref().map_or_else(none, |l| serde_json::to_string_pretty(l).unwrap_or_default()),
    ));
    p.push(("logging".into(), b.logging.as_ref().map_or_else(none, |(t, pre)| format!("s3://{t}/{pre}"))));
    p.push(("object_lock".into(), b.object_lock.as_ref().map_or_else(none, |o| format!("{} {} days", o.mode, o.days))));
    p
}

fn trail_props(t: &TrailState, with_cloudwatch: bool) -> Props {
    let mut p = vec![
        ("s3_bucket".into(), t.bucket.clone()),
        ("s3_key_prefix".into(), t.s3_key_prefix.clone().unwrap_or_else(|| "(none)".into())),
        ("kms_key".into(), t.kms_key.clone().unwrap_or_else(|| "(none)".into())),
        ("organization_trail".into(), t.organization.to_string()),
        ("multi_region".into(), t.multi_region.to_string()),
        ("global_service_events".into(), t.global_service_events.to_string()),
        ("log_file_validation".into(), t.log_file_validation.to_string()),
        ("logging".into(), t.logging.to_string()),
        ("event_selectors".into(), serde_json::to_string_pretty(&t.event_selectors).unwrap_or_default()),
    ];
    if with_cloudwatch {
        let (group, role) = t.cloudwatch_logs.clone().unwrap_or_else(|| ("(none)".into(), "(none)".into()));
        p.push(("cloudwatch_logs_log_group".into(), group));
        p.push(("cloudwatch_logs_role".into(), role));
    }
    p
}

/// What each changed property takes to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    CreateKey,
    PutKeyPolicy,
    EnableKeyRotation,
    EnableKey,
    PutAccountPublicAccessBlock,
    CreateBucket,
    PutPublicAccessBlock,
    PutOwnership,
    PutVersioning,
    PutEncryption,
    PutLifecycle,
    PutLogging,
    PutObjectLock,
    /// Last among a bucket's settings: the policy's deny statements come into force.
    PutBucketPolicy,
    CreateLogGroup,
    PutRetentionPolicy,
    CreateLogsRole,
    PutLogsRolePolicies,
    CreateTrail,
    UpdateTrail,
    PutEventSelectors,
    StartLogging,
}

impl Op {
    /// The operation in words (plan and progress); the change's address names the resource.
    pub fn phrase(self) -> Phrase {
        use Verb::*;
        let (verb, object) = match self {
            Op::CreateKey => (Create, "the trail's KMS key (customer managed, symmetric)"),
            Op::PutKeyPolicy => (Set, "the key policy"),
            Op::EnableKeyRotation => (Enable, "automatic key rotation"),
            Op::EnableKey => (Enable, "the key"),
            Op::PutAccountPublicAccessBlock => {
                (Set, "Block Public Access for the Log Archive account (all four settings)")
            }
            Op::CreateBucket => (Create, "the bucket"),
            Op::PutPublicAccessBlock => (Set, "the bucket's Block Public Access (all four settings)"),
            Op::PutOwnership => (Set, "object ownership to bucket owner enforced (ACLs off)"),
            Op::PutVersioning => (Enable, "versioning"),
            Op::PutEncryption => (Set, "default encryption (SSE-KMS with the trail's key, bucket key on)"),
            Op::PutLifecycle => (Set, "the lifecycle rules"),
            Op::PutLogging => (Set, "server access logging to the access-log bucket"),
            Op::PutObjectLock => (Set, "Object Lock"),
            Op::PutBucketPolicy => (Set, "the bucket policy"),
            Op::CreateLogGroup => (Create, "the CloudWatch Logs group"),
            Op::PutRetentionPolicy => (Set, "the log group's retention"),
            Op::CreateLogsRole => (Create, "the role CloudTrail delivers to CloudWatch Logs with"),
            Op::PutLogsRolePolicies => (Set, "the role's trust and permission policies"),
            Op::CreateTrail => (Create, "the organization trail"),
            Op::UpdateTrail => (Update, "the trail's settings"),
            Op::PutEventSelectors => (Set, "the trail's event selectors"),
            Op::StartLogging => (Start, "logging"),
        };
        Phrase::new(verb, object)
    }
}

/// Which resource a log-archive step acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Key,
    AccountPublicAccessBlock,
    Bucket(BucketKind),
    LogGroup,
    LogsRole,
    Trail,
}

fn bucket_op(prop: &str) -> Op {
    match prop.split('.').next().unwrap_or(prop) {
        "public_access_block" => Op::PutPublicAccessBlock,
        "versioning" => Op::PutVersioning,
        "encryption" => Op::PutEncryption,
        "ownership" => Op::PutOwnership,
        "policy" => Op::PutBucketPolicy,
        "lifecycle" => Op::PutLifecycle,
        "logging" => Op::PutLogging,
        _ => Op::PutObjectLock,
    }
}

fn trail_op(prop: &str) -> Op {
    match prop {
        "cloudwatch_logs_log_group" | "cloudwatch_logs_role" => Op::UpdateTrail,
        "logging" => Op::StartLogging,
        "event_selectors" => Op::PutEventSelectors,
        _ => Op::UpdateTrail,
    }
}

fn key_op(prop: &str) -> Op {
    match prop {
        "rotation" => Op::EnableKeyRotation,
        "enabled" => Op::EnableKey,
        _ => Op::PutKeyPolicy,
    }
}

/// Compare one resource. `create_ops` are the steps that make it from nothing.
fn compare(
    address: Address,
    id: Option<String>,
    target: Target,
    want: Props,
    have: Option<Props>,
    create_ops: &[Op],
    op_of: fn(&str) -> Op,
) -> Change {
    let step = |op: Op| Step::LogArchive { target, op };
    match have {
        None => Change {
            address,
            action: Action::Create,
            id,
            properties: want.into_iter().map(|(n, v)| Property { name: n, before: None, after: Some(v) }).collect(),
            reason: String::new(),
            steps: create_ops.iter().map(|op| step(*op)).collect(),
            manual: vec![],
        },
        Some(have) => {
            let have: BTreeMap<String, String> = have.into_iter().collect();
            let mut properties = Vec::new();
            let mut ops: Vec<Op> = Vec::new();
            for (name, after) in want {
                let before = have.get(&name).cloned();
                if before.as_deref() != Some(after.as_str()) {
                    let op = op_of(&name);
                    if !ops.contains(&op) {
                        ops.push(op);
                    }
                }
                properties.push(Property { name, before, after: Some(after) });
            }
            ops.sort();
            Change {
                address,
                action: if ops.is_empty() { Action::NoOp } else { Action::Update },
                id,
                properties,
                reason: String::new(),
                steps: ops.into_iter().map(step).collect(),
                manual: vec![],
            }
        }
    }
}

/// The changes that bring `have` to what `spec` asks for.
pub fn diff(spec: &LogArchiveSpec, ids: &Ids, have: &ObservedLogArchive) -> Vec<Change> {
    if !spec.enabled {
        return vec![];
    }
    let want = desired(spec, ids);
    let mut out = Vec::new();

    let key_id = have.key.as_ref().and_then(|k| k.arn.clone());
    let mut key = compare(
        Address::KmsKey,
        key_id,
        Target::Key,
        key_props(want.key.as_ref().expect("desired has a key")),
        have.key.as_ref().map(key_props),
        &[Op::CreateKey],
        key_op,
    );
    if key.action == Action::Create {
        key.reason = format!("no key with alias {} in Log Archive", spec.trail.kms_key_alias);
    }
    // Once the trail key exists, apply takes no other: each one left is clean-up
    // for a person (sra never deletes a key).
    if have.key.is_some() {
        key.manual.extend(have.stray_keys.iter().map(|arn| {
            format!(
                "the key {arn} is tagged {MANAGED_TAG} but no alias names it (an interrupted or concurrent apply made \
                 it): check that nothing uses it (the trail and the buckets use {}), then schedule its deletion as the \
                 break-glass role in Log Archive (kms:ScheduleKeyDeletion; its key policy refuses others)",
                spec.trail.kms_key_alias
            )
        }));
    }
    out.push(key);

    let mut pab = compare(
        Address::AccountPublicAccessBlock,
        ids.log_archive.clone(),
        Target::AccountPublicAccessBlock,
        PublicAccessBlock::ALL.props(""),
        have.account_public_access_block.map(|p| p.props("")),
        &[Op::PutAccountPublicAccessBlock],
        |_| Op::PutAccountPublicAccessBlock,
    );
    if pab.action == Action::Create {
        pab.reason = "Block Public Access is not set for the Log Archive account".into();
    }
    out.push(pab);

    for kind in [BucketKind::AccessLog, BucketKind::Log] {
        let want_b = &want.buckets[&kind];
        let have_b = have.buckets.get(&kind);
        let create_ops = [
            Op::CreateBucket,
            Op::PutPublicAccessBlock,
            Op::PutOwnership,
            Op::PutVersioning,
            Op::PutEncryption,
            Op::PutLifecycle,
            Op::PutLogging,
            Op::PutObjectLock,
            Op::PutBucketPolicy,
        ];
        let create_ops: Vec<Op> = create_ops
            .into_iter()
            .filter(|op| match op {
                Op::PutLogging => want_b.logging.is_some(),
                Op::PutObjectLock => want_b.object_lock.is_some(),
                _ => true,
            })
            .collect();
        let mut change = compare(
            Address::Bucket(kind),
            have_b.map(|b| b.name.clone()),
            Target::Bucket(kind),
            bucket_props(want_b),
            have_b.map(bucket_props),
            &create_ops,
            bucket_op,
        );
        if change.action == Action::Create {
            change.id = Some(want_b.name.clone());
        }
        // Object Lock on a bucket that exists: S3 enables it in place (versioning
        // on first, which the steps before do; S3 guide, object-lock-configure.html,
        // "Enable Object Lock on an existing S3 bucket"). It cannot be turned off
        // again, and the objects already there are not locked: the plan says so.
        if let Some(have_b) = have_b
            && want_b.object_lock.is_some()
            && !have_b.object_lock_enabled
        {
            change.reason = format!(
                "Object Lock is enabled on the existing bucket {} for good (it cannot be disabled); the log \
                 objects already in it are not locked, only those written after",
                have_b.name
            );
        }
        out.push(change);
    }

    let with_cw = spec.trail.cloudwatch_logs.is_some();
    if let Some(cw) = &spec.trail.cloudwatch_logs {
        let mut group = compare(
            Address::TrailLogGroup,
            Some(cw.log_group.clone()),
            Target::LogGroup,
            vec![("retention_days".into(), cw.retention_days.to_string())],
            have.cloudwatch.log_group_retention.map(|r| vec![("retention_days".into(), r.to_string())]),
            &[Op::CreateLogGroup, Op::PutRetentionPolicy],
            |_| Op::PutRetentionPolicy,
        );
        if group.action == Action::Create {
            group.reason = "the trail is also delivered to CloudWatch Logs".into();
        }
        out.push(group);
        let role_props = |trust: Option<&serde_json::Value>, perms: Option<&serde_json::Value>| {
            vec![
                ("trust_policy".to_string(), trust.map_or_else(|| "(none)".into(), policy::pretty)),
                ("permissions_policy".to_string(), perms.map_or_else(|| "(none)".into(), policy::pretty)),
            ]
        };
        out.push(compare(
            Address::TrailLogsRole,
            Some(LOGS_ROLE.to_string()),
            Target::LogsRole,
            role_props(Some(&documents::logs_role_trust(ids, spec)), Some(&documents::logs_role_policy(ids, cw))),
            have.cloudwatch.role.as_ref().map(|(t, p)| role_props(t.as_ref(), p.as_ref())),
            &[Op::CreateLogsRole],
            |_| Op::PutLogsRolePolicies,
        ));
    }
    let mut trail = compare(
        Address::Trail,
        have.trail.as_ref().map(|t| t.arn.clone()),
        Target::Trail,
        trail_props(want.trail.as_ref().expect("desired has a trail"), with_cw),
        have.trail.as_ref().map(|t| trail_props(t, with_cw)),
        &[Op::CreateTrail, Op::PutEventSelectors, Op::StartLogging],
        trail_op,
    );
    if trail.action == Action::Create {
        trail.reason = format!("no trail named {} in the management account", spec.trail.name);
    }
    out.push(trail);
    out
}

#[cfg(test)]
mod tests;
