//! The plan: a complete value that says what apply will do and why. Apply executes
//! its steps in order and decides nothing itself.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{AccountRole, OuPath};
use crate::services::config::CfOp;
use crate::services::delegation::DelegationOp;
use crate::services::detective::{Detective, DtOp};
use crate::services::guardduty::{GdOp, GuardDuty};
use crate::services::guardrails::GuardrailOp;
use crate::services::inspector::{InOp, Inspector};
use crate::services::log_archive::{BucketKind, Ids, Op, Target};
use crate::services::macie::{MaOp, Macie};
use crate::services::regional::{self, Service};
use crate::services::securityhub::{SecurityHub, ShOp};

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
    /// Resource control policies enabled on the root.
    RcpPolicyType,
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
    /// The read-only plan role (`organization.plan_role`) in an account.
    PlanRole(AccountRole),
    /// One account baseline of one account (its id, or the plan's role for an
    /// account this apply creates).
    Baseline {
        account: String,
        kind: crate::services::baselines::Kind,
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
            Address::RcpPolicyType => f.write_str("guardrails.rcp_policy_type"),
            Address::Guardrail(n) => write!(f, "guardrail[\"{n}\"]"),
            Address::DelegatedAdmin { service, region } => write!(f, "{service}[\"{region}\"].delegated_admin"),
            Address::ServiceSettings { service, region } => write!(f, "{service}[\"{region}\"].settings"),
            Address::ConfigRecorder { account, region } => {
                write!(f, "config[\"{region}\"].recorder.{}", account.key())
            }
            Address::Coverage { service, region } => write!(f, "{service}[\"{region}\"].coverage"),
            Address::PlanRole(account) => write!(f, "plan_role.{}", account.key()),
            Address::Baseline { account, kind } => write!(f, "baseline[\"{account}\"].{}", kind.key()),
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

impl fmt::Display for IdRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdRef::Known(id) => f.write_str(id),
            IdRef::Root => f.write_str("the organization root"),
            IdRef::Ou(p) => write!(f, "OU \"{p}\""),
            IdRef::Account(r) => write!(f, "the {} account", r.label()),
        }
    }
}

/// One AWS-side action apply performs. Regional steps carry every value they
/// send; the rest compute theirs from the plan's desired model and the ids known
/// when they run (ARCHITECTURE.md, Decisions).
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
        op: regional::Op<GdOp>,
    },
    SecurityHub {
        region: String,
        op: regional::Op<ShOp>,
    },
    Inspector {
        region: String,
        op: regional::Op<InOp>,
    },
    Macie {
        region: String,
        op: regional::Op<MaOp>,
    },
    Detective {
        region: String,
        op: regional::Op<DtOp>,
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
    /// The read-only plan role in an account (its documents: `plan_role::{trust, policy}`).
    PlanRole {
        account: AccountRole,
        role: String,
        op: crate::services::plan_role::Op,
    },
    /// One account baseline in one account (`label`: its id, or its role's key).
    Baseline {
        account: IdRef,
        label: String,
        op: crate::services::baselines::Op,
    },
}

/// What a step does to its resource, as a verb that reads both as an instruction
/// (a plan's "create …") and as progress (apply's "creating …").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Attach,
    Create,
    Delegate,
    Deregister,
    Detach,
    Enable,
    Enroll,
    Move,
    Register,
    Remove,
    Resume,
    Set,
    Start,
    Tag,
    Update,
}

impl Verb {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Verb::Attach => ("attach", "attaching"),
            Verb::Create => ("create", "creating"),
            Verb::Delegate => ("delegate", "delegating"),
            Verb::Deregister => ("deregister", "deregistering"),
            Verb::Detach => ("detach", "detaching"),
            Verb::Enable => ("enable", "enabling"),
            Verb::Enroll => ("enroll", "enrolling"),
            Verb::Move => ("move", "moving"),
            Verb::Register => ("register", "registering"),
            Verb::Remove => ("remove", "removing"),
            Verb::Resume => ("resume", "resuming"),
            Verb::Set => ("set", "setting"),
            Verb::Start => ("start", "starting"),
            Verb::Tag => ("tag", "tagging"),
            Verb::Update => ("update", "updating"),
        }
    }
}

/// A step in words: what a person reads in a plan and in apply's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub verb: Verb,
    /// What the verb acts on, with the values that matter ("recorder \"default\" in us-east-1").
    pub object: String,
}

impl Phrase {
    pub fn new(verb: Verb, object: impl Into<String>) -> Phrase {
        Phrase { verb, object: object.into() }
    }

    /// "create recorder …": how a plan lists the step.
    pub fn instruction(&self) -> String {
        format!("{} {}", self.verb.words().0, self.object)
    }

    /// "creating recorder …": how apply reports the step while it runs.
    pub fn progress(&self) -> String {
        format!("{} {}", self.verb.words().1, self.object)
    }
}

/// "3 accounts", "1 account".
pub fn accounts(n: usize) -> String {
    format!("{n} account{}", if n == 1 { "" } else { "s" })
}

impl Step {
    /// The step in words. Each service's operations say their own.
    pub fn phrase(&self) -> Phrase {
        use Verb::*;
        match self {
            Step::CreateOrganization => Phrase::new(Create, "the organization (all features)"),
            Step::CreateOu { path, .. } => Phrase::new(Create, format!("OU \"{path}\"")),
            Step::CreateAccount { name, email, .. } => Phrase::new(Create, format!("account \"{name}\" <{email}>")),
            Step::AwaitAccount { request_id, .. } => {
                Phrase::new(Resume, format!("the wait for account creation request {request_id}"))
            }
            Step::MoveAccount { .. } => Phrase::new(Move, "the account into its OU"),
            Step::TagAccount { tags, .. } => Phrase::new(
                Tag,
                format!(
                    "the account ({})",
                    tags.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
                ),
            ),
            Step::EnableServiceAccess { principal } => Phrase::new(Enable, format!("trusted access for {principal}")),
            Step::LogArchive { op, .. } => op.phrase(),
            Step::Guardrail { op, .. } => op.phrase(),
            Step::GuardDuty { region, op } => op.phrase(GuardDuty::NAME, region),
            Step::SecurityHub { region, op } => op.phrase(SecurityHub::NAME, region),
            Step::Inspector { region, op } => op.phrase(Inspector::NAME, region),
            Step::Macie { region, op } => op.phrase(Macie::NAME, region),
            Step::Detective { region, op } => op.phrase(Detective::NAME, region),
            Step::Config { account, region, op } => op.phrase(account.label(), region),
            Step::AccessAnalyzer { region } => Phrase::new(Create, format!("the organization analyzer in {region}")),
            Step::Delegate { principal, op, .. } => op.phrase(principal),
            Step::PlanRole { account, role, op } => op.phrase(*account, role),
            Step::Baseline { label, op, .. } => op.phrase(label),
        }
    }
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

/// A change that undoes someone else's set-up, and what it undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destructive {
    pub address: Address,
    /// "replaces the delegated administrator 111111111111"
    pub what: String,
}

impl fmt::Display for Destructive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.address, self.what)
    }
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
    pub destructive: Vec<Destructive>,
    /// The attack catalog evaluated against the policies the plan would write;
    /// None when the plan sets up neither guardrails nor the Log Archive.
    pub proof: Option<crate::services::guardrails::proof::Proof>,
    /// What sra leaves as it is on purpose and says so (not a change, not a
    /// manual step): e.g. Control Tower's Config recorders.
    pub notes: Vec<String>,
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

    /// Whether the change at `address` undoes someone else's set-up.
    pub fn is_destructive(&self, address: &Address) -> bool {
        self.destructive.iter().any(|d| d.address == *address)
    }

    /// Every step apply runs, in order.
    pub fn steps(&self) -> impl Iterator<Item = (&Change, &Step)> {
        self.changes.iter().flat_map(|c| c.steps.iter().map(move |s| (c, s)))
    }
}
