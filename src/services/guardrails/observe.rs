//! Read sra's SCPs, where they are attached, and whether SCPs are on.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};

use super::{ObservedGuardrails, ObservedScp, POLICIES};
use crate::aws::{Sessions, call_error};
use crate::policy;
use crate::report::Reporter;

const SVC: &str = "organizations";

pub async fn observe(sessions: &Sessions, target_ids: &[String], rep: &Reporter) -> Result<ObservedGuardrails> {
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    let mut out = ObservedGuardrails::default();
    rep.debug("organizations:ListRoots");
    let roots = orgs
        .list_roots()
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "ListRoots", &site, "reading whether SCPs are enabled"))?;
    out.scp_type_enabled = roots.roots().first().is_some_and(|r| {
        r.policy_types().iter().any(|t| {
            t.r#type() == Some(&PolicyType::ServiceControlPolicy) && t.status() == Some(&PolicyTypeStatus::Enabled)
        })
    });
    rep.debug("organizations:ListPolicies SERVICE_CONTROL_POLICY");
    let pages = orgs
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| call_error(e, SVC, "ListPolicies", &site, "listing service control policies"))?;
    for summary in pages.iter().flat_map(|p| p.policies()) {
        let Some(name) = summary.name() else { continue };
        if !POLICIES.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let id = summary.id().unwrap_or_default().to_string();
        rep.debug(format!("organizations:DescribePolicy {id}"));
        let described = orgs
            .describe_policy()
            .policy_id(&id)
            .send()
            .await
            .map_err(|e| call_error(e, SVC, "DescribePolicy", &site, format!("reading the guardrail {name}")))?;
        let content = described.policy().and_then(|p| p.content()).and_then(policy::parse);
        rep.debug(format!("organizations:ListTargetsForPolicy {id}"));
        let targets =
            orgs.list_targets_for_policy().policy_id(&id).into_paginator().send().try_collect().await.map_err(|e| {
                call_error(e, SVC, "ListTargetsForPolicy", &site, format!("reading where {name} is attached"))
            })?;
        out.policies.insert(
            name.to_string(),
            ObservedScp {
                id,
                description: summary.description().unwrap_or_default().to_string(),
                document: content,
                targets: targets
                    .iter()
                    .flat_map(|p| p.targets())
                    .filter_map(|t| t.target_id().map(str::to_string))
                    .collect(),
            },
        );
    }
    let mut counts = BTreeMap::new();
    for target in target_ids {
        rep.debug(format!("organizations:ListPoliciesForTarget {target}"));
        let pages = orgs
            .list_policies_for_target()
            .target_id(target)
            .filter(PolicyType::ServiceControlPolicy)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                call_error(e, SVC, "ListPoliciesForTarget", &site, format!("counting the SCPs on {target}"))
            })?;
        counts.insert(target.clone(), pages.iter().map(|p| p.policies().len()).sum());
    }
    out.attached_counts = counts;
    Ok(out)
}
