//! Read sra's SCPs, where they are attached, and whether SCPs are on.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_organizations::types::PolicyType;

use super::{ObservedGuardrails, ObservedScp, POLICIES};
use crate::aws::{Sessions, call_error};
use crate::policy;
use crate::report::Reporter;

const SVC: &str = "organizations";

/// `scp_type_enabled` comes from the ListRoots answer the organization read already has.
pub async fn observe(
    sessions: &Sessions,
    scp_type_enabled: bool,
    target_ids: &[String],
    rep: &Reporter,
) -> Result<ObservedGuardrails> {
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    let mut out = ObservedGuardrails::default();
    // sra's policies and the counts per target, side by side.
    let policies = async {
        rep.debug("organizations:ListPolicies SERVICE_CONTROL_POLICY");
        let pages = orgs
            .list_policies()
            .filter(PolicyType::ServiceControlPolicy)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error(e, SVC, "ListPolicies", &site, "listing service control policies"))?;
        let ours: Vec<_> = pages
            .iter()
            .flat_map(|p| p.policies())
            .filter(|s| s.name().is_some_and(|name| POLICIES.iter().any(|(n, _)| *n == name)))
            .cloned()
            .collect();
        futures_util::future::try_join_all(ours.into_iter().map(|summary| {
            let (orgs, site) = (&orgs, &site);
            async move {
                let name = summary.name().unwrap_or_default().to_string();
                let id = summary.id().unwrap_or_default().to_string();
                rep.debug(format!("organizations:DescribePolicy, ListTargetsForPolicy {id}"));
                let (described, targets) = tokio::join!(
                    orgs.describe_policy().policy_id(&id).send(),
                    orgs.list_targets_for_policy().policy_id(&id).into_paginator().send().try_collect()
                );
                let described = described
                    .map_err(|e| call_error(e, SVC, "DescribePolicy", site, format!("reading the guardrail {name}")))?;
                let targets = targets.map_err(|e| {
                    call_error(e, SVC, "ListTargetsForPolicy", site, format!("reading where {name} is attached"))
                })?;
                let scp = ObservedScp {
                    id,
                    description: summary.description().unwrap_or_default().to_string(),
                    document: described.policy().and_then(|p| p.content()).and_then(policy::parse),
                    targets: targets
                        .iter()
                        .flat_map(|p| p.targets())
                        .filter_map(|t| t.target_id().map(str::to_string))
                        .collect(),
                };
                Ok::<_, anyhow::Error>((name, scp))
            }
        }))
        .await
    };
    let counts = futures_util::future::try_join_all(target_ids.iter().map(|target| {
        let (orgs, site) = (&orgs, &site);
        async move {
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
                    call_error(e, SVC, "ListPoliciesForTarget", site, format!("counting the SCPs on {target}"))
                })?;
            Ok::<_, anyhow::Error>((target.clone(), pages.iter().map(|p| p.policies().len()).sum::<usize>()))
        }
    }));
    let (policies, counts) = tokio::try_join!(policies, counts)?;
    out.scp_type_enabled = scp_type_enabled;
    out.policies = policies.into_iter().collect();
    let counts: BTreeMap<String, usize> = counts.into_iter().collect();
    out.attached_counts = counts;
    Ok(out)
}
