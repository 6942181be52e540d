//! Account baselines (`[baselines]`): what every active account of the
//! organization gets, the management account included and the excluded OUs'
//! accounts not: EBS encryption by default in every governed region, the S3
//! account-level public access block, the IAM password policy at CIS values or
//! stricter, the SECURITY alternate contact when the plan names one, and an AWS
//! Config recorder in every governed region (with `[services.config]`; Security
//! Tooling's and Log Archive's are the Config service's own). One change per
//! (account, baseline), its regions as properties.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::plan::{Action, Address, Change, IdRef, Phrase, Property, Step, Verb};
use crate::model::{AccountRole, BaselineSpec, SecurityContact};
use crate::services::config::{CfOp, RecorderState};

/// What one account baseline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    EbsEncryption,
    S3PublicAccessBlock,
    PasswordPolicy,
    SecurityContact,
    ConfigRecorder,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::EbsEncryption => "ebs_default_encryption",
            Kind::S3PublicAccessBlock => "s3_block_public_access",
            Kind::PasswordPolicy => "password_policy",
            Kind::SecurityContact => "security_contact",
            Kind::ConfigRecorder => "config_recorder",
        }
    }
}

/// The IAM account password policy, as GetAccountPasswordPolicy reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordPolicy {
    pub minimum_length: i32,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub allow_users_to_change: bool,
    /// 0: not set.
    pub reuse_prevention: i32,
    /// Kept as they are: sra asks for no expiry, and never removes one.
    pub max_age: Option<i32>,
    pub hard_expiry: bool,
}

/// CIS AWS Foundations values (Security Hub controls IAM.7, IAM.15 and IAM.16):
/// at least 14 characters, every character class, no reuse of the last 24.
pub const MIN_LENGTH: i32 = 14;
pub const REUSE: i32 = 24;

impl PasswordPolicy {
    /// What sra sets: the CIS values, or the live ones where they are stricter;
    /// expiry as it is.
    pub fn wanted(live: Option<&PasswordPolicy>) -> PasswordPolicy {
        let live = live.cloned().unwrap_or_default();
        PasswordPolicy {
            minimum_length: live.minimum_length.max(MIN_LENGTH),
            require_symbols: true,
            require_numbers: true,
            require_uppercase: true,
            require_lowercase: true,
            allow_users_to_change: true,
            reuse_prevention: live.reuse_prevention.max(REUSE),
            max_age: live.max_age,
            hard_expiry: live.hard_expiry,
        }
    }

    fn properties(&self) -> Vec<(&'static str, String)> {
        vec![
            ("minimum_password_length", self.minimum_length.to_string()),
            ("require_symbols", self.require_symbols.to_string()),
            ("require_numbers", self.require_numbers.to_string()),
            ("require_uppercase_characters", self.require_uppercase.to_string()),
            ("require_lowercase_characters", self.require_lowercase.to_string()),
            ("allow_users_to_change_password", self.allow_users_to_change.to_string()),
            ("password_reuse_prevention", self.reuse_prevention.to_string()),
        ]
    }
}

/// One account's baselines as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountBaseline {
    /// Region → EBS encryption by default.
    pub ebs: BTreeMap<String, bool>,
    /// The four account-level settings (BlockPublicAcls, IgnorePublicAcls,
    /// BlockPublicPolicy, RestrictPublicBuckets); None: no configuration.
    pub s3: Option<[bool; 4]>,
    /// None: no password policy.
    pub password: Option<PasswordPolicy>,
    /// None: no SECURITY contact (or not read: no contact is planned).
    pub contact: Option<SecurityContact>,
    /// Region → the account's Config recorder and delivery channel (empty: not read).
    pub config: BTreeMap<String, RecorderState>,
}

/// Every account's baselines as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedBaselines {
    /// Account id → its baselines.
    pub accounts: BTreeMap<String, AccountBaseline>,
    /// Account id → why it could not be read (its access role cannot be assumed).
    pub unreadable: BTreeMap<String, String>,
    /// Accounts under the excluded OUs, at any depth.
    pub excluded: BTreeSet<String>,
}

/// What apply does for one account baseline, with every value it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// EC2 EnableEbsEncryptionByDefault in the account, in this region.
    EnableEbsEncryption { region: String },
    /// S3 Control PutPublicAccessBlock for the account, all four settings true.
    PutPublicAccessBlock,
    /// IAM UpdateAccountPasswordPolicy in the account, exactly these values.
    UpdatePasswordPolicy { policy: PasswordPolicy },
    /// Account Management PutAlternateContact (SECURITY), from the management
    /// account: without AccountId for itself, with it for a member.
    PutSecurityContact { contact: SecurityContact },
    /// A Config recorder operation in the account, in this region (the same
    /// operations as Security Tooling's and Log Archive's recorders).
    Config { region: String, op: CfOp },
}

impl Op {
    pub fn phrase(&self, account: &str) -> Phrase {
        match self {
            Op::EnableEbsEncryption { region } => {
                Phrase::new(Verb::Enable, format!("EBS encryption by default in {account} in {region}"))
            }
            Op::PutPublicAccessBlock => {
                Phrase::new(Verb::Set, format!("the S3 account public access block of {account} (all four settings)"))
            }
            Op::UpdatePasswordPolicy { policy } => Phrase::new(
                Verb::Set,
                format!(
                    "the IAM password policy of {account} (length {}, reuse {}, every character class)",
                    policy.minimum_length, policy.reuse_prevention
                ),
            ),
            Op::PutSecurityContact { contact } => Phrase::new(
                Verb::Set,
                format!("the security contact of {account} ({} <{}>)", contact.name, contact.email),
            ),
            Op::Config { region, op } => op.phrase(account, region),
        }
    }
}

/// An account the baselines cover: its id when it exists, or the plan's role
/// for an account this apply creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub label: String,
    pub account: IdRef,
}

/// The accounts to cover: every ACTIVE account not excluded, and the plan's
/// accounts that do not exist yet.
pub fn targets(active: &[String], missing_roles: &[AccountRole], observed: &ObservedBaselines) -> Vec<Target> {
    let mut out: Vec<Target> = active
        .iter()
        .filter(|id| !observed.excluded.contains(*id))
        .map(|id| Target { label: id.clone(), account: IdRef::Known(id.clone()) })
        .collect();
    out.extend(missing_roles.iter().map(|r| Target { label: r.key().to_string(), account: IdRef::Account(*r) }));
    out
}

/// Where every account's Config recorder delivers, when the plan records in
/// every account (`[baselines] config_recorders` with `[services.config]` and
/// the log archive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub home_region: String,
    pub bucket: String,
    pub key: String,
    /// Accounts whose recorders the Config service manages (Security Tooling,
    /// Log Archive): no baseline for them.
    pub managed: Vec<String>,
}

impl Recording {
    fn covers(&self, t: &Target) -> bool {
        matches!(&t.account, IdRef::Known(id) if !self.managed.contains(id))
    }
}

/// The baseline changes: for each target, one change per baseline the plan asks for.
/// `log_archive` is skipped for the S3 public access block: the log archive
/// resources manage that account's already. A Control Tower recorder is left as
/// it is, with a note (as the Config service leaves it).
pub fn diff(
    spec: &BaselineSpec,
    regions: &[String],
    targets: &[Target],
    log_archive: Option<&str>,
    recording: Option<&Recording>,
    observed: &ObservedBaselines,
    notes: &mut Vec<String>,
) -> Vec<Change> {
    let mut out = Vec::new();
    if !spec.any() {
        return out;
    }
    let empty = AccountBaseline::default();
    for t in targets {
        let unread = match &t.account {
            IdRef::Known(id) => observed.unreadable.get(id),
            _ => None,
        };
        let have = match &t.account {
            IdRef::Known(id) => observed.accounts.get(id).unwrap_or(&empty),
            _ => &empty,
        };
        let step = |op: Op| Step::Baseline { account: t.account.clone(), label: t.label.clone(), op };
        let change = |kind: Kind, properties: Vec<Property>, steps: Vec<Step>, exists: bool| {
            let mut c = Change {
                address: Address::Baseline { account: t.label.clone(), kind },
                action: action(exists, &properties, &steps),
                id: None,
                properties,
                reason: String::new(),
                steps,
                manual: vec![],
            };
            if let Some(why) = unread {
                c.action = Action::NoOp;
                c.steps.clear();
                c.manual.push(format!(
                    "sra cannot read account {}: {why}; make its access role assumable from the management account, \
                     or exclude its OU in [baselines] exclude_ous",
                    t.label
                ));
            }
            c
        };
        if spec.ebs_default_encryption {
            let mut props = Vec::new();
            let mut steps = Vec::new();
            for region in regions {
                let on = have.ebs.get(region).copied();
                props.push(prop(region, on.map(|b| b.to_string()), "true"));
                if on != Some(true) {
                    steps.push(step(Op::EnableEbsEncryption { region: region.clone() }));
                }
            }
            let exists = have.ebs.values().any(|on| *on);
            out.push(change(Kind::EbsEncryption, props, steps, exists));
        }
        if spec.s3_block_public_access
            && Some(t.label.as_str()) != log_archive
            && t.account != IdRef::Account(AccountRole::LogArchive)
        {
            let names = ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"];
            let props: Vec<Property> =
                names.iter().enumerate().map(|(i, n)| prop(n, have.s3.map(|s| s[i].to_string()), "true")).collect();
            let steps = if have.s3 == Some([true; 4]) { vec![] } else { vec![step(Op::PutPublicAccessBlock)] };
            out.push(change(Kind::S3PublicAccessBlock, props, steps, have.s3.is_some()));
        }
        if spec.password_policy {
            let want = PasswordPolicy::wanted(have.password.as_ref());
            let before = have.password.as_ref().map(PasswordPolicy::properties);
            let props: Vec<Property> = want
                .properties()
                .into_iter()
                .enumerate()
                .map(|(i, (name, after))| prop(name, before.as_ref().map(|b| b[i].1.clone()), &after))
                .collect();
            let steps = if have.password.as_ref() == Some(&want) {
                vec![]
            } else {
                vec![step(Op::UpdatePasswordPolicy { policy: want })]
            };
            out.push(change(Kind::PasswordPolicy, props, steps, have.password.is_some()));
        }
        if let Some(contact) = &spec.security_contact {
            let live = have.contact.as_ref();
            let fields = |c: &SecurityContact| [c.name.clone(), c.title.clone(), c.email.clone(), c.phone.clone()];
            let props: Vec<Property> = ["name", "title", "email", "phone"]
                .iter()
                .enumerate()
                .map(|(i, n)| prop(n, live.map(|l| fields(l)[i].clone()), &fields(contact)[i]))
                .collect();
            let steps = if live == Some(contact) {
                vec![]
            } else {
                vec![step(Op::PutSecurityContact { contact: contact.clone() })]
            };
            out.push(change(Kind::SecurityContact, props, steps, live.is_some()));
        }
        if let Some(rec) = recording.filter(|r| spec.config_recorders && r.covers(t)) {
            let mut props = Vec::new();
            let mut steps = Vec::new();
            for region in regions {
                let state = have.config.get(region).cloned().unwrap_or_default();
                let (properties, ops) =
                    crate::services::config::recorder_plan(&state, region == &rec.home_region, &rec.bucket, &rec.key);
                props.extend(properties.into_iter().map(|p| Property { name: format!("{region}.{}", p.name), ..p }));
                match crate::services::config::control_tower_owned(&state) {
                    Some(name) => notes.push(format!(
                        "{}: in {region}, Control Tower's \"{name}\" is left as it is (its mandatory controls \
                         protect it, and it delivers to Control Tower's log bucket, not {})",
                        Address::Baseline { account: t.label.clone(), kind: Kind::ConfigRecorder },
                        rec.bucket
                    )),
                    None => steps.extend(ops.into_iter().map(|op| step(Op::Config { region: region.clone(), op }))),
                }
            }
            let exists = have.config.values().any(|r| r.recorder.is_some());
            let mut c = change(Kind::ConfigRecorder, props, steps, exists);
            if c.steps.is_empty() && c.manual.is_empty() {
                c.action = Action::NoOp;
            }
            out.push(c);
        }
    }
    out
}

fn prop(name: &str, before: Option<String>, after: &str) -> Property {
    Property { name: name.to_string(), before, after: Some(after.to_string()) }
}

fn action(exists: bool, properties: &[Property], steps: &[Step]) -> Action {
    if steps.is_empty() && !properties.iter().any(Property::changed) {
        Action::NoOp
    } else if exists {
        Action::Update
    } else {
        Action::Create
    }
}

#[cfg(test)]
mod tests;
