//! The read-only plan role (`organization.plan_role`): a role in each account
//! `sra` reads through a role (Security Tooling and Log Archive), allowed only
//! the reads `sra plan` makes there (derived from [`crate::permissions::CALLS`])
//! and trusted only by the management account. With it set, `sra plan` reads
//! member accounts through it, and `sra permissions plan PLAN` lets the plan
//! principal assume it and nothing else: a plan is then read-only everywhere,
//! not only in the management account.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::model::AccountRole;
use crate::permissions::{Account, CALLS};
use crate::policy;
use crate::services::log_archive::Ids;

/// The name of the role's inline policy.
pub const POLICY_NAME: &str = "sra-plan-read-only";

/// The accounts the role is made in: those sra reads through a role.
pub const ACCOUNTS: [AccountRole; 2] = [AccountRole::SecurityTooling, AccountRole::LogArchive];

/// The role as read: its trust policy and inline policy (None: absent or unreadable).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleState {
    pub trust: Option<Value>,
    pub policy: Option<Value>,
}

/// Per account: `Some(None)` read and absent; a missing key, not read (the
/// account does not exist yet, or no plan role is asked for).
pub type ObservedPlanRoles = BTreeMap<AccountRole, Option<RoleState>>;

/// What apply does to a plan role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// CreateRole with the trust policy, then PutRolePolicy.
    Create,
    /// UpdateAssumeRolePolicy and PutRolePolicy: both documents as planned.
    PutPolicies,
}

impl Op {
    pub fn phrase(self, account: AccountRole, role: &str) -> crate::engine::plan::Phrase {
        use crate::engine::plan::{Phrase, Verb};
        match self {
            Op::Create => Phrase::new(Verb::Create, format!("the read-only plan role {role} in {}", account.label())),
            Op::PutPolicies => {
                Phrase::new(Verb::Set, format!("the trust and read-only policies of {role} in {}", account.label()))
            }
        }
    }
}

/// Who may assume the role: the management account (whose IAM then decides
/// which principal, with `sra permissions plan PLAN`).
pub fn trust(ids: &Ids) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SraPlanFromManagementAccount",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{}:iam::{}:root", ids.partition, ids.management_account)},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// The reads `sra plan` makes in a member account, and nothing else.
pub fn read_actions() -> Vec<&'static str> {
    let mut out: Vec<&str> = CALLS
        .iter()
        .filter(|c| c.account == Account::Member && !c.write)
        .flat_map(|c| c.actions.iter().copied())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The role's inline policy.
pub fn policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "SraPlanReadOnly", "Effect": "Allow", "Action": read_actions(), "Resource": "*"}]
    })
}

fn props(trust: Option<&Value>, policy: Option<&Value>) -> Vec<(String, Option<String>)> {
    vec![("trust_policy".into(), trust.map(policy::pretty)), ("permissions_policy".into(), policy.map(policy::pretty))]
}

/// The changes that make (or restore) the plan role in each account.
pub fn diff(role: Option<&str>, ids: &Ids, have: &ObservedPlanRoles) -> Vec<Change> {
    let Some(role) = role else { return vec![] };
    let (want_trust, want_policy) = (trust(ids), policy());
    ACCOUNTS
        .iter()
        .map(|&account| {
            let address = Address::PlanRole(account);
            let step = |op| Step::PlanRole { account, role: role.to_string(), op };
            let want = props(Some(&want_trust), Some(&want_policy));
            match have.get(&account).cloned().flatten() {
                None => Change {
                    address,
                    action: Action::Create,
                    id: None,
                    properties: want.into_iter().map(|(name, after)| Property { name, before: None, after }).collect(),
                    reason: format!(
                        "organization.plan_role: no role {role} in {} for a read-only sra plan",
                        account.label()
                    ),
                    steps: vec![step(Op::Create)],
                    manual: vec![],
                },
                Some(state) => {
                    let before = props(state.trust.as_ref(), state.policy.as_ref());
                    let properties: Vec<Property> = want
                        .into_iter()
                        .zip(before)
                        .map(|((name, after), (_, before))| Property { name, before, after })
                        .collect();
                    let changed = properties.iter().any(Property::changed);
                    Change {
                        address,
                        action: if changed { Action::Update } else { Action::NoOp },
                        id: None,
                        properties,
                        reason: String::new(),
                        steps: if changed { vec![step(Op::PutPolicies)] } else { vec![] },
                        manual: vec![],
                    }
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_holds_only_reads_in_member_accounts() {
        let actions = read_actions();
        assert!(actions.contains(&"guardduty:ListMembers") && actions.contains(&"s3:GetBucketPolicy"), "{actions:?}");
        for a in &actions {
            let op = a.split(':').nth(1).unwrap();
            assert!(
                // Config's Select* runs a read-only advanced query.
                ["Get", "List", "Describe", "BatchGet", "Select"].iter().any(|p| op.starts_with(p)),
                "the plan role would allow {a}"
            );
        }
        // Within IAM's limit for a role's inline policies (10,240 characters).
        assert!(policy().to_string().len() < 10_240);
    }

    #[test]
    fn the_role_is_planned_created_then_restored_when_changed_out_of_band() {
        let ids = Ids::example();
        let mut have = ObservedPlanRoles::new();
        assert!(diff(None, &ids, &have).is_empty(), "no plan_role, no change");
        have.insert(AccountRole::LogArchive, None);
        let changes = diff(Some("SRAPlanReadOnly"), &ids, &have);
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| c.action == Action::Create));
        assert!(changes[0].reason.contains("no role SRAPlanReadOnly in"), "{}", changes[0].reason);

        let made = RoleState { trust: Some(trust(&ids)), policy: Some(policy()) };
        have.insert(AccountRole::LogArchive, Some(made.clone()));
        have.insert(AccountRole::SecurityTooling, Some(made));
        assert!(diff(Some("SRAPlanReadOnly"), &ids, &have).iter().all(|c| c.action == Action::NoOp));

        let widened =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        have.get_mut(&AccountRole::LogArchive).unwrap().as_mut().unwrap().policy = Some(widened);
        let changes = diff(Some("SRAPlanReadOnly"), &ids, &have);
        let la = changes.iter().find(|c| c.address == Address::PlanRole(AccountRole::LogArchive)).unwrap();
        assert_eq!(la.action, Action::Update);
        let changed: Vec<&str> = la.properties.iter().filter(|p| p.changed()).map(|p| p.name.as_str()).collect();
        assert_eq!(changed, ["permissions_policy"]);
        assert_eq!(
            la.steps,
            [Step::PlanRole { account: AccountRole::LogArchive, role: "SRAPlanReadOnly".into(), op: Op::PutPolicies }]
        );
        assert_eq!(la.address.to_string(), "plan_role.log_archive");
    }
}
