//! Organization-wide delegated administration to Security Tooling for the services
//! that delegate once for the whole organization: AWS Config, CloudTrail, IAM
//! Access Analyzer and Trusted Advisor. (Regional services delegate per region in
//! their own slices, e.g. `guardduty`.) `diff` is pure.

use crate::engine::plan::{Action, Address, Change, Destructive, Phrase, Property, Step, Verb};
use crate::model::ServicesSpec;

/// A service delegated organization-wide: (name in the plan file, delegation principal).
pub const SERVICES: &[(&str, &str)] = &[
    ("config", "config.amazonaws.com"),
    ("cloudtrail", "cloudtrail.amazonaws.com"),
    ("access_analyzer", "access-analyzer.amazonaws.com"),
    ("trusted_advisor", TRUSTED_ADVISOR),
];

/// Trusted Advisor's principal: its trusted access is turned on in its own
/// console only, so its delegation waits for that (see `engine::diff`).
pub const TRUSTED_ADVISOR: &str = "reporting.trustedadvisor.amazonaws.com";

/// The region label of organization-wide delegations in addresses.
pub const ORGANIZATION: &str = "organization";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelegationOp {
    Register,
    Deregister { account: String },
}

impl DelegationOp {
    /// The operation in words (plan and progress).
    pub fn phrase(&self, principal: &str) -> Phrase {
        match self {
            DelegationOp::Register => {
                Phrase::new(Verb::Register, format!("Security Tooling as delegated administrator for {principal}"))
            }
            DelegationOp::Deregister { account } => {
                Phrase::new(Verb::Deregister, format!("{account} as delegated administrator for {principal}"))
            }
        }
    }
}

pub fn enabled(spec: &ServicesSpec, service: &str) -> bool {
    spec.delegated.get(service).copied().unwrap_or(true)
}

/// Delegated administrators per principal, as Organizations lists them.
pub type ObservedDelegations = std::collections::BTreeMap<String, Vec<String>>;

pub fn diff(
    spec: &ServicesSpec,
    admin: Option<&str>,
    have: &ObservedDelegations,
    trusted_access: &[String],
) -> (Vec<Change>, Vec<Destructive>) {
    let mut changes = Vec::new();
    let mut destructive = Vec::new();
    for (service, principal) in SERVICES {
        if !enabled(spec, service) {
            continue;
        }
        let admins = have.get(*principal).cloned().unwrap_or_default();
        let is_admin = admin.is_some_and(|a| admins.iter().any(|x| x == a));
        let address = Address::DelegatedAdmin { service, region: ORGANIZATION.to_string() };
        let step = |op| Step::Delegate { service, principal, op };
        let mut c = Change {
            address: address.clone(),
            action: Action::NoOp,
            id: admin.map(str::to_string),
            properties: vec![Property {
                name: "admin_account".into(),
                before: (!admins.is_empty()).then(|| admins.join(", ")),
                after: Some(admin.unwrap_or(crate::services::log_archive::UNKNOWN).to_string()),
            }],
            reason: String::new(),
            steps: vec![],
            manual: vec![],
        };
        if !is_admin && *principal == TRUSTED_ADVISOR && !trusted_access.iter().any(|p| p == TRUSTED_ADVISOR) {
            // Registering needs the trusted access only a person can turn on.
            c.manual.push(
                "waits for Trusted Advisor's organizational view (its trusted access, above); rerun sra apply after"
                    .into(),
            );
            changes.push(c);
            continue;
        }
        if !is_admin {
            let others: Vec<&String> = admins.iter().filter(|x| Some(x.as_str()) != admin).collect();
            if others.is_empty() {
                c.action = Action::Create;
                c.reason = format!("Security Tooling becomes the delegated administrator of {principal}");
            } else {
                c.action = Action::Update;
                let list = others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                c.reason = format!("DESTRUCTIVE: replaces the delegated administrator {list} with Security Tooling");
                destructive.push(Destructive {
                    address: address.clone(),
                    what: format!("replaces the delegated administrator {list}"),
                });
                for o in others {
                    c.steps.push(step(DelegationOp::Deregister { account: o.clone() }));
                }
            }
            c.steps.push(step(DelegationOp::Register));
        }
        changes.push(c);
    }
    (changes, destructive)
}
