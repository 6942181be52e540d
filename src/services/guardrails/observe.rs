//! Read sra's SCPs and RCP, where they are attached, and whether each type is on.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_organizations::types::PolicyType;

use super::{ObservedGuardrails, ObservedScp, POLICIES, perimeter};
use crate::aws::{Sessions, call_error};
use crate::policy;
use crate::report::Reporter;

const SVC: &str = "organizations";

/// Whether SCPs and RCPs are enabled comes from the ListRoots answer the
/// organization read already has. `target_ids[0]` is the root, where the RCP sits.
pub async fn observe(
    sessions: &Sessions,
    (scp_type_enabled, rcp_type_enabled): (bool, bool),
    target_ids: &[String],
    rep: &Reporter,
) -> Result<ObservedGuardrails> {
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    let mut out = ObservedGuardrails::default();
    // sra's policies and the counts per target, side by side.
    let list = |kind: PolicyType, enabled: bool| {
        let (orgs, site) = (&orgs, &site);
        async move {
            if !enabled {
                return Ok(vec![]);
            }
            rep.debug(format!("organizations:ListPolicies {}", kind.as_str()));
            orgs.list_policies().filter(kind.clone()).into_paginator().send().try_collect().await.map_err(|e| {
                call_error(e, SVC, "ListPolicies", site, format!("listing the {} policies", kind.as_str()))
            })
        }
    };
    let policies = async {
        // A type never enabled holds no policy of sra's.
        let (scps, rcps) = tokio::try_join!(
            list(PolicyType::ServiceControlPolicy, true),
            list(PolicyType::ResourceControlPolicy, rcp_type_enabled)
        )?;
        let ours: Vec<_> = scps
            .iter()
            .chain(&rcps)
            .flat_map(|p| p.policies())
            .filter(|s| {
                s.name().is_some_and(|name| POLICIES.iter().any(|(n, _)| *n == name) || name == perimeter::NAME)
            })
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
    let rcp_targets = if rcp_type_enabled { &target_ids[..target_ids.len().min(1)] } else { &[] };
    let count = |target: &String, kind: PolicyType| {
        let (orgs, site) = (&orgs, &site);
        let target = target.clone();
        async move {
            rep.debug(format!("organizations:ListPoliciesForTarget {target} {}", kind.as_str()));
            let pages = orgs
                .list_policies_for_target()
                .target_id(&target)
                .filter(kind.clone())
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|e| {
                    call_error(
                        e,
                        SVC,
                        "ListPoliciesForTarget",
                        site,
                        format!("counting the {} policies on {target}", kind.as_str()),
                    )
                })?;
            Ok::<_, anyhow::Error>((target, pages.iter().map(|p| p.policies().len()).sum::<usize>()))
        }
    };
    let counts =
        futures_util::future::try_join_all(target_ids.iter().map(|t| count(t, PolicyType::ServiceControlPolicy)));
    let rcp_counts =
        futures_util::future::try_join_all(rcp_targets.iter().map(|t| count(t, PolicyType::ResourceControlPolicy)));
    let (policies, counts, rcp_counts) = tokio::try_join!(policies, counts, rcp_counts)?;
    out.scp_type_enabled = scp_type_enabled;
    out.rcp_type_enabled = rcp_type_enabled;
    out.policies = policies.into_iter().collect();
    out.attached_counts = counts.into_iter().collect::<BTreeMap<_, _>>();
    out.rcp_attached_counts = rcp_counts.into_iter().collect::<BTreeMap<_, _>>();
    Ok(out)
}
