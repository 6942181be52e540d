//! Every guardrail: its name, the SCP it belongs to, what it denies and on what.
//! docs/guardrails.md describes the same list for people.

use serde_json::{Value, json};

use super::Refs;
use crate::model::GuardrailSpec;

pub struct Guardrail {
    pub name: &'static str,
    pub policy: &'static str,
    pub summary: &'static str,
    /// What the Deny statement covers.
    pub statement: fn(&Refs, &GuardrailSpec) -> Deny,
    /// Whether the plan sets up what the guardrail protects.
    pub applies: fn(&Refs) -> bool,
}

/// The parts of a guardrail's Deny statement besides its exemptions.
pub struct Deny {
    pub actions: Value,
    pub resources: Value,
    /// Only principals of these accounts are denied (`aws:PrincipalAccount`):
    /// for actions whose resource is `*`, the accounts where sra set it up.
    pub only_in: Option<Vec<String>>,
}

fn deny(actions: Value, resources: Value) -> Deny {
    Deny { actions, resources, only_in: None }
}

fn always(_: &Refs) -> bool {
    true
}

fn with_log_archive(r: &Refs) -> bool {
    r.log_archive.enabled
}

/// The accounts sra records AWS Config in (config::ACCOUNTS: Security Tooling and
/// Log Archive), by id.
fn config_accounts(r: &Refs) -> Vec<String> {
    let st = r.ids.security_tooling.as_deref().unwrap_or(crate::services::log_archive::UNKNOWN);
    vec![st.to_string(), r.ids.la().to_string()]
}

/// What undoes the baselines the plan sets, by the baseline.
fn baseline_actions(b: &crate::model::BaselineSpec) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !b.enabled {
        return out;
    }
    if b.ebs_default_encryption {
        out.push("ec2:DisableEbsEncryptionByDefault");
    }
    if b.password_policy {
        out.extend(["iam:DeleteAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy"]);
    }
    if b.security_contact.is_some() {
        out.extend(["account:DeleteAlternateContact", "account:PutAlternateContact"]);
    }
    out
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
        statement: |_, _| deny(json!(["organizations:LeaveOrganization"]), all()),
        applies: always,
    },
    Guardrail {
        name: "ProtectAccessRole",
        policy: "sra-guardrails-organization",
        summary: "creating, passing, changing, re-trusting or deleting the exempt roles (the role sra works through and the break-glass role), in every account",
        statement: |r, spec| {
            let mut names: Vec<&str> = spec.exempt_roles.iter().map(String::as_str).collect();
            for must in
                [Some(r.ids.access_role.as_str()), r.log_archive.break_glass_role.as_deref()].into_iter().flatten()
            {
                if !names.contains(&must) {
                    names.push(must);
                }
            }
            // A role named like an exempt role, created or re-trusted in any
            // account, would escape every guardrail there.
            let resources: Vec<String> =
                names.iter().map(|n| format!("arn:{}:iam::*:role/{n}", r.ids.partition)).collect();
            deny(
                json!([
                    "iam:AttachRolePolicy",
                    "iam:CreateRole",
                    "iam:DeleteRole",
                    "iam:DeleteRolePermissionsBoundary",
                    "iam:DeleteRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:PassRole",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:UpdateRole",
                    "iam:UpdateRoleDescription"
                ]),
                json!(resources),
            )
        },
        applies: always,
    },
    Guardrail {
        name: "ProtectOrganizationTrail",
        policy: "sra-guardrails-logging",
        summary: "stopping, deleting or changing the organization trail",
        statement: |r, _| {
            deny(
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
        applies: with_log_archive,
    },
    Guardrail {
        name: "ProtectLogBuckets",
        policy: "sra-guardrails-logging",
        summary: "deleting log objects, or changing the log and access-log buckets' policy, encryption, versioning, public access block, lifecycle, logging or Object Lock",
        statement: |r, _| {
            let resources = r.ids.bucket_arns(r.log_archive);
            deny(
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
        applies: with_log_archive,
    },
    Guardrail {
        name: "ProtectTrailKey",
        policy: "sra-guardrails-logging",
        summary: "disabling or deleting the organization trail's KMS key, rewriting its policy, granting it, or moving its alias (the key policy denies the same)",
        statement: |r, _| {
            let alias = format!(
                "arn:{}:kms:{}:{}:{}",
                r.ids.partition,
                r.ids.home_region,
                r.ids.la(),
                r.log_archive.trail.kms_key_alias
            );
            deny(json!(crate::services::log_archive::documents::KEY_TAMPER_ACTIONS), json!([r.ids.key(), alias]))
        },
        applies: with_log_archive,
    },
    Guardrail {
        name: "ProtectLogArchivePublicAccessBlock",
        policy: "sra-guardrails-logging",
        summary: "turning off Log Archive's account-level S3 Block Public Access (every account's with [baselines] s3_block_public_access)",
        statement: |r, _| Deny {
            actions: json!(["s3:PutAccountPublicAccessBlock"]),
            resources: all(),
            only_in: (!(r.baselines.enabled && r.baselines.s3_block_public_access))
                .then(|| vec![r.ids.la().to_string()]),
        },
        applies: |r| with_log_archive(r) || (r.baselines.enabled && r.baselines.s3_block_public_access),
    },
    Guardrail {
        name: "ProtectConfigRecorders",
        policy: "sra-guardrails-logging",
        summary: "stopping, changing or deleting the AWS Config recorders, delivery channels, retention and aggregator sra manages (in Security Tooling and Log Archive, and in every account with [baselines] config_recorders)",
        statement: |r, _| Deny {
            actions: json!([
                "config:DeleteConfigurationAggregator",
                "config:DeleteConfigurationRecorder",
                "config:DeleteDeliveryChannel",
                "config:DeleteRetentionConfiguration",
                "config:PutConfigurationAggregator",
                "config:PutConfigurationRecorder",
                "config:PutDeliveryChannel",
                "config:PutRetentionConfiguration",
                "config:StopConfigurationRecorder"
            ]),
            resources: all(),
            only_in: (!(r.baselines.enabled && r.baselines.config_recorders)).then(|| config_accounts(r)),
        },
        applies: |r| r.log_archive.config_delivery,
    },
    Guardrail {
        name: "ProtectAccountBaselines",
        policy: "sra-guardrails-security-services",
        summary: "undoing an account baseline sra sets in every account: turning EBS encryption by default off, weakening or deleting the IAM password policy, or rewriting the security contact (the account's S3 Block Public Access is ProtectLogArchivePublicAccessBlock's, its Config recorder ProtectConfigRecorders')",
        statement: |r, _| deny(json!(baseline_actions(r.baselines)), all()),
        applies: |r| !baseline_actions(r.baselines).is_empty(),
    },
    Guardrail {
        name: "ProtectGuardDuty",
        policy: "sra-guardrails-security-services",
        summary: "disabling GuardDuty, deleting detectors, leaving the administrator, or changing the organization's auto-enable and members' features",
        statement: |_, _| {
            deny(
                json!([
                    "guardduty:DeleteDetector",
                    "guardduty:DeleteMembers",
                    "guardduty:DisassociateFromAdministratorAccount",
                    "guardduty:DisassociateFromMasterAccount",
                    "guardduty:DisassociateMembers",
                    "guardduty:StopMonitoringMembers",
                    "guardduty:UpdateDetector",
                    "guardduty:UpdateMemberDetectors",
                    "guardduty:UpdateOrganizationConfiguration"
                ]),
                all(),
            )
        },
        applies: always,
    },
    Guardrail {
        name: "ProtectSecurityHub",
        policy: "sra-guardrails-security-services",
        summary: "disabling Security Hub or its standards, leaving the administrator, or changing the organization's auto-enable, finding aggregator or central configuration policies",
        statement: |_, _| {
            deny(
                json!([
                    "securityhub:BatchDisableStandards",
                    "securityhub:CreateConfigurationPolicy",
                    "securityhub:DeleteConfigurationPolicy",
                    "securityhub:DeleteFindingAggregator",
                    "securityhub:DeleteMembers",
                    "securityhub:DisableSecurityHub",
                    "securityhub:DisassociateFromAdministratorAccount",
                    "securityhub:DisassociateFromMasterAccount",
                    "securityhub:DisassociateMembers",
                    "securityhub:StartConfigurationPolicyAssociation",
                    "securityhub:StartConfigurationPolicyDisassociation",
                    "securityhub:UpdateConfigurationPolicy",
                    "securityhub:UpdateFindingAggregator",
                    "securityhub:UpdateOrganizationConfiguration"
                ]),
                all(),
            )
        },
        applies: always,
    },
    Guardrail {
        name: "ProtectMacie",
        policy: "sra-guardrails-security-services",
        summary: "disabling or pausing Macie (in an account or, from the administrator, in a member), leaving or removing members, or changing the organization's auto-enable",
        statement: |_, _| {
            deny(
                json!([
                    "macie2:DeleteMember",
                    "macie2:DisableMacie",
                    "macie2:DisassociateFromAdministratorAccount",
                    "macie2:DisassociateFromMasterAccount",
                    "macie2:DisassociateMember",
                    "macie2:UpdateMacieSession",
                    "macie2:UpdateMemberSession",
                    "macie2:UpdateOrganizationConfiguration"
                ]),
                all(),
            )
        },
        applies: always,
    },
    Guardrail {
        name: "ProtectInspector",
        policy: "sra-guardrails-security-services",
        summary: "disabling Inspector, leaving the administrator, or changing the organization's auto-enable",
        statement: |_, _| {
            deny(
                json!([
                    "inspector2:Disable",
                    "inspector2:DisassociateMember",
                    "inspector2:UpdateOrganizationConfiguration"
                ]),
                all(),
            )
        },
        applies: always,
    },
    Guardrail {
        name: "ProtectDetective",
        policy: "sra-guardrails-security-services",
        summary: "leaving the Detective behaviour graph, deleting it, or changing the organization's auto-enable",
        statement: |_, _| {
            deny(
                json!([
                    "detective:DeleteGraph",
                    "detective:DisassociateMembership",
                    "detective:UpdateOrganizationConfiguration"
                ]),
                all(),
            )
        },
        applies: always,
    },
    Guardrail {
        name: "ProtectAccessAnalyzer",
        policy: "sra-guardrails-security-services",
        summary: "deleting IAM Access Analyzer analyzers",
        statement: |_, _| deny(json!(["access-analyzer:DeleteAnalyzer"]), all()),
        applies: always,
    },
];

/// The names of all guardrails, for validation and did-you-mean.
pub fn names() -> Vec<&'static str> {
    CATALOG.iter().map(|g| g.name).collect()
}
