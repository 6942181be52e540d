//! Pure domain types: what the plan file asks for (`Desired`) and what AWS has
//! (`Observed`). No SDK, no tokio, no file system.

use std::collections::BTreeMap;
use std::fmt;

/// The partition a region belongs to.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The two accounts of the SRA layout that `sra` creates and keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    SecurityTooling,
    LogArchive,
}

impl AccountRole {
    pub const ALL: [AccountRole; 2] = [AccountRole::SecurityTooling, AccountRole::LogArchive];

    /// The plan-file key: `[accounts.<key>]`.
    pub fn key(self) -> &'static str {
        match self {
            AccountRole::SecurityTooling => "security_tooling",
            AccountRole::LogArchive => "log_archive",
        }
    }

    /// The account's role as people say it: "Security Tooling", "Log Archive".
    pub fn label(self) -> &'static str {
        match self {
            AccountRole::SecurityTooling => "Security Tooling",
            AccountRole::LogArchive => "Log Archive",
        }
    }

    /// Value of the `sra:account` tag `sra` puts on the account.
    pub fn tag_value(self) -> &'static str {
        match self {
            AccountRole::SecurityTooling => "security-tooling",
            AccountRole::LogArchive => "log-archive",
        }
    }

    pub fn from_key(key: &str) -> Option<AccountRole> {
        AccountRole::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// The tag key that marks an account's SRA role.
pub const ROLE_TAG: &str = "sra:account";

/// A path of organizational units under the root, e.g. `Infra/Security`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct OuPath(Vec<String>);

impl OuPath {
    /// Parse `A/B/C`. Returns None for an empty path or an empty segment.
    pub fn parse(s: &str) -> Option<OuPath> {
        let parts: Vec<String> = s.split('/').map(|p| p.trim().to_string()).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(OuPath(parts))
    }

    pub fn segments(&self) -> &[String] {
        &self.0
    }

    pub fn name(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }

    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// The parent OU's path; None when the parent is the root.
    pub fn parent(&self) -> Option<OuPath> {
        (self.0.len() > 1).then(|| OuPath(self.0[..self.0.len() - 1].to_vec()))
    }

    /// This path and every ancestor, outermost first: `A`, `A/B`, `A/B/C`.
    pub fn prefixes(&self) -> Vec<OuPath> {
        (1..=self.0.len()).map(|n| OuPath(self.0[..n].to_vec())).collect()
    }
}

impl fmt::Display for OuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DesiredAccount {
    pub role: AccountRole,
    pub name: String,
    pub email: String,
    pub ou: OuPath,
    /// Tags `sra` manages on the account (the role tag included). Other tags on the
    /// account are left alone.
    pub tags: BTreeMap<String, String>,
}

/// Everything the plan file asks for, validated. Its canonical serialization
/// ([`Desired::digest`]) names a plan file's meaning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Desired {
    pub home_region: String,
    pub governed_regions: Vec<String>,
    pub access_role: String,
    /// `organization.plan_role`: the read-only role `sra plan` reads member
    /// accounts through (made by apply); None: plan reads through `access_role`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_role: Option<String>,
    pub accounts: Vec<DesiredAccount>,
    pub log_archive: LogArchiveSpec,
    pub guardrails: GuardrailSpec,
    pub services: ServicesSpec,
    /// `[baselines]`. Left out of the digest while it is the default, so plan
    /// files written before it keep their digest.
    #[serde(default, skip_serializing_if = "BaselineSpec::is_default")]
    pub baselines: BaselineSpec,
    /// `[posture]`. Left out of the digest while it is the default.
    #[serde(default, skip_serializing_if = "PostureSpec::is_default")]
    pub posture: PostureSpec,
}

/// `[posture]`: how `sra posture` ranks (omitted: the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PostureSpec {
    /// OU paths (from the root) whose accounts, at any depth, rank first among
    /// equals, like the management account, Security Tooling and Log Archive.
    pub critical_ous: Vec<OuPath>,
}

impl PostureSpec {
    pub fn is_default(&self) -> bool {
        *self == PostureSpec::default()
    }
}

impl Desired {
    /// The digest of the plan file's meaning, not of its bytes: SHA-256 of the
    /// model serialized as JSON with every object's keys sorted. Comments,
    /// formatting, key order and the order of fields in these structs do not
    /// change it; a changed value does. Saved plans and the organization root's
    /// `sra:applied-digest` tag record it.
    pub fn digest(&self) -> String {
        let value = serde_json::to_value(self).expect("the desired model serializes");
        let mut text = String::new();
        canonical_json(&value, &mut text);
        crate::render::document::sha256(&text)
    }
    pub fn account(&self, role: AccountRole) -> &DesiredAccount {
        self.accounts.iter().find(|a| a.role == role).expect("the loader always yields both SRA accounts")
    }

    /// OU paths guardrails are attached to (they must exist; sra does not create them).
    pub fn guardrail_ous(&self) -> Vec<OuPath> {
        if !self.guardrails.enabled {
            return vec![];
        }
        self.guardrails
            .attach_to
            .iter()
            .filter_map(|t| match t {
                ScpTarget::Ou(p) => Some(p.clone()),
                ScpTarget::Root => None,
            })
            .collect()
    }

    /// Every OU path the plan needs, ancestors first, without repeats.
    pub fn ou_paths(&self) -> Vec<OuPath> {
        let mut out: Vec<OuPath> = Vec::new();
        for a in &self.accounts {
            for p in a.ou.prefixes() {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out.sort_by(|a, b| a.depth().cmp(&b.depth()).then_with(|| a.cmp(b)));
        out
    }
}

/// The organization as AWS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedOrg {
    pub id: String,
    pub management_account_id: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub feature_set: String,
    pub root_id: String,
    /// Whether the root has service control policies enabled (ListRoots' policy types).
    pub scp_enabled: bool,
    /// Whether the root has resource control policies enabled.
    pub rcp_enabled: bool,
}

/// Where an account sits in the organization tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    Root,
    Ou(OuPath),
    /// An OU outside the plan's paths: its id and name.
    Other {
        id: String,
        name: String,
    },
}

impl fmt::Display for Parent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parent::Root => f.write_str("(root)"),
            Parent::Ou(p) => write!(f, "{p}"),
            Parent::Other { id, name } => write!(f, "{name} ({id})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The account state: `ACTIVE`, `PENDING_ACTIVATION`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`.
    pub status: String,
    /// Read only for the accounts the plan names.
    pub parent_id: Option<String>,
    pub parent: Option<Parent>,
    pub tags: BTreeMap<String, String>,
}

/// A CreateAccount request, as ListCreateAccountStatus reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    pub id: String,
    pub account_name: String,
    /// `IN_PROGRESS`, `SUCCEEDED` or `FAILED`.
    pub state: String,
    pub account_id: Option<String>,
    pub failure_reason: Option<String>,
}

/// Live state that the plan is computed from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// The account the base credentials belong to.
    pub caller_account: String,
    pub organization: Option<ObservedOrg>,
    /// Ids of the plan's OU paths that exist.
    pub ous: BTreeMap<OuPath, String>,
    /// Every account of the organization (parent and tags only for the plan's),
    /// or, when `accounts_complete` is false, the plan's accounts and maybe some
    /// others (found by the ids of the lock file, or the first pages of the
    /// listing, which stops once it has named the plan's accounts).
    pub accounts: Vec<ObservedAccount>,
    pub accounts_complete: bool,
    /// CreateAccount requests that are in progress or failed.
    pub create_requests: Vec<CreateRequest>,
    /// Service principals with trusted access to the organization.
    pub trusted_access: Vec<String>,
    /// The trail, its key and buckets.
    pub log_archive: crate::services::log_archive::ObservedLogArchive,
    /// sra's service control policies.
    pub guardrails: crate::services::guardrails::ObservedGuardrails,
    /// The `sra:applied-digest` tag on the organization root: the plan file last applied.
    pub applied_digest: Option<String>,
    pub guardduty: crate::services::guardduty::ObservedGuardDuty,
    pub securityhub: crate::services::securityhub::ObservedSecurityHub,
    pub inspector: crate::services::inspector::ObservedInspector,
    pub macie: crate::services::macie::ObservedMacie,
    pub detective: crate::services::detective::ObservedDetective,
    pub config: crate::services::config::ObservedConfig,
    pub analyzers: crate::services::accessanalyzer::ObservedAnalyzers,
    pub delegations: crate::services::delegation::ObservedDelegations,
    pub plan_roles: crate::services::plan_role::ObservedPlanRoles,
    pub baselines: crate::services::baselines::ObservedBaselines,
}

impl Observed {
    /// Take the complete account list `all`, keeping what was read about the
    /// plan's accounts (parent, tags).
    pub fn merge_accounts(&mut self, all: Vec<ObservedAccount>) {
        let known = std::mem::take(&mut self.accounts);
        self.accounts = all.into_iter().map(|a| known.iter().find(|k| k.id == a.id).cloned().unwrap_or(a)).collect();
        self.accounts_complete = true;
    }

    /// The account with this email (AWS compares emails without case).
    pub fn account_by_email(&self, email: &str) -> Option<&ObservedAccount> {
        self.accounts.iter().find(|a| a.email.eq_ignore_ascii_case(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_path_parses_and_lists_prefixes() {
        let p = OuPath::parse("Infra/Security").unwrap();
        assert_eq!(p.to_string(), "Infra/Security");
        assert_eq!(p.name(), "Security");
        assert_eq!(p.parent().unwrap().to_string(), "Infra");
        let prefixes: Vec<String> = p.prefixes().iter().map(|p| p.to_string()).collect();
        assert_eq!(prefixes, ["Infra", "Infra/Security"]);
        assert!(OuPath::parse("").is_none());
        assert!(OuPath::parse("A//B").is_none());
        assert!(OuPath::parse("/A").is_none());
        assert!(OuPath::parse("Security").unwrap().parent().is_none());
    }
}

/// The organization trail and its log buckets in Log Archive (`[log_bucket]`,
/// `[trail]` in the plan file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogArchiveSpec {
    /// False when the plan opts out: sra then leaves the trail and buckets alone.
    pub enabled: bool,
    /// Bucket name template; `{account_id}` and `{region}` are replaced.
    pub bucket: String,
    pub access_log_bucket: String,
    /// A role in Log Archive that may change or delete the buckets' settings.
    pub break_glass_role: Option<String>,
    /// `[log_bucket] readers`: the principals (IAM ARNs) that may read the log
    /// files (trail and Config) and decrypt them. None: Security Tooling's
    /// account (its IAM policies then say who); an empty list: nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readers: Option<Vec<String>>,
    pub lifecycle: Lifecycle,
    pub object_lock: Option<ObjectLock>,
    pub trail: TrailSpec,
    /// AWS Config in Security Tooling and Log Archive delivers to the log bucket
    /// (`[services.config]` on): its bucket and key policies let it.
    pub config_delivery: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lifecycle {
    pub transition_days: u32,
    pub transition_storage_class: String,
    pub noncurrent_expiration_days: u32,
    /// Expire current log objects after this many days; None keeps them forever.
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectLock {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    pub days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrailSpec {
    pub name: String,
    pub s3_key_prefix: Option<String>,
    pub kms_key_alias: String,
    /// Data event kinds to log: `s3`, `lambda`.
    pub data_events: Vec<String>,
    /// Also deliver the trail to CloudWatch Logs (optional).
    pub cloudwatch_logs: Option<CloudWatchLogs>,
}

/// The CloudWatch Logs delivery of the organization trail, in the management account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CloudWatchLogs {
    pub log_group: String,
    pub retention_days: u32,
}

impl Default for LogArchiveSpec {
    fn default() -> Self {
        LogArchiveSpec {
            enabled: true,
            bucket: "sra-org-trail-logs-{account_id}-{region}".into(),
            access_log_bucket: "sra-s3-access-logs-{account_id}-{region}".into(),
            break_glass_role: None,
            readers: None,
            lifecycle: Lifecycle {
                transition_days: 90,
                transition_storage_class: "GLACIER_IR".into(),
                noncurrent_expiration_days: 365,
                retention_days: None,
            },
            object_lock: None,
            config_delivery: true,
            trail: TrailSpec {
                name: "sra-organization-trail".into(),
                s3_key_prefix: None,
                kms_key_alias: "alias/sra-organization-trail".into(),
                data_events: vec![],
                cloudwatch_logs: None,
            },
        }
    }
}

/// Where a guardrail (service control policy) is attached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScpTarget {
    Root,
    Ou(OuPath),
}

impl fmt::Display for ScpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScpTarget::Root => f.write_str("Root"),
            ScpTarget::Ou(p) => write!(f, "{p}"),
        }
    }
}

/// `[guardrails]`: service control policies that protect what sra set up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuardrailSpec {
    pub enabled: bool,
    pub attach_to: Vec<ScpTarget>,
    /// Role names (in any member account) the guardrails never deny.
    pub exempt_roles: Vec<String>,
    /// Guardrails left out, by name.
    pub disabled: Vec<String>,
    /// The resource control policy around the Log Archive (`resource_control_policies`).
    pub resource_control_policies: bool,
}

/// `[services.guardduty]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuardDutySpec {
    pub enabled: bool,
    /// Protection features auto-enabled for every member (GuardDuty's names).
    pub features: Vec<String>,
    /// With RUNTIME_MONITORING: the agents GuardDuty deploys and manages (keys of
    /// [`GUARDDUTY_AGENTS`]); without them the feature reads "on" while no agent runs.
    pub runtime_agents: Vec<String>,
}

/// Runtime Monitoring's agents GuardDuty can manage: the plan-file name, and
/// GuardDuty's additional-configuration name (API reference,
/// OrganizationAdditionalConfiguration).
pub const GUARDDUTY_AGENT_CONFIG: &[(&str, &str)] = &[
    ("eks", "EKS_ADDON_MANAGEMENT"),
    ("ecs_fargate", "ECS_FARGATE_AGENT_MANAGEMENT"),
    ("ec2", "EC2_AGENT_MANAGEMENT"),
];
pub const GUARDDUTY_AGENTS: &[&str] = &["eks", "ecs_fargate", "ec2"];

/// GuardDuty's protection features, all on in the SRA baseline.
pub const GUARDDUTY_FEATURES: &[&str] = &[
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "RUNTIME_MONITORING",
    "LAMBDA_NETWORK_LOGS",
];

impl Default for GuardDutySpec {
    fn default() -> Self {
        GuardDutySpec {
            enabled: true,
            features: GUARDDUTY_FEATURES.iter().map(|s| s.to_string()).collect(),
            runtime_agents: GUARDDUTY_AGENTS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// `[services.*]`: the security services delegated to Security Tooling.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServicesSpec {
    pub guardduty: GuardDutySpec,
    pub securityhub: SecurityHubSpec,
    pub inspector: InspectorSpec,
    /// `[services.macie] enabled`.
    pub macie: bool,
    /// `[services.detective] enabled`.
    pub detective: bool,
    /// `enabled` of the services delegated organization-wide (`config`,
    /// `cloudtrail`, `access_analyzer`, `trusted_advisor`); absent means on.
    pub delegated: std::collections::BTreeMap<String, bool>,
}

impl ServicesSpec {
    /// Whether some service's coverage is checked account by account, which
    /// needs every account of the organization.
    pub fn checks_members(&self) -> bool {
        self.guardduty.enabled || self.securityhub.enabled || self.inspector.enabled || self.macie || self.detective
    }
}

impl Default for ServicesSpec {
    /// The SRA baseline: every service on.
    fn default() -> Self {
        ServicesSpec {
            guardduty: GuardDutySpec::default(),
            securityhub: SecurityHubSpec::default(),
            inspector: InspectorSpec::default(),
            macie: true,
            detective: true,
            delegated: Default::default(),
        }
    }
}

/// `[baselines]`: what every active account of the organization (the
/// management account included, the excluded OUs' accounts not) gets, in every
/// governed region where it is regional.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BaselineSpec {
    pub enabled: bool,
    /// EBS encryption by default, every account × governed region.
    pub ebs_default_encryption: bool,
    /// The S3 account-level public access block, all four settings, every account.
    pub s3_block_public_access: bool,
    /// AWS Config recording every supported resource in every account × governed
    /// region, delivering to the log bucket (with `[services.config]`).
    pub config_recorders: bool,
    /// The IAM account password policy at CIS values or stricter, every account.
    pub password_policy: bool,
    /// OUs (paths from the root) whose accounts, at any depth, are left alone.
    pub exclude_ous: Vec<OuPath>,
    /// Every account's SECURITY alternate contact, when set.
    pub security_contact: Option<SecurityContact>,
}

impl Default for BaselineSpec {
    fn default() -> Self {
        BaselineSpec {
            enabled: true,
            ebs_default_encryption: true,
            s3_block_public_access: true,
            config_recorders: true,
            password_policy: true,
            exclude_ous: vec![],
            security_contact: None,
        }
    }
}

impl BaselineSpec {
    pub fn is_default(&self) -> bool {
        *self == BaselineSpec::default()
    }

    /// Whether any per-account baseline is on.
    pub fn any(&self) -> bool {
        self.enabled
            && (self.ebs_default_encryption
                || self.s3_block_public_access
                || self.password_policy
                || self.config_recorders
                || self.security_contact.is_some())
    }
}

/// An alternate contact (Account Management API, AlternateContact).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct SecurityContact {
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
}

/// `[services.securityhub]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecurityHubSpec {
    pub enabled: bool,
    /// Standards of every account in every governed region (central
    /// configuration's policy on the root), as `<name>/v/<version>`.
    pub standards: Vec<String>,
}

/// Security Hub standards sra knows (as they appear in standards ARNs).
pub const SECURITYHUB_STANDARDS: &[&str] = &[
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/1.4.0",
    "cis-aws-foundations-benchmark/v/3.0.0",
    "nist-800-53/v/5.0.0",
    "pci-dss/v/3.2.1",
];

impl Default for SecurityHubSpec {
    fn default() -> Self {
        SecurityHubSpec {
            enabled: true,
            standards: vec![
                "aws-foundational-security-best-practices/v/1.0.0".into(),
                "cis-aws-foundations-benchmark/v/1.4.0".into(),
            ],
        }
    }
}

/// `[services.inspector]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InspectorSpec {
    pub enabled: bool,
    /// Scan types auto-enabled for every member: `ec2`, `ecr`, `lambda`, `lambda_code`.
    pub scans: Vec<String>,
}

pub const INSPECTOR_SCANS: &[&str] = &["ec2", "ecr", "lambda", "lambda_code"];

impl Default for InspectorSpec {
    fn default() -> Self {
        InspectorSpec { enabled: true, scans: INSPECTOR_SCANS.iter().map(|s| s.to_string()).collect() }
    }
}

/// JSON with object keys sorted at every level, whatever order the map keeps.
fn canonical_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
