//! The AWS calls sra makes, where, and the IAM actions they need: the source of
//! `sra permissions plan|apply` and of the plan role's policy. A test in the
//! shell (src/permissions.rs) reads every `call_error(..)` site in the code and
//! fails when a call is missing here or listed here but never made, so this list
//! is the code's own, not a hand-kept one that drifts.

use serde_json::json;

/// Which account's credentials make the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// The management account's own credentials.
    Management,
    /// A member account (Log Archive, Security Tooling), through `organization.access_role`.
    Member,
}

#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub service: &'static str,
    pub operation: &'static str,
    /// The IAM actions the call needs.
    pub actions: &'static [&'static str],
    /// Only `sra apply` makes it.
    pub write: bool,
    pub account: Account,
}

const fn read(
    service: &'static str,
    operation: &'static str,
    actions: &'static [&'static str],
    account: Account,
) -> Call {
    Call { service, operation, actions, write: false, account }
}

const fn write(
    service: &'static str,
    operation: &'static str,
    actions: &'static [&'static str],
    account: Account,
) -> Call {
    Call { service, operation, actions, write: true, account }
}

use Account::{Management as M, Member as L};

pub const CALLS: &[Call] = &[
    read("sts", "GetCallerIdentity", &["sts:GetCallerIdentity"], M),
    read("sts", "AssumeRole", &["sts:AssumeRole"], M),
    read("organizations", "DescribeOrganization", &["organizations:DescribeOrganization"], M),
    read("organizations", "ListRoots", &["organizations:ListRoots"], M),
    read("organizations", "ListOrganizationalUnitsForParent", &["organizations:ListOrganizationalUnitsForParent"], M),
    read("organizations", "DescribeOrganizationalUnit", &["organizations:DescribeOrganizationalUnit"], M),
    read("organizations", "ListAccounts", &["organizations:ListAccounts"], M),
    read("organizations", "DescribeAccount", &["organizations:DescribeAccount"], M),
    read("organizations", "ListParents", &["organizations:ListParents"], M),
    read("organizations", "ListTagsForResource", &["organizations:ListTagsForResource"], M),
    read("organizations", "ListCreateAccountStatus", &["organizations:ListCreateAccountStatus"], M),
    read("organizations", "DescribeCreateAccountStatus", &["organizations:DescribeCreateAccountStatus"], M),
    read(
        "organizations",
        "ListAWSServiceAccessForOrganization",
        &["organizations:ListAWSServiceAccessForOrganization"],
        M,
    ),
    read("organizations", "ListPolicies", &["organizations:ListPolicies"], M),
    read("organizations", "DescribePolicy", &["organizations:DescribePolicy"], M),
    read("organizations", "ListTargetsForPolicy", &["organizations:ListTargetsForPolicy"], M),
    read("organizations", "ListPoliciesForTarget", &["organizations:ListPoliciesForTarget"], M),
    write(
        "organizations",
        "CreateOrganization",
        &["organizations:CreateOrganization", "iam:CreateServiceLinkedRole"],
        M,
    ),
    write("organizations", "CreateOrganizationalUnit", &["organizations:CreateOrganizationalUnit"], M),
    write("organizations", "CreateAccount", &["organizations:CreateAccount"], M),
    write("organizations", "MoveAccount", &["organizations:MoveAccount"], M),
    write("organizations", "TagResource", &["organizations:TagResource"], M),
    write("organizations", "EnableAWSServiceAccess", &["organizations:EnableAWSServiceAccess"], M),
    write("organizations", "EnablePolicyType", &["organizations:EnablePolicyType"], M),
    write("organizations", "CreatePolicy", &["organizations:CreatePolicy"], M),
    write("organizations", "UpdatePolicy", &["organizations:UpdatePolicy"], M),
    write("organizations", "DeletePolicy", &["organizations:DeletePolicy"], M),
    write("organizations", "AttachPolicy", &["organizations:AttachPolicy"], M),
    write("organizations", "DetachPolicy", &["organizations:DetachPolicy"], M),
    read("cloudtrail", "GetTrail", &["cloudtrail:GetTrail"], M),
    read("cloudtrail", "GetTrailStatus", &["cloudtrail:GetTrailStatus"], M),
    read("cloudtrail", "GetEventSelectors", &["cloudtrail:GetEventSelectors"], M),
    write(
        "cloudtrail",
        "CreateTrail",
        &[
            "cloudtrail:CreateTrail",
            "iam:PassRole",
            "iam:GetRole",
            "iam:CreateServiceLinkedRole",
            "organizations:ListAWSServiceAccessForOrganization",
            // The log bucket uses an S3 Bucket Key: "kms:Decrypt permissions are
            // required to create or update a trail with SSE-KMS encryption enabled"
            // (CloudTrail guide, create-kms-key-policy-for-cloudtrail.html).
            "kms:Decrypt",
        ],
        M,
    ),
    write("cloudtrail", "UpdateTrail", &["cloudtrail:UpdateTrail", "iam:PassRole", "kms:Decrypt"], M),
    read("logs", "DescribeLogGroups", &["logs:DescribeLogGroups"], M),
    write("logs", "CreateLogGroup", &["logs:CreateLogGroup"], M),
    write("logs", "PutRetentionPolicy", &["logs:PutRetentionPolicy"], M),
    read("iam", "GetRole", &["iam:GetRole"], M),
    read("iam", "GetRolePolicy", &["iam:GetRolePolicy"], M),
    write("iam", "CreateRole", &["iam:CreateRole"], M),
    write("iam", "PutRolePolicy", &["iam:PutRolePolicy"], M),
    write("iam", "UpdateAssumeRolePolicy", &["iam:UpdateAssumeRolePolicy"], M),
    // The plan role (organization.plan_role) in Security Tooling and Log Archive.
    read("iam", "GetRole", &["iam:GetRole"], L),
    read("iam", "GetRolePolicy", &["iam:GetRolePolicy"], L),
    write("iam", "CreateRole", &["iam:CreateRole"], L),
    write("iam", "PutRolePolicy", &["iam:PutRolePolicy"], L),
    write("iam", "UpdateAssumeRolePolicy", &["iam:UpdateAssumeRolePolicy"], L),
    write("cloudtrail", "PutEventSelectors", &["cloudtrail:PutEventSelectors"], M),
    write("cloudtrail", "StartLogging", &["cloudtrail:StartLogging"], M),
    read("organizations", "ListDelegatedAdministrators", &["organizations:ListDelegatedAdministrators"], M),
    write(
        "organizations",
        "RegisterDelegatedAdministrator",
        &["organizations:RegisterDelegatedAdministrator", "iam:CreateServiceLinkedRole"],
        M,
    ),
    write("organizations", "DeregisterDelegatedAdministrator", &["organizations:DeregisterDelegatedAdministrator"], M),
    write(
        "cloudtrail",
        "RegisterOrganizationDelegatedAdmin",
        &[
            "cloudtrail:RegisterOrganizationDelegatedAdmin",
            "organizations:RegisterDelegatedAdministrator",
            "iam:CreateServiceLinkedRole",
        ],
        M,
    ),
    write(
        "cloudtrail",
        "DeregisterOrganizationDelegatedAdmin",
        &["cloudtrail:DeregisterOrganizationDelegatedAdmin", "organizations:DeregisterDelegatedAdministrator"],
        M,
    ),
    read("guardduty", "ListOrganizationAdminAccounts", &["guardduty:ListOrganizationAdminAccounts"], M),
    write(
        "guardduty",
        "EnableOrganizationAdminAccount",
        &[
            "guardduty:EnableOrganizationAdminAccount",
            "organizations:EnableAWSServiceAccess",
            "organizations:RegisterDelegatedAdministrator",
            "organizations:ListDelegatedAdministrators",
            "iam:CreateServiceLinkedRole",
        ],
        M,
    ),
    write(
        "guardduty",
        "DisableOrganizationAdminAccount",
        &["guardduty:DisableOrganizationAdminAccount", "organizations:DeregisterDelegatedAdministrator"],
        M,
    ),
    read("guardduty", "ListDetectors", &["guardduty:ListDetectors"], L),
    read("guardduty", "GetDetector", &["guardduty:GetDetector"], L),
    read("guardduty", "DescribeOrganizationConfiguration", &["guardduty:DescribeOrganizationConfiguration"], L),
    read("guardduty", "ListMembers", &["guardduty:ListMembers"], L),
    // `sra posture`: what GuardDuty reports of its reach.
    read("guardduty", "GetOrganizationStatistics", &["guardduty:GetOrganizationStatistics"], L),
    write("guardduty", "CreateDetector", &["guardduty:CreateDetector", "iam:CreateServiceLinkedRole"], L),
    write("guardduty", "UpdateOrganizationConfiguration", &["guardduty:UpdateOrganizationConfiguration"], L),
    write("guardduty", "UpdateDetector", &["guardduty:UpdateDetector", "iam:CreateServiceLinkedRole"], L),
    write("guardduty", "CreateMembers", &["guardduty:CreateMembers"], L),
    write("guardduty", "DisassociateMembers", &["guardduty:DisassociateMembers"], L),
    write("guardduty", "DeleteMembers", &["guardduty:DeleteMembers"], L),
    read("securityhub", "ListOrganizationAdminAccounts", &["securityhub:ListOrganizationAdminAccounts"], M),
    write(
        "securityhub",
        "EnableOrganizationAdminAccount",
        &[
            "securityhub:EnableOrganizationAdminAccount",
            "organizations:EnableAWSServiceAccess",
            "organizations:RegisterDelegatedAdministrator",
            "organizations:ListDelegatedAdministrators",
            "iam:CreateServiceLinkedRole",
        ],
        M,
    ),
    write(
        "securityhub",
        "DisableOrganizationAdminAccount",
        &["securityhub:DisableOrganizationAdminAccount", "organizations:DeregisterDelegatedAdministrator"],
        M,
    ),
    read("securityhub", "DescribeHub", &["securityhub:DescribeHub"], L),
    read("securityhub", "DescribeHub", &["securityhub:DescribeHub"], M),
    write("securityhub", "EnableSecurityHub", &["securityhub:EnableSecurityHub", "iam:CreateServiceLinkedRole"], M),
    read("securityhub", "ListFindingAggregators", &["securityhub:ListFindingAggregators"], L),
    read("securityhub", "GetFindingAggregator", &["securityhub:GetFindingAggregator"], L),
    read("securityhub", "DescribeOrganizationConfiguration", &["securityhub:DescribeOrganizationConfiguration"], L),
    read("securityhub", "ListMembers", &["securityhub:ListMembers"], L),
    write("securityhub", "EnableSecurityHub", &["securityhub:EnableSecurityHub", "iam:CreateServiceLinkedRole"], L),
    write("securityhub", "UpdateOrganizationConfiguration", &["securityhub:UpdateOrganizationConfiguration"], L),
    // Central configuration, in the home region.
    read("securityhub", "ListConfigurationPolicies", &["securityhub:ListConfigurationPolicies"], L),
    read("securityhub", "GetConfigurationPolicy", &["securityhub:GetConfigurationPolicy"], L),
    read("securityhub", "ListConfigurationPolicyAssociations", &["securityhub:ListConfigurationPolicyAssociations"], L),
    write("securityhub", "CreateConfigurationPolicy", &["securityhub:CreateConfigurationPolicy"], L),
    write("securityhub", "UpdateConfigurationPolicy", &["securityhub:UpdateConfigurationPolicy"], L),
    write(
        "securityhub",
        "StartConfigurationPolicyAssociation",
        &["securityhub:StartConfigurationPolicyAssociation"],
        L,
    ),
    read("securityhub", "GetInsights", &["securityhub:GetInsights"], L),
    write("securityhub", "CreateInsight", &["securityhub:CreateInsight"], L),
    write("securityhub", "UpdateInsight", &["securityhub:UpdateInsight"], L),
    // `sra posture`: the counts, the queue's candidates and the controls' titles.
    read("securityhub", "GetInsightResults", &["securityhub:GetInsightResults"], L),
    read("securityhub", "GetFindings", &["securityhub:GetFindings"], L),
    read("securityhub", "BatchGetSecurityControls", &["securityhub:BatchGetSecurityControls"], L),
    write("securityhub", "CreateFindingAggregator", &["securityhub:CreateFindingAggregator"], L),
    write("securityhub", "UpdateFindingAggregator", &["securityhub:UpdateFindingAggregator"], L),
    write("securityhub", "CreateMembers", &["securityhub:CreateMembers"], L),
    read("inspector2", "ListDelegatedAdminAccounts", &["inspector2:ListDelegatedAdminAccounts"], M),
    write(
        "inspector2",
        "EnableDelegatedAdminAccount",
        &[
            "inspector2:EnableDelegatedAdminAccount",
            "organizations:EnableAWSServiceAccess",
            "organizations:RegisterDelegatedAdministrator",
            "organizations:ListDelegatedAdministrators",
            "iam:CreateServiceLinkedRole",
        ],
        M,
    ),
    write(
        "inspector2",
        "DisableDelegatedAdminAccount",
        &["inspector2:DisableDelegatedAdminAccount", "organizations:DeregisterDelegatedAdministrator"],
        M,
    ),
    read("inspector2", "DescribeOrganizationConfiguration", &["inspector2:DescribeOrganizationConfiguration"], L),
    read("inspector2", "ListMembers", &["inspector2:ListMembers"], L),
    // `sra posture`: what Inspector reports of its coverage.
    read("inspector2", "ListCoverageStatistics", &["inspector2:ListCoverageStatistics"], L),
    write("inspector2", "UpdateOrganizationConfiguration", &["inspector2:UpdateOrganizationConfiguration"], L),
    write("inspector2", "AssociateMember", &["inspector2:AssociateMember"], L),
    read("inspector2", "BatchGetAccountStatus", &["inspector2:BatchGetAccountStatus"], L),
    write("inspector2", "Enable", &["inspector2:Enable", "iam:CreateServiceLinkedRole"], L),
    read("macie2", "ListOrganizationAdminAccounts", &["macie2:ListOrganizationAdminAccounts"], M),
    write(
        "macie2",
        "EnableOrganizationAdminAccount",
        &[
            "macie2:EnableOrganizationAdminAccount",
            "organizations:EnableAWSServiceAccess",
            "organizations:RegisterDelegatedAdministrator",
            "organizations:ListDelegatedAdministrators",
            "iam:CreateServiceLinkedRole",
        ],
        M,
    ),
    write(
        "macie2",
        "DisableOrganizationAdminAccount",
        &["macie2:DisableOrganizationAdminAccount", "organizations:DeregisterDelegatedAdministrator"],
        M,
    ),
    read("macie2", "GetMacieSession", &["macie2:GetMacieSession"], L),
    read("macie2", "DescribeOrganizationConfiguration", &["macie2:DescribeOrganizationConfiguration"], L),
    read("macie2", "ListMembers", &["macie2:ListMembers"], L),
    write("macie2", "EnableMacie", &["macie2:EnableMacie", "iam:CreateServiceLinkedRole"], L),
    write("macie2", "UpdateOrganizationConfiguration", &["macie2:UpdateOrganizationConfiguration"], L),
    write("macie2", "CreateMember", &["macie2:CreateMember"], L),
    write("iam", "CreateServiceLinkedRole", &["iam:CreateServiceLinkedRole"], L),
    read("config", "DescribeConfigurationRecorders", &["config:DescribeConfigurationRecorders"], L),
    read("config", "DescribeConfigurationRecorderStatus", &["config:DescribeConfigurationRecorderStatus"], L),
    read("config", "DescribeDeliveryChannels", &["config:DescribeDeliveryChannels"], L),
    read("config", "DescribeConfigurationAggregators", &["config:DescribeConfigurationAggregators"], L),
    // `sra posture`: which accounts record, from the organization aggregator.
    read("config", "GetAggregateDiscoveredResourceCounts", &["config:GetAggregateDiscoveredResourceCounts"], L),
    read("config", "SelectAggregateResourceConfig", &["config:SelectAggregateResourceConfig"], L),
    read(
        "config",
        "DescribeConfigurationAggregatorSourcesStatus",
        &["config:DescribeConfigurationAggregatorSourcesStatus"],
        L,
    ),
    write(
        "config",
        "PutConfigurationRecorder",
        &["config:PutConfigurationRecorder", "iam:PassRole", "iam:CreateServiceLinkedRole"],
        L,
    ),
    write("config", "PutDeliveryChannel", &["config:PutDeliveryChannel", "s3:GetBucketAcl", "s3:ListBucket"], L),
    write("config", "StartConfigurationRecorder", &["config:StartConfigurationRecorder"], L),
    write(
        "config",
        "PutConfigurationAggregator",
        &["config:PutConfigurationAggregator", "iam:PassRole", "organizations:EnableAWSServiceAccess"],
        L,
    ),
    read("detective", "ListOrganizationAdminAccounts", &["detective:ListOrganizationAdminAccount"], M),
    write(
        "detective",
        "EnableOrganizationAdminAccount",
        &[
            "detective:EnableOrganizationAdminAccount",
            "organizations:EnableAWSServiceAccess",
            "organizations:RegisterDelegatedAdministrator",
            "organizations:ListDelegatedAdministrators",
            "organizations:DescribeOrganization",
        ],
        M,
    ),
    write(
        "detective",
        "DisableOrganizationAdminAccount",
        &["detective:DisableOrganizationAdminAccount", "organizations:DeregisterDelegatedAdministrator"],
        M,
    ),
    read("detective", "ListGraphs", &["detective:ListGraphs"], L),
    read("detective", "DescribeOrganizationConfiguration", &["detective:DescribeOrganizationConfiguration"], L),
    read("detective", "ListMembers", &["detective:ListMembers"], L),
    write("detective", "CreateGraph", &["detective:CreateGraph", "detective:TagResource"], L),
    write("detective", "UpdateOrganizationConfiguration", &["detective:UpdateOrganizationConfiguration"], L),
    write("detective", "CreateMembers", &["detective:CreateMembers", "organizations:DescribeOrganization"], L),
    read("cloudtrail", "DescribeTrails", &["cloudtrail:DescribeTrails"], M),
    read("access-analyzer", "ListAnalyzers", &["access-analyzer:ListAnalyzers"], L),
    write("access-analyzer", "CreateAnalyzer", &["access-analyzer:CreateAnalyzer", "iam:CreateServiceLinkedRole"], L),
    read("kms", "DescribeKey", &["kms:DescribeKey"], L),
    read("kms", "GetKeyRotationStatus", &["kms:GetKeyRotationStatus"], L),
    read("kms", "GetKeyPolicy", &["kms:GetKeyPolicy"], L),
    write("kms", "CreateKey", &["kms:CreateKey", "kms:TagResource"], L),
    // Keys sra made that no alias names: apply takes one before creating the
    // trail key; plan reports any left once the trail key exists.
    read("kms", "ListKeys", &["kms:ListKeys"], L),
    read("kms", "ListAliases", &["kms:ListAliases"], L),
    read("kms", "ListResourceTags", &["kms:ListResourceTags"], L),
    write("kms", "CreateAlias", &["kms:CreateAlias"], L),
    write("kms", "EnableKeyRotation", &["kms:EnableKeyRotation"], L),
    write("kms", "EnableKey", &["kms:EnableKey"], L),
    write("kms", "PutKeyPolicy", &["kms:PutKeyPolicy"], L),
    read("s3control", "GetPublicAccessBlock", &["s3:GetAccountPublicAccessBlock"], L),
    write("s3control", "PutPublicAccessBlock", &["s3:PutAccountPublicAccessBlock"], L),
    // Account baselines ([baselines]): in every account, the management account's
    // with its own credentials, the others' through the access role.
    read("s3control", "GetPublicAccessBlock", &["s3:GetAccountPublicAccessBlock"], M),
    write("s3control", "PutPublicAccessBlock", &["s3:PutAccountPublicAccessBlock"], M),
    read("ec2", "GetEbsEncryptionByDefault", &["ec2:GetEbsEncryptionByDefault"], M),
    read("ec2", "GetEbsEncryptionByDefault", &["ec2:GetEbsEncryptionByDefault"], L),
    write("ec2", "EnableEbsEncryptionByDefault", &["ec2:EnableEbsEncryptionByDefault"], M),
    write("ec2", "EnableEbsEncryptionByDefault", &["ec2:EnableEbsEncryptionByDefault"], L),
    read("iam", "GetAccountPasswordPolicy", &["iam:GetAccountPasswordPolicy"], M),
    read("iam", "GetAccountPasswordPolicy", &["iam:GetAccountPasswordPolicy"], L),
    write("iam", "UpdateAccountPasswordPolicy", &["iam:UpdateAccountPasswordPolicy"], M),
    write("iam", "UpdateAccountPasswordPolicy", &["iam:UpdateAccountPasswordPolicy"], L),
    // Config's recorder in the management account (the other accounts' are L above).
    read("config", "DescribeConfigurationRecorders", &["config:DescribeConfigurationRecorders"], M),
    read("config", "DescribeConfigurationRecorderStatus", &["config:DescribeConfigurationRecorderStatus"], M),
    read("config", "DescribeDeliveryChannels", &["config:DescribeDeliveryChannels"], M),
    write("iam", "CreateServiceLinkedRole", &["iam:CreateServiceLinkedRole"], M),
    write(
        "config",
        "PutConfigurationRecorder",
        &["config:PutConfigurationRecorder", "iam:PassRole", "iam:CreateServiceLinkedRole"],
        M,
    ),
    write("config", "PutDeliveryChannel", &["config:PutDeliveryChannel", "s3:GetBucketAcl", "s3:ListBucket"], M),
    write("config", "StartConfigurationRecorder", &["config:StartConfigurationRecorder"], M),
    read("account", "GetAlternateContact", &["account:GetAlternateContact"], M),
    write("account", "PutAlternateContact", &["account:PutAlternateContact"], M),
    read("organizations", "ListAccountsForParent", &["organizations:ListAccountsForParent"], M),
    read("s3", "HeadBucket", &["s3:ListBucket"], L),
    read("s3", "GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"], L),
    read("s3", "GetBucketVersioning", &["s3:GetBucketVersioning"], L),
    read("s3", "GetBucketEncryption", &["s3:GetEncryptionConfiguration"], L),
    read("s3", "GetBucketOwnershipControls", &["s3:GetBucketOwnershipControls"], L),
    read("s3", "GetBucketPolicy", &["s3:GetBucketPolicy"], L),
    read("s3", "GetBucketLifecycleConfiguration", &["s3:GetLifecycleConfiguration"], L),
    read("s3", "GetBucketLogging", &["s3:GetBucketLogging"], L),
    read("s3", "GetObjectLockConfiguration", &["s3:GetBucketObjectLockConfiguration"], L),
    write("s3", "CreateBucket", &["s3:CreateBucket"], L),
    write("s3", "PutPublicAccessBlock", &["s3:PutBucketPublicAccessBlock"], L),
    write("s3", "PutBucketVersioning", &["s3:PutBucketVersioning"], L),
    write("s3", "PutBucketEncryption", &["s3:PutEncryptionConfiguration"], L),
    write("s3", "PutBucketOwnershipControls", &["s3:PutBucketOwnershipControls"], L),
    write("s3", "PutBucketPolicy", &["s3:PutBucketPolicy"], L),
    write("s3", "PutBucketLifecycleConfiguration", &["s3:PutLifecycleConfiguration"], L),
    write("s3", "PutBucketLogging", &["s3:PutBucketLogging"], L),
    write("s3", "PutObjectLockConfiguration", &["s3:PutBucketObjectLockConfiguration"], L),
];

/// The IAM actions a command needs in the management account, sorted.
pub fn management_actions(apply: bool) -> Vec<&'static str> {
    let mut out: Vec<&str> = CALLS
        .iter()
        .filter(|c| c.account == Account::Management && (apply || !c.write))
        .flat_map(|c| c.actions.iter().copied())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The IAM policy for the management account's credentials, as JSON.
///
/// Work in Log Archive runs through `organization.access_role`, which
/// CreateAccount makes with AdministratorAccess; the policy lets the caller assume
/// that role and nothing else in member accounts.
/// With a plan role (`organization.plan_role`), the plan policy lets the caller
/// assume only that role: a plan is then read-only in member accounts too.
pub fn policy(apply: bool, plan_role: Option<&str>) -> String {
    let actions: Vec<&str> = management_actions(apply).into_iter().filter(|a| *a != "sts:AssumeRole").collect();
    let assume = match plan_role.filter(|_| !apply) {
        Some(role) => json!({
            "Sid": "SraAssumePlanRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": format!("arn:aws:iam::*:role/{role}")
        }),
        None => json!({
            "Sid": "SraAssumeAccessRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/*"
        }),
    };
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": if apply { "SraApply" } else { "SraPlanReadOnly" },
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*"
            },
            assume
        ]
    });
    serde_json::to_string_pretty(&doc).expect("a policy serializes") + "\n"
}
