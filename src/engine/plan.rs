//! The plan: a complete value that says what apply will do and why. Apply executes
//! its steps in order and decides nothing itself.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{AccountRole, OuPath};
use crate::services::config::CfOp;
use crate::services::delegation::DelegationOp;
use crate::services::detective::DtOp;
use crate::services::guardduty::GdOp;
use crate::services::guardrails::GuardrailOp;
use crate::services::inspector::InOp;
use crate::services::log_archive::{BucketKind, Ids, Op, Target};
use crate::services::macie::MaOp;
use crate::services::securityhub::ShOp;

/// What happens to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    /// Live state already matches.
    NoOp,
}

/// The name of a resource in plan output: `organization`, `ou["Security"]`,
/// `account.log_archive`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Address {
    Organization,
    Ou(OuPath),
    Account(AccountRole),
    /// The organization trail's KMS key, in Log Archive.
    KmsKey,
    /// S3 Block Public Access for the whole Log Archive account (S3 Control).
    AccountPublicAccessBlock,
    Bucket(BucketKind),
    /// The trail's CloudWatch Logs group (optional delivery).
    TrailLogGroup,
    /// The role CloudTrail writes to CloudWatch Logs with.
    TrailLogsRole,
    Trail,
    /// A service principal's trusted access to the organization.
    TrustedAccess(String),
    /// Service control policies enabled on the root.
    ScpPolicyType,
    /// One of sra's guardrail SCPs, by name.
    Guardrail(String),
    /// A security service's delegated administrator in a region.
    DelegatedAdmin {
        service: &'static str,
        region: String,
    },
    /// A security service's settings in the admin account, in a region.
    ServiceSettings {
        service: &'static str,
        region: String,
    },
    /// AWS Config's recorder and delivery channel in an account, in a region.
    ConfigRecorder {
        account: AccountRole,
        region: String,
    },
    /// Which organization accounts a security service covers, in a region.
    Coverage {
        service: &'static str,
        region: String,
    },
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Organization => f.write_str("organization"),
            Address::Ou(p) => write!(f, "ou[\"{p}\"]"),
            Address::Account(r) => write!(f, "account.{}", r.key()),
            Address::KmsKey => f.write_str("log_archive.kms_key"),
            Address::AccountPublicAccessBlock => f.write_str("log_archive.account_public_access_block"),
            Address::Bucket(k) => write!(f, "log_archive.{}", k.key()),
            Address::Trail => f.write_str("trail"),
            Address::TrailLogGroup => f.write_str("trail.cloudwatch_log_group"),
            Address::TrailLogsRole => f.write_str("trail.cloudwatch_logs_role"),
            Address::TrustedAccess(p) => write!(f, "trusted_access[\"{p}\"]"),
            Address::ScpPolicyType => f.write_str("guardrails.policy_type"),
            Address::Guardrail(n) => write!(f, "guardrail[\"{n}\"]"),
            Address::DelegatedAdmin { service, region } => write!(f, "{service}[\"{region}\"].delegated_admin"),
            Address::ServiceSettings { service, region } => write!(f, "{service}[\"{region}\"].settings"),
            Address::ConfigRecorder { account, region } => {
                write!(f, "config[\"{region}\"].recorder.{}", account.key())
            }
            Address::Coverage { service, region } => write!(f, "{service}[\"{region}\"].coverage"),
        }
    }
}

/// One property's value before and after (None: absent / not yet known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Property {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// An id that is known now, or one an earlier step of the same apply produces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdRef {
    Known(String),
    /// The organization root (created by CreateOrganization).
    Root,
    /// The OU at this path (created by an earlier CreateOu).
    Ou(OuPath),
    /// The account of this role (created by an earlier CreateAccount/AwaitAccount).
    Account(AccountRole),
}

/// One AWS-side action apply performs. Steps carry everything they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    CreateOrganization,
    CreateOu {
        path: OuPath,
        parent: IdRef,
    },
    /// Send CreateAccount, then wait for the request to finish.
    CreateAccount {
        role: AccountRole,
        name: String,
        email: String,
        access_role: String,
        tags: BTreeMap<String, String>,
    },
    /// Wait for a CreateAccount request sent by an earlier, interrupted run.
    AwaitAccount {
        role: AccountRole,
        request_id: String,
        email: String,
    },
    MoveAccount {
        account: IdRef,
        from: IdRef,
        to: IdRef,
    },
    TagAccount {
        account: IdRef,
        tags: BTreeMap<String, String>,
    },
    /// One operation on a log-archive resource; its parameters are the desired
    /// state computed from the plan file and the ids known when it runs.
    LogArchive {
        target: Target,
        op: Op,
    },
    EnableServiceAccess {
        principal: String,
    },
    Guardrail {
        policy: String,
        op: GuardrailOp,
    },
    GuardDuty {
        region: String,
        op: GdOp,
    },
    SecurityHub {
        region: String,
        op: ShOp,
    },
    Inspector {
        region: String,
        op: InOp,
    },
    Macie {
        region: String,
        op: MaOp,
    },
    Detective {
        region: String,
        op: DtOp,
    },
    Config {
        account: AccountRole,
        region: String,
        op: CfOp,
    },
    /// Create the organization analyzer in Security Tooling.
    AccessAnalyzer {
        region: String,
    },
    Delegate {
        service: &'static str,
        principal: &'static str,
        op: DelegationOp,
    },
}

/// One resource's change: what, why, and the steps that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// The live id, when the resource exists.
    pub id: Option<String>,
    pub properties: Vec<Property>,
    pub reason: String,
    pub steps: Vec<Step>,
    /// Differences apply cannot make, each with what to do instead.
    pub manual: Vec<String>,
}

/// A precondition that stops the plan: nothing can be applied until it is fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub message: String,
    pub hint: String,
}

/// Everything `sra plan` found and `sra apply` will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The ids the plan was computed with; apply adds the ones its steps produce.
    pub ids: Ids,
    pub organization_id: Option<String>,
    pub caller_account: String,
    pub changes: Vec<Change>,
    pub blockers: Vec<Blocker>,
    /// Changes that undo someone else's set-up (another delegated admin):
    /// apply refuses them unless `--allow-admin-change` is given.
    pub destructive: Vec<String>,
}

/// How many changes of each action a plan holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::NoOp => s.unchanged += 1,
            }
        }
        s
    }

    /// Changes apply would make.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// Differences only a person can resolve.
    pub fn has_manual(&self) -> bool {
        self.changes.iter().any(|c| !c.manual.is_empty())
    }

    /// Every step apply runs, in order.
    pub fn steps(&self) -> impl Iterator<Item = (&Change, &Step)> {
        self.changes.iter().flat_map(|c| c.steps.iter().map(move |s| (c, s)))
    }
}
