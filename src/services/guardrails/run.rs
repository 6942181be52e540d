//! Run one guardrail step.

use std::collections::HashMap;

use anyhow::Result;
use aws_sdk_organizations::types::PolicyType;

use super::{GuardrailOp, PolicyKind, Refs, desired};
use crate::aws::{Sessions, call_error, done_if_exists, error_code, hinted};
use crate::model::GuardrailSpec;
use crate::report::Reporter;

const SVC: &str = "organizations";

fn policy_type(kind: PolicyKind) -> PolicyType {
    match kind {
        PolicyKind::Scp => PolicyType::ServiceControlPolicy,
        PolicyKind::Rcp => PolicyType::ResourceControlPolicy,
    }
}

/// `policy_ids` holds the ids of sra's SCPs by name; a created one is added.
/// `target` is the resolved id of the root or OU an attach step names.
pub async fn run(
    name: &str,
    op: &GuardrailOp,
    target: Option<&str>,
    spec: &GuardrailSpec,
    refs: &Refs<'_>,
    policy_ids: &mut HashMap<String, String>,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    let document = || {
        desired(spec, refs)
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| hinted(format!("guardrail {name} is no longer in the plan"), "rerun sra plan"))
    };
    let id = || {
        policy_ids
            .get(name)
            .cloned()
            .ok_or_else(|| hinted(format!("guardrail {name} does not exist yet"), "rerun sra apply"))
    };
    rep.debug(format!("guardrail {name}: {}", op.phrase().progress()));
    match op {
        GuardrailOp::EnablePolicyType { kind, .. } => {
            let root = target.unwrap_or_default();
            match crate::aws::retry_races(|| {
                orgs.enable_policy_type().root_id(root).policy_type(policy_type(*kind)).send()
            })
            .await
            {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("PolicyTypeAlreadyEnabledException") => {}
                Err(e) => {
                    return Err(call_error(
                        e,
                        SVC,
                        "EnablePolicyType",
                        &site,
                        format!("enabling {} on the root", kind.label()),
                    )
                    .into());
                }
            }
        }
        GuardrailOp::Create => {
            let scp = document()?;
            let created = orgs
                .create_policy()
                .name(scp.name)
                .description(scp.description)
                .content(scp.document.to_string())
                .r#type(policy_type(scp.kind))
                .send()
                .await;
            let new_id = match created {
                Ok(o) => {
                    o.policy().and_then(|p| p.policy_summary()).and_then(|s| s.id()).unwrap_or_default().to_string()
                }
                Err(e) if error_code(&e) == Some("DuplicatePolicyException") => {
                    // Created by an interrupted run: find it and bring it up to date.
                    let pages = orgs
                        .list_policies()
                        .filter(policy_type(scp.kind))
                        .into_paginator()
                        .send()
                        .try_collect()
                        .await
                        .map_err(|e| call_error(e, SVC, "ListPolicies", &site, format!("finding {name}")))?;
                    let found = pages
                        .iter()
                        .flat_map(|p| p.policies())
                        .find(|p| p.name() == Some(name))
                        .and_then(|p| p.id())
                        .map(str::to_string)
                        .ok_or_else(|| hinted(format!("{name} exists but cannot be found"), "rerun sra apply"))?;
                    crate::aws::retry_races(|| {
                        orgs.update_policy()
                            .policy_id(&found)
                            .content(scp.document.to_string())
                            .description(scp.description)
                            .send()
                    })
                    .await
                    .map_err(|e| call_error(e, SVC, "UpdatePolicy", &site, format!("updating {name}")))?;
                    found
                }
                Err(e) => {
                    return Err(
                        call_error(e, SVC, "CreatePolicy", &site, format!("creating the guardrail {name}")).into()
                    );
                }
            };
            policy_ids.insert(name.to_string(), new_id);
        }
        GuardrailOp::Update => {
            let pid = id()?;
            let scp = document()?;
            crate::aws::retry_races(|| {
                orgs.update_policy()
                    .policy_id(pid.clone())
                    .content(scp.document.to_string())
                    .description(scp.description)
                    .send()
            })
            .await
            .map_err(|e| call_error(e, SVC, "UpdatePolicy", &site, format!("restoring the guardrail {name}")))?;
        }
        GuardrailOp::Attach { label, .. } => {
            let pid = id()?;
            let t = target.unwrap_or_default();
            let sent =
                crate::aws::retry_races(|| orgs.attach_policy().policy_id(pid.clone()).target_id(t).send()).await;
            done_if_exists(sent, &["DuplicatePolicyAttachmentException"])
                .map_err(|e| call_error(e, SVC, "AttachPolicy", &site, format!("attaching {name} to {label}")))?;
        }
        GuardrailOp::Detach { target: t } => {
            let pid = id()?;
            match crate::aws::retry_races(|| orgs.detach_policy().policy_id(pid.clone()).target_id(t).send()).await {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("PolicyNotAttachedException") => {}
                Err(e) => {
                    return Err(call_error(e, SVC, "DetachPolicy", &site, format!("detaching {name} from {t}")).into());
                }
            }
        }
    }
    Ok(())
}
