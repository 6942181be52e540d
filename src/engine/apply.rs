//! The executor: runs a plan's steps in the plan's order. It resolves ids that
//! earlier steps produce (a new OU's id, a new account's id, the new key's ARN) and
//! decides nothing else: what to do and in which order is the plan's.

use std::collections::HashMap;

use anyhow::{Result, anyhow};

use super::plan::{Address, IdRef, Plan, Step};
use crate::aws::Sessions;
use crate::model::{AccountRole, Desired};
use crate::report::Reporter;
use crate::services::guardrails::{self, GuardrailOp};
use crate::services::log_archive;
use crate::services::organizations::{self as orgs, Waits};

/// Ids produced during this apply, by the reference that names them.
#[derive(Default)]
struct Produced(HashMap<IdRef, String>);

impl Produced {
    fn resolve(&self, r: &IdRef) -> Result<String> {
        match r {
            IdRef::Known(id) => Ok(id.clone()),
            other => self
                .0
                .get(other)
                .cloned()
                .ok_or_else(|| anyhow!("internal error: {other:?} was not produced by an earlier step")),
        }
    }
}

/// What apply did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Applied {
    pub steps: usize,
}

pub async fn apply(
    plan: &Plan,
    desired: &Desired,
    sessions: &Sessions,
    waits: Waits,
    rep: &Reporter,
) -> Result<Applied> {
    let client = sessions.base.organizations();
    let site = sessions.site(&plan.caller_account);
    let mut produced = Produced::default();
    let mut ids = plan.ids.clone();
    let mut applied = Applied::default();
    let mut policy_ids: HashMap<String, String> = plan
        .changes
        .iter()
        .filter_map(|c| match (&c.address, &c.id) {
            (Address::Guardrail(name), Some(id)) => Some((name.clone(), id.clone())),
            _ => None,
        })
        .collect();
    for (change, step) in plan.steps() {
        let addr = change.address.to_string();
        match step {
            Step::CreateOrganization => {
                rep.progress(format!("{addr}: creating the organization"));
                let (org_id, root) = orgs::create_organization(&client, &site).await?;
                ids.org_id = Some(org_id);
                produced.0.insert(IdRef::Root, root);
            }
            Step::CreateOu { path, parent } => {
                let parent_id = produced.resolve(parent)?;
                rep.progress(format!("{addr}: creating OU"));
                let id = orgs::create_ou(&client, &site, &parent_id, path).await?;
                produced.0.insert(IdRef::Ou(path.clone()), id);
            }
            Step::CreateAccount { role, name, email, access_role, tags } => {
                rep.progress(format!("{addr}: creating account \"{name}\" <{email}>"));
                let request = orgs::create_account(&client, &site, *role, name, email, access_role, tags, rep).await?;
                let id = orgs::await_account(&client, &site, *role, email, &request, waits, rep).await?;
                account_produced(&mut produced, &mut ids, *role, id);
            }
            Step::AwaitAccount { role, request_id, email } => {
                rep.progress(format!("{addr}: resuming the wait for request {request_id}"));
                let id = orgs::await_account(&client, &site, *role, email, request_id, waits, rep).await?;
                account_produced(&mut produced, &mut ids, *role, id);
            }
            Step::MoveAccount { account, from, to } => {
                let (account, from, to) = (produced.resolve(account)?, produced.resolve(from)?, produced.resolve(to)?);
                rep.progress(format!("{addr}: moving account {account} into {to}"));
                orgs::move_account(&client, &site, &account, &from, &to).await?;
            }
            Step::TagAccount { account, tags } => {
                let account = produced.resolve(account)?;
                rep.progress(format!("{addr}: tagging account {account}"));
                orgs::tag_account(&client, &site, &account, tags).await?;
            }
            Step::EnableServiceAccess { principal } => {
                rep.progress(format!("{addr}: enabling trusted access"));
                orgs::enable_service_access(&client, &site, principal).await?;
            }
            Step::Guardrail { policy, op } => {
                let target = match op {
                    GuardrailOp::EnablePolicyType { root } => Some(produced.resolve(root)?),
                    GuardrailOp::Attach { target, .. } => Some(produced.resolve(target)?),
                    _ => None,
                };
                rep.progress(format!("{addr}: {}", describe_guardrail_op(op)));
                let refs = guardrails::Refs { ids: &ids, log_archive: &desired.log_archive };
                guardrails::run(
                    policy,
                    op,
                    target.as_deref(),
                    &desired.guardrails,
                    &refs,
                    &mut policy_ids,
                    sessions,
                    rep,
                )
                .await?;
            }
            Step::GuardDuty { region, op } => {
                let admin = ids.security_tooling.clone().ok_or_else(|| {
                    crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply")
                })?;
                rep.progress(format!("{addr}: {}", crate::render::document::step_text(step)));
                crate::services::guardduty::run(region, op, &desired.services.guardduty, &admin, sessions, rep).await?;
            }
            Step::AccessAnalyzer { region } => {
                let admin = ids.security_tooling.clone().ok_or_else(|| {
                    crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply")
                })?;
                rep.progress(format!("{addr}: {}", crate::render::document::step_text(step)));
                crate::services::accessanalyzer::run(region, &admin, sessions, rep).await?;
            }
            Step::Macie { region, op } => {
                let admin = ids.security_tooling.clone().ok_or_else(|| {
                    crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply")
                })?;
                rep.progress(format!("{addr}: {}", crate::render::document::step_text(step)));
                crate::services::macie::run(region, op, &admin, sessions, rep).await?;
            }
            Step::Inspector { region, op } => {
                let admin = ids.security_tooling.clone().ok_or_else(|| {
                    crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply")
                })?;
                rep.progress(format!("{addr}: {}", crate::render::document::step_text(step)));
                crate::services::inspector::run(region, op, &desired.services.inspector, &admin, sessions, rep).await?;
            }
            Step::SecurityHub { region, op } => {
                let admin = ids.security_tooling.clone().ok_or_else(|| {
                    crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply")
                })?;
                rep.progress(format!("{addr}: {}", crate::render::document::step_text(step)));
                crate::services::securityhub::run(region, op, &admin, sessions, rep).await?;
            }
            Step::Delegate { service, principal, op } => {
                let admin = ids.security_tooling.clone().ok_or_else(|| {
                    crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply")
                })?;
                rep.progress(format!("{addr}: {}", crate::render::document::step_text(step)));
                crate::services::delegation::run(service, principal, op, &admin, sessions).await?;
            }
            Step::LogArchive { target, op } => {
                rep.progress(format!("{addr}: {op:?}"));
                log_archive::run(*target, *op, &desired.log_archive, &mut ids, sessions, rep).await?;
            }
        }
        applied.steps += 1;
    }
    Ok(applied)
}

fn describe_guardrail_op(op: &GuardrailOp) -> String {
    match op {
        GuardrailOp::EnablePolicyType { .. } => "enabling service control policies on the root".into(),
        GuardrailOp::Create => "creating the policy".into(),
        GuardrailOp::Update => "restoring the policy".into(),
        GuardrailOp::Attach { label, .. } => format!("attaching to {label}"),
        GuardrailOp::Detach { target } => format!("detaching from {target}"),
    }
}

fn account_produced(produced: &mut Produced, ids: &mut log_archive::Ids, role: AccountRole, id: String) {
    match role {
        AccountRole::LogArchive => ids.log_archive = Some(id.clone()),
        AccountRole::SecurityTooling => ids.security_tooling = Some(id.clone()),
    }
    produced.0.insert(IdRef::Account(role), id);
}
