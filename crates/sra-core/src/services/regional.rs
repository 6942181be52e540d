//! What the regional security services share, written once: the per-region loop
//! of the diff, the delegated-administrator change, the settings change's shape
//! and the coverage change. Each service (GuardDuty, Security Hub, Inspector,
//! Macie, Detective) implements [`Service`] with only its own operations and
//! settings; its I/O half (`sra::services::regional::Io`) adds its SDK calls.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::plan::{Action, Address, Change, Destructive, Phrase, Property, Step, Verb, accounts};
use crate::services::log_archive::UNKNOWN;

/// A regional service's operation in one region: the ones every regional service
/// has, written once, and the service's own (`O`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<O> {
    /// From the management account: make Security Tooling the administrator.
    EnableAdmin,
    /// From the management account: remove this other administrator, which
    /// `--allow-admin-change` replaces.
    DisableAdmin { account: String },
    /// In Security Tooling: enroll these (account id, email) pairs as members,
    /// turning on `with` in each (the service's [`Service::enrolment`]).
    Enroll { accounts: Vec<(String, String)>, with: Vec<String> },
    /// In Security Tooling: enroll every account that is not a member yet, as the
    /// organization lists them when the step runs (accounts this apply created
    /// included), turning on `with` in each.
    EnrollAll { with: Vec<String> },
    /// In Security Tooling: the service's own operation.
    Own(O),
}

/// A service's own operation says itself in words.
pub trait OwnOp {
    fn phrase(&self, region: &str) -> Phrase;
    /// What removing a former administrator does besides the management
    /// account's call, in words (the service's documented sequence).
    fn removal_note() -> &'static str {
        ""
    }
}

impl<O: OwnOp> Op<O> {
    /// The operation in words (plan and progress); `name` is the service as people say it.
    pub fn phrase(&self, name: &str, region: &str) -> Phrase {
        match self {
            Op::EnableAdmin => Phrase::new(Verb::Delegate, format!("{name} to Security Tooling in {region}")),
            Op::DisableAdmin { account } => Phrase::new(
                Verb::Remove,
                format!("{account} as {name}'s delegated administrator in {region}{}", O::removal_note()),
            ),
            Op::Enroll { accounts: a, with } => Phrase::new(
                Verb::Enroll,
                format!("{} as {name} members in {region}{}", accounts(a.len()), with_words(with)),
            ),
            Op::EnrollAll { with } => Phrase::new(
                Verb::Enroll,
                format!("every account that is not a {name} member yet in {region}{}", with_words(with)),
            ),
            Op::Own(op) => op.phrase(region),
        }
    }
}

/// What enrolment turns on, in words: " (scanning ec2, ecr)".
fn with_words(with: &[String]) -> String {
    if with.is_empty() { String::new() } else { format!(" (scanning {})", with.join(", ")) }
}

/// A regional service in one region, as AWS has it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionState<S> {
    /// The delegated administrators the management account lists.
    pub admins: Vec<String>,
    /// The service's own settings in Security Tooling (what it could read of them).
    pub settings: S,
    /// The accounts Security Tooling has as members; None when it cannot list them
    /// (it is not the administrator yet).
    pub members: Option<BTreeSet<String>>,
    /// Whether the service is on in the management account, for services that
    /// cannot turn themselves on there (Security Hub); None when not read.
    pub management_on: Option<bool>,
}

/// A regional service in every governed region it was read in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed<S> {
    pub regions: BTreeMap<String, RegionState<S>>,
}

/// The organization as the regional diffs see it.
pub struct Org<'a> {
    pub regions: &'a [String],
    pub home: &'a str,
    /// Security Tooling's account id, once it exists.
    pub admin: Option<&'a str>,
    /// Every account as (id, email), for coverage.
    pub accounts: &'a [(String, String)],
    /// The organization's root, once it exists (organization-wide settings
    /// associate with it).
    pub root: Option<&'a str>,
}

/// One region, for a service's settings diff.
pub struct Here<'a> {
    pub region: &'a str,
    pub org: &'a Org<'a>,
    /// Security Tooling is the service's administrator here now.
    pub is_admin: bool,
    /// Whether the service is on in the management account (`RegionState::management_on`).
    pub management_on: Option<bool>,
}

/// A service's settings change in one region, before the shared part (address,
/// steps) is added.
pub struct SettingsChange<Op> {
    pub action: Action,
    pub id: Option<String>,
    pub properties: Vec<Property>,
    pub reason: String,
    /// The operations apply runs, in order, each with every value it sends.
    pub ops: Vec<Op>,
    /// Whether the members listing means anything here (the settings it depends
    /// on were read); otherwise coverage is planned as unknown.
    pub members_readable: bool,
    /// What only a person can do here, and how.
    pub manual: Vec<String>,
}

/// The reason of a settings change that only the administrator can read.
pub const REAPPLIED: &str =
    "organization settings are re-applied after delegation (only the administrator can read them)";

/// What one regional security service supplies to the shared diff.
pub trait Service {
    /// The service's key in addresses and the plan file: `guardduty`.
    const KEY: &'static str;
    /// The service as people say it: `GuardDuty`.
    const NAME: &'static str;
    /// Whether, once delegated, every existing account is enrolled (services whose
    /// auto-enable covers only accounts that join later).
    const ENROLL_EXISTING: bool;
    /// Whether Security Tooling itself counts in coverage: enrolment turns
    /// something on in every account, the administrator's own included
    /// (Inspector's scans).
    const COVERS_ADMIN: bool = false;
    /// What the plan file says of it.
    type Spec;
    /// Its settings in Security Tooling, as observed.
    type Settings: Default;
    /// Its own operations.
    type Op;
    fn enabled(spec: &Self::Spec) -> bool;
    /// The plan step that runs `op` in `region`.
    fn step(region: &str, op: Op<Self::Op>) -> Step;
    /// The settings change in one region.
    fn settings(spec: &Self::Spec, here: &Here, have: &Self::Settings) -> SettingsChange<Self::Op>;
    /// What enrolling an account turns on there besides membership (Inspector's
    /// scan types); a member counts as covered only when all of it is on.
    fn enrolment(_spec: &Self::Spec) -> Vec<String> {
        Vec::new()
    }
}

/// The changes a regional service needs in every governed region: its delegated
/// administrator, its settings, and its coverage, in that order; and the changes
/// that would replace another administrator.
pub fn diff<S: Service>(spec: &S::Spec, org: &Org, have: &Observed<S::Settings>) -> (Vec<Change>, Vec<Destructive>) {
    let mut changes = Vec::new();
    let mut destructive = Vec::new();
    if !S::enabled(spec) {
        return (changes, destructive);
    }
    let empty = RegionState::<S::Settings>::default();
    for region in org.regions {
        let state = have.regions.get(region).unwrap_or(&empty);
        let step = |op| S::step(region, op);
        let (c, d) = admin_change(S::KEY, region, org.admin, &state.admins, step(Op::EnableAdmin), |a| {
            step(Op::DisableAdmin { account: a.to_string() })
        });
        destructive.extend(d);
        changes.push(c);

        let is_admin = org.admin.is_some_and(|a| state.admins.iter().any(|x| x == a));
        let here = Here { region, org, is_admin, management_on: state.management_on };
        let s = S::settings(spec, &here, &state.settings);
        changes.push(Change {
            address: Address::ServiceSettings { service: S::KEY, region: region.clone() },
            // What apply writes is never "unchanged": settings it re-applies
            // (unreadable until Security Tooling is the administrator) are an update.
            action: if s.action == Action::NoOp && !s.ops.is_empty() { Action::Update } else { s.action },
            id: s.id,
            properties: s.properties,
            reason: s.reason,
            steps: s.ops.into_iter().map(|op| step(Op::Own(op))).collect(),
            manual: s.manual,
        });

        let members = if s.members_readable { state.members.as_ref() } else { None };
        let with = S::enrolment(spec);
        let covered = Covered { admin: org.admin, admin_too: S::COVERS_ADMIN, accounts: org.accounts };
        changes.push(coverage_change(
            S::KEY,
            region,
            &covered,
            members,
            |missing| step(Op::Enroll { accounts: missing, with: with.clone() }),
            S::ENROLL_EXISTING.then(|| step(Op::EnrollAll { with: with.clone() })),
        ));
    }
    (changes, destructive)
}

/// Create when the resource does not exist, update when a property differs.
pub fn action(exists: bool, properties: &[Property]) -> Action {
    if !exists {
        Action::Create
    } else if properties.iter().any(Property::changed) {
        Action::Update
    } else {
        Action::NoOp
    }
}

/// A property whose planned value is known.
pub fn prop(name: &str, before: Option<String>, after: &str) -> Property {
    Property { name: name.to_string(), before, after: Some(after.to_string()) }
}

/// The change that makes `admin` the service's delegated administrator in
/// `region`, given the administrators AWS lists there. Replacing another
/// administrator is planned, and also returned as a destructive change for apply
/// to refuse without `--allow-admin-change`.
pub fn admin_change(
    service: &'static str,
    region: &str,
    admin: Option<&str>,
    admins: &[String],
    enable: Step,
    disable: impl Fn(&str) -> Step,
) -> (Change, Option<Destructive>) {
    let address = Address::DelegatedAdmin { service, region: region.to_string() };
    let mut c = Change {
        address: address.clone(),
        action: Action::NoOp,
        id: admin.map(str::to_string),
        properties: vec![Property {
            name: "admin_account".into(),
            before: (!admins.is_empty()).then(|| admins.join(", ")),
            after: Some(admin.unwrap_or(UNKNOWN).to_string()),
        }],
        reason: String::new(),
        steps: vec![],
        manual: vec![],
    };
    if admin.is_some_and(|a| admins.iter().any(|x| x == a)) {
        return (c, None);
    }
    let others: Vec<&String> = admins.iter().filter(|x| Some(x.as_str()) != admin).collect();
    if others.is_empty() {
        c.action = Action::Create;
        c.reason = format!("Security Tooling becomes {service}'s delegated administrator here");
        c.steps.push(enable);
        return (c, None);
    }
    c.action = Action::Update;
    let list = others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    c.reason = format!("DESTRUCTIVE: replaces the delegated administrator {list} with Security Tooling");
    for o in &others {
        c.steps.push(disable(o));
    }
    c.steps.push(enable);
    (c, Some(Destructive { address, what: format!("replaces the delegated administrator {list}") }))
}

/// The accounts a service should cover.
pub struct Covered<'a> {
    /// Security Tooling's account id, once it exists.
    pub admin: Option<&'a str>,
    /// Security Tooling counts too ([`Service::COVERS_ADMIN`]).
    pub admin_too: bool,
    /// Every active account as (id, email).
    pub accounts: &'a [(String, String)],
}

/// Which organization accounts the service covers in `region`: every account but
/// the administrator (or, with `admin_too`, every account) should be a member. `members` is None when it cannot be read
/// yet (Security Tooling is not the administrator); auto-enable then covers them.
/// The accounts to enroll go to `enroll`. Services whose auto-enable covers only
/// new accounts pass `enroll_all`: the step that enrolls, once delegated, every
/// account the organization then has (its list is known only after apply).
pub fn coverage_change(
    service: &'static str,
    region: &str,
    covered: &Covered,
    members: Option<&std::collections::BTreeSet<String>>,
    enroll: impl FnOnce(Vec<(String, String)>) -> Step,
    enroll_all: Option<Step>,
) -> Change {
    let admin = covered.admin;
    let expected: Vec<&(String, String)> =
        covered.accounts.iter().filter(|(id, _)| covered.admin_too || Some(id.as_str()) != admin).collect();
    let all = format!("{} of {} accounts", expected.len(), expected.len());
    let mut c = Change {
        address: Address::Coverage { service, region: region.to_string() },
        action: Action::NoOp,
        id: None,
        properties: vec![Property { name: "members".into(), before: Some(all.clone()), after: Some(all) }],
        reason: String::new(),
        steps: vec![],
        manual: vec![],
    };
    let Some(members) = members else {
        let unread = "(read once Security Tooling administers it)".to_string();
        c.properties[0].before = Some(unread.clone());
        c.properties[0].after = Some(unread);
        match enroll_all {
            Some(step) => {
                c.action = Action::Create;
                c.properties[0].after =
                    Some(if covered.admin_too { "every account" } else { "every account but Security Tooling" }.into());
                c.reason = "existing accounts are enrolled once Security Tooling is the administrator".into();
                c.steps.push(step);
            }
            None => c.reason = "auto-enable enrolls every account once Security Tooling is the administrator".into(),
        }
        return c;
    };
    let missing: Vec<(String, String)> =
        expected.iter().filter(|(id, _)| !members.contains(id)).map(|p| (*p).clone()).collect();
    if missing.is_empty() {
        return c;
    }
    c.properties[0].before = Some(format!(
        "{} of {} accounts (not enrolled: {})",
        expected.len() - missing.len(),
        expected.len(),
        missing.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ")
    ));
    c.action = Action::Update;
    c.reason = format!("{} accounts are not {service} members", missing.len());
    c.steps.push(enroll(missing));
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::guardduty::GdOp;
    type O = Op<GdOp>;

    fn step(op: O) -> Step {
        Step::GuardDuty { region: "r".into(), op }
    }

    #[test]
    fn admin_change_cases() {
        let disable = |a: &str| step(O::DisableAdmin { account: a.into() });
        let (c, d) = admin_change("guardduty", "r", Some("1"), &["1".into()], step(O::EnableAdmin), disable);
        assert_eq!((c.action, d), (Action::NoOp, None));
        let (c, d) = admin_change("guardduty", "r", Some("1"), &[], step(O::EnableAdmin), disable);
        assert_eq!((c.action, c.steps.len(), d), (Action::Create, 1, None));
        let (c, d) = admin_change("guardduty", "r", Some("1"), &["2".into()], step(O::EnableAdmin), disable);
        assert_eq!(c.action, Action::Update);
        assert_eq!(c.steps, [step(O::DisableAdmin { account: "2".into() }), step(O::EnableAdmin)]);
        assert_eq!(d.unwrap().to_string(), "guardduty[\"r\"].delegated_admin replaces the delegated administrator 2");
    }

    #[test]
    fn coverage_lists_the_missing_accounts() {
        let accounts =
            vec![("1".to_string(), "a@x.io".to_string()), ("2".into(), "b@x.io".into()), ("3".into(), "c@x.io".into())];
        let members: std::collections::BTreeSet<String> = ["2".to_string()].into();
        let covered = Covered { admin: Some("1"), admin_too: false, accounts: &accounts };
        let c = coverage_change("guardduty", "r", &covered, Some(&members), |m| step(enroll(m)), None);
        assert_eq!(c.action, Action::Update);
        assert_eq!(c.properties[0].before.as_deref(), Some("1 of 2 accounts (not enrolled: 3)"));
        assert_eq!(c.steps, [step(enroll(vec![("3".into(), "c@x.io".into())]))]);
        let unread = coverage_change("guardduty", "r", &covered, None, |m| step(enroll(m)), None);
        assert_eq!(unread.action, Action::NoOp);
        let all = step(O::Own(GdOp::EnsureDetector));
        let pending = coverage_change("x", "r", &covered, None, |m| step(enroll(m)), Some(all.clone()));
        assert_eq!((pending.action, pending.steps), (Action::Create, vec![all]));
        // Where enrolment turns something on in every account (Inspector's scans),
        // Security Tooling counts too.
        let everyone = Covered { admin: Some("1"), admin_too: true, accounts: &accounts };
        let c = coverage_change("inspector", "r", &everyone, Some(&members), |m| step(enroll(m)), None);
        assert_eq!(c.properties[0].before.as_deref(), Some("1 of 3 accounts (not enrolled: 1, 3)"));
    }

    fn enroll(accounts: Vec<(String, String)>) -> O {
        O::Enroll { accounts, with: vec![] }
    }
}
