//! Amazon Detective: delegated administration to Security Tooling in every
//! governed region, the organization behavior graph there with new accounts
//! auto-enabled, and existing accounts enabled as members. `diff` is pure.
//!
//! Detective builds its graph from GuardDuty findings among other sources and
//! needs about 48 hours of them before it is useful: the plan says so when it
//! turns Detective on, and warns when GuardDuty is off.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use futures_util::TryFutureExt;

use crate::aws::{Sessions, Site, call_error, error_code};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::report::Reporter;
use crate::services::regional;

/// ListMembers' largest page (200).
pub const MEMBERS_PAGE: i32 = 200;
const SVC: &str = "detective";
pub const SERVICE: &str = "detective";
const ADMIN: regional::AdminCalls = regional::AdminCalls::organization("Detective", SVC);
/// CreateMembers takes at most this many accounts.
const BATCH: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtOp {
    EnableAdmin,
    DisableAdmin {
        account: String,
    },
    /// Create the behavior graph if Security Tooling has none, then auto-enable.
    UpdateOrganizationConfiguration,
    CreateMembers {
        accounts: Vec<(String, String)>,
    },
    /// Enable every organization account that is not a member yet, as listed when it runs.
    EnrollAll,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionState {
    pub admins: Vec<String>,
    /// Security Tooling's behavior graph, when it has one.
    pub graph: Option<String>,
    /// Read only when Security Tooling is the admin and has a graph.
    pub auto_enable: Option<bool>,
    pub members: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedDetective {
    pub regions: BTreeMap<String, RegionState>,
}

/// What the plan says about Detective's prerequisite, GuardDuty.
pub fn guardduty_note(guardduty_enabled: bool) -> &'static str {
    if guardduty_enabled {
        "Detective shows findings once GuardDuty has run for about 48 hours"
    } else {
        "WARNING: [services.guardduty] is off; Detective needs GuardDuty on (for about 48 hours) to be useful"
    }
}

pub fn diff(
    enabled: bool,
    guardduty_enabled: bool,
    regions: &[String],
    admin: Option<&str>,
    accounts: &[(String, String)],
    have: &ObservedDetective,
) -> (Vec<Change>, Vec<String>) {
    let mut changes = Vec::new();
    let mut destructive = Vec::new();
    if !enabled {
        return (changes, destructive);
    }
    let empty = RegionState::default();
    for region in regions {
        let state = have.regions.get(region).unwrap_or(&empty);
        let step = |op: DtOp| Step::Detective { region: region.clone(), op };
        let is_admin = admin.is_some_and(|a| state.admins.iter().any(|x| x == a));
        let (c, d) = regional::admin_change(SERVICE, region, admin, &state.admins, step(DtOp::EnableAdmin), |a| {
            step(DtOp::DisableAdmin { account: a.to_string() })
        });
        destructive.extend(d);
        changes.push(c);

        let readable = is_admin && state.graph.is_some() && state.auto_enable.is_some();
        let auto_before = if readable { state.auto_enable.map(|b| b.to_string()) } else { None };
        let props = vec![
            Property {
                name: "behavior_graph".into(),
                before: state.graph.clone(),
                after: Some(state.graph.clone().unwrap_or_else(|| "(created with the delegation)".into())),
            },
            Property { name: "auto_enable".into(), before: auto_before, after: Some("true".into()) },
        ];
        let changed = props.iter().any(Property::changed);
        let mut reason = String::new();
        if state.graph.is_none() || !guardduty_enabled {
            reason = guardduty_note(guardduty_enabled).to_string();
        } else if !readable {
            reason =
                "organization settings are re-applied after delegation (only the administrator can read them)".into();
        }
        changes.push(Change {
            address: Address::ServiceSettings { service: SERVICE, region: region.clone() },
            action: if state.graph.is_none() {
                Action::Create
            } else if changed {
                Action::Update
            } else {
                Action::NoOp
            },
            id: state.graph.clone(),
            properties: props,
            reason,
            steps: if changed { vec![step(DtOp::UpdateOrganizationConfiguration)] } else { vec![] },
            manual: vec![],
        });
        let members = if readable { state.members.as_ref() } else { None };
        changes.push(regional::coverage_change(
            SERVICE,
            region,
            admin,
            accounts,
            members,
            |missing| step(DtOp::CreateMembers { accounts: missing }),
            Some(step(DtOp::EnrollAll)),
        ));
    }
    (changes, destructive)
}

fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_detective::Client {
    let conf =
        aws_sdk_detective::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_detective::Client::from_conf(conf)
}

async fn graph_of(c: &aws_sdk_detective::Client, site: &Site) -> Result<Option<String>> {
    let out = c
        .list_graphs()
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "ListGraphs", site, "reading Security Tooling's behavior graph"))?;
    Ok(out.graph_list().iter().find_map(|g| g.arn().map(str::to_string)))
}

async fn members_of(c: &aws_sdk_detective::Client, graph: &str, site: &Site) -> Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let pages = c.list_members().max_results(MEMBERS_PAGE).graph_arn(graph).into_paginator().send();
    crate::aws::each_page(pages, |p| {
        ids.extend(p.member_details().iter().filter_map(|m| m.account_id().map(str::to_string)))
    })
    .await
    .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Detective covers"))?;
    Ok(ids)
}

pub async fn observe(
    sessions: &Sessions,
    enabled: bool,
    regions: &[String],
    admin: Option<&str>,
    rep: &Reporter,
) -> Result<ObservedDetective> {
    let mut out = ObservedDetective::default();
    if !enabled {
        return Ok(out);
    }
    let admin_config = regional::admin_config(sessions, admin, rep).await?;
    let states = crate::aws::per_region(regions, |region| {
        let admin_config = admin_config.as_ref();
        async move {
            let list = client(&sessions.base.config, region)
                .list_organization_admin_accounts()
                .into_paginator()
                .send()
                .try_collect()
                .map_ok(|pages| {
                    pages
                        .iter()
                        .flat_map(|p| p.administrators())
                        .filter_map(|a| a.account_id().map(str::to_string))
                        .collect()
                });
            rep.debug(format!("detective:ListOrganizationAdminAccounts {region}"));
            let mut state =
                RegionState { admins: regional::admins(sessions, region, &ADMIN, list).await?, ..Default::default() };
            if let (Some(a), Some(cfg)) = (admin, admin_config) {
                let site = sessions.site_in(a, region);
                let c = client(cfg, region);
                rep.debug(format!("detective:ListGraphs {region}"));
                state.graph = graph_of(&c, &site).await?;
                if let (Some(graph), true) = (&state.graph, state.admins.iter().any(|x| x == a)) {
                    rep.debug(format!("detective:DescribeOrganizationConfiguration {region}"));
                    let conf = c.describe_organization_configuration().graph_arn(graph).send().await.map_err(|e| {
                        call_error(
                            e,
                            SVC,
                            "DescribeOrganizationConfiguration",
                            &site,
                            "reading Detective's organization settings",
                        )
                    })?;
                    state.auto_enable = Some(conf.auto_enable());
                    state.members = Some(members_of(&c, graph, &site).await?);
                }
            }
            Ok(state)
        }
    })
    .await?;
    out.regions = states;
    Ok(out)
}

pub async fn run(region: &str, op: &DtOp, admin: &str, sessions: &Sessions, rep: &Reporter) -> Result<()> {
    match op {
        DtOp::EnableAdmin => {
            let call =
                client(&sessions.base.config, region).enable_organization_admin_account().account_id(admin).send();
            return regional::delegate(sessions, region, &ADMIN, admin, call).await;
        }
        DtOp::DisableAdmin { account } => {
            // Detective has one administrator and removes whichever it is.
            let call = client(&sessions.base.config, region).disable_organization_admin_account().send();
            return regional::undelegate(sessions, region, &ADMIN, account, call).await;
        }
        _ => {}
    }
    let config = sessions.config(admin, rep).await?;
    let c = client(&config, region);
    let site = sessions.site_in(admin, region);
    let graph = match graph_of(&c, &site).await? {
        Some(g) => g,
        None => match c.create_graph().send().await {
            Ok(out) => out.graph_arn().unwrap_or_default().to_string(),
            // Created meanwhile (by the delegation, or a concurrent run): use it.
            Err(e) if error_code(&e) == Some("ConflictException") => graph_of(&c, &site).await?.unwrap_or_default(),
            Err(e) => {
                return Err(
                    call_error(e, SVC, "CreateGraph", &site, "creating Security Tooling's behavior graph").into()
                );
            }
        },
    };
    match op {
        DtOp::UpdateOrganizationConfiguration => {
            c.update_organization_configuration().graph_arn(&graph).auto_enable(true).send().await.map_err(|e| {
                call_error(e, SVC, "UpdateOrganizationConfiguration", &site, "auto-enabling Detective for new accounts")
            })?;
        }
        DtOp::CreateMembers { accounts } => {
            for batch in accounts.chunks(BATCH) {
                let details = batch
                    .iter()
                    .map(|(id, email)| {
                        aws_sdk_detective::types::Account::builder().account_id(id).email_address(email).build()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out =
                    c.create_members().graph_arn(&graph).set_accounts(Some(details)).send().await.map_err(|e| {
                        call_error(e, SVC, "CreateMembers", &site, format!("enabling {} accounts", batch.len()))
                    })?;
                if let Some(u) = out.unprocessed_accounts().first() {
                    return Err(crate::aws::hinted(
                        format!(
                            "Detective did not enable {} in {region}: {}",
                            u.account_id().unwrap_or("?"),
                            u.reason().unwrap_or("no reason given")
                        ),
                        "check that the account is still in the organization, then rerun sra apply",
                    ));
                }
            }
        }
        DtOp::EnrollAll => {
            let members = members_of(&c, &graph, &site).await?;
            let missing = crate::services::organizations::accounts_to_enroll(sessions, admin, &members, rep).await?;
            if !missing.is_empty() {
                Box::pin(run(region, &DtOp::CreateMembers { accounts: missing }, admin, sessions, rep)).await?;
            }
        }
        DtOp::EnableAdmin | DtOp::DisableAdmin { .. } => unreachable!("handled above"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    #[test]
    fn fresh_organization_delegates_creates_and_enrolls_in_every_region() {
        let accounts = vec![("111111111111".to_string(), "st@x.io".to_string())];
        let (changes, destructive) =
            diff(true, true, &regions(), Some("111111111111"), &accounts, &ObservedDetective::default());
        assert!(destructive.is_empty());
        assert_eq!(changes.len(), 6);
        let settings: Vec<&Change> =
            changes.iter().filter(|c| matches!(c.address, Address::ServiceSettings { .. })).collect();
        assert!(settings.iter().all(|c| c.action == Action::Create && c.reason.contains("48 hours")));
    }

    #[test]
    fn converged_region_is_a_no_op_and_drift_is_exact() {
        let st = "111111111111";
        let accounts = vec![(st.to_string(), "st@x.io".to_string()), ("2".into(), "b@x.io".into())];
        let state = RegionState {
            admins: vec![st.into()],
            graph: Some("arn:graph".into()),
            auto_enable: Some(true),
            members: Some(["2".to_string()].into()),
        };
        let have = ObservedDetective { regions: regions().into_iter().map(|r| (r, state.clone())).collect() };
        let (changes, _) = diff(true, true, &regions(), Some(st), &accounts, &have);
        assert!(changes.iter().all(|c| c.action == Action::NoOp), "{changes:#?}");

        let mut drifted = have.clone();
        drifted.regions.get_mut("eu-west-1").unwrap().auto_enable = Some(false);
        let (changes, _) = diff(true, true, &regions(), Some(st), &accounts, &drifted);
        let changed: Vec<String> =
            changes.iter().filter(|c| c.action != Action::NoOp).map(|c| c.address.to_string()).collect();
        assert_eq!(changed, ["detective[\"eu-west-1\"].settings"]);
    }

    #[test]
    fn guardduty_off_is_warned_about() {
        let (changes, _) = diff(true, false, &regions(), Some("1"), &[], &ObservedDetective::default());
        assert!(changes.iter().any(|c| c.reason.starts_with("WARNING")));
        assert!(diff(false, true, &regions(), Some("1"), &[], &ObservedDetective::default()).0.is_empty());
    }
}
