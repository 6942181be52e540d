//! Every guardrail: its name, the SCP it belongs to, what it denies and on what.
//! docs/guardrails.md describes the same list for people.

use serde_json::{Value, json};

use super::Refs;
use crate::services::log_archive::BucketKind;

pub struct Guardrail {
    pub name: &'static str,
    pub policy: &'static str,
    pub summary: &'static str,
    /// (actions, resources) of the Deny statement.
    pub statement: fn(&Refs) -> (Value, Value),
}

/// The SCPs guardrails are grouped in: (name, description).
pub const POLICIES: &[(&str, &str)] = &[
    ("sra-guardrails-organization", "sra guardrails: membership of the organization and the access role sra uses"),
    ("sra-guardrails-logging", "sra guardrails: the organization trail, its log buckets and AWS Config"),
    (
        "sra-guardrails-security-services",
        "sra guardrails: GuardDuty, Security Hub, Macie, Inspector, Detective, Access Analyzer",
    ),
];

fn all() -> Value {
    json!("*")
}

pub const CATALOG: &[Guardrail] = &[
    Guardrail {
        name: "DenyLeaveOrganization",
        policy: "sra-guardrails-organization",
        summary: "leaving the organization",
        statement: |_| (json!(["organizations:LeaveOrganization"]), all()),
    },
    Guardrail {
        name: "ProtectAccessRole",
        policy: "sra-guardrails-organization",
        summary: "changing or deleting the role sra works through (organization.access_role)",
        statement: |r| {
            (
                json!([
                    "iam:AttachRolePolicy",
                    "iam:DeleteRole",
                    "iam:DeleteRolePermissionsBoundary",
                    "iam:DeleteRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:UpdateRole",
                    "iam:UpdateRoleDescription"
                ]),
                json!(format!("arn:{}:iam::*:role/{}", r.ids.partition, r.ids.access_role)),
            )
        },
    },
    Guardrail {
        name: "ProtectOrganizationTrail",
        policy: "sra-guardrails-logging",
        summary: "stopping, deleting or changing the organization trail",
        statement: |r| {
            (
                json!([
                    "cloudtrail:DeleteTrail",
                    "cloudtrail:PutEventSelectors",
                    "cloudtrail:PutInsightSelectors",
                    "cloudtrail:StopLogging",
                    "cloudtrail:UpdateTrail"
                ]),
                json!(r.ids.trail_arn(r.log_archive)),
            )
        },
    },
    Guardrail {
        name: "ProtectLogBuckets",
        policy: "sra-guardrails-logging",
        summary: "deleting log objects, or changing the log and access-log buckets' policy, encryption, versioning, public access block, lifecycle, logging or Object Lock",
        statement: |r| {
            let p = &r.ids.partition;
            let mut resources = Vec::new();
            for kind in [BucketKind::Log, BucketKind::AccessLog] {
                let name = r.ids.bucket_name(r.log_archive, kind);
                resources.push(format!("arn:{p}:s3:::{name}"));
                resources.push(format!("arn:{p}:s3:::{name}/*"));
            }
            (
                json!([
                    "s3:DeleteBucket",
                    "s3:DeleteBucketPolicy",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                    "s3:PutBucketLogging",
                    "s3:PutBucketObjectLockConfiguration",
                    "s3:PutBucketOwnershipControls",
                    "s3:PutBucketPolicy",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:PutBucketVersioning",
                    "s3:PutEncryptionConfiguration",
                    "s3:PutLifecycleConfiguration"
                ]),
                json!(resources),
            )
        },
    },
    Guardrail {
        name: "ProtectConfigRecorders",
        policy: "sra-guardrails-logging",
        summary: "stopping or deleting AWS Config recorders and delivery channels",
        statement: |_| {
            (
                json!([
                    "config:DeleteConfigurationRecorder",
                    "config:DeleteDeliveryChannel",
                    "config:DeleteRetentionConfiguration",
                    "config:PutConfigurationRecorder",
                    "config:PutDeliveryChannel",
                    "config:StopConfigurationRecorder"
                ]),
                all(),
            )
        },
    },
    Guardrail {
        name: "ProtectGuardDuty",
        policy: "sra-guardrails-security-services",
        summary: "disabling GuardDuty, deleting detectors or leaving the administrator",
        statement: |_| {
            (
                json!([
                    "guardduty:DeleteDetector",
                    "guardduty:DeleteMembers",
                    "guardduty:DisassociateFromAdministratorAccount",
                    "guardduty:DisassociateFromMasterAccount",
                    "guardduty:DisassociateMembers",
                    "guardduty:StopMonitoringMembers",
                    "guardduty:UpdateDetector"
                ]),
                all(),
            )
        },
    },
    Guardrail {
        name: "ProtectSecurityHub",
        policy: "sra-guardrails-security-services",
        summary: "disabling Security Hub or its standards, or leaving the administrator",
        statement: |_| {
            (
                json!([
                    "securityhub:BatchDisableStandards",
                    "securityhub:DeleteMembers",
                    "securityhub:DisableSecurityHub",
                    "securityhub:DisassociateFromAdministratorAccount",
                    "securityhub:DisassociateFromMasterAccount",
                    "securityhub:DisassociateMembers"
                ]),
                all(),
            )
        },
    },
    Guardrail {
        name: "ProtectMacie",
        policy: "sra-guardrails-security-services",
        summary: "disabling Macie or leaving the administrator",
        statement: |_| {
            (
                json!([
                    "macie2:DisableMacie",
                    "macie2:DisassociateFromAdministratorAccount",
                    "macie2:DisassociateFromMasterAccount"
                ]),
                all(),
            )
        },
    },
    Guardrail {
        name: "ProtectInspector",
        policy: "sra-guardrails-security-services",
        summary: "disabling Inspector or leaving the administrator",
        statement: |_| (json!(["inspector2:Disable", "inspector2:DisassociateMember"]), all()),
    },
    Guardrail {
        name: "ProtectDetective",
        policy: "sra-guardrails-security-services",
        summary: "leaving the Detective behaviour graph or deleting it",
        statement: |_| (json!(["detective:DeleteGraph", "detective:DisassociateMembership"]), all()),
    },
    Guardrail {
        name: "ProtectAccessAnalyzer",
        policy: "sra-guardrails-security-services",
        summary: "deleting IAM Access Analyzer analyzers",
        statement: |_| (json!(["access-analyzer:DeleteAnalyzer"]), all()),
    },
];

/// The names of all guardrails, for validation and did-you-mean.
pub fn names() -> Vec<&'static str> {
    CATALOG.iter().map(|g| g.name).collect()
}
