//! Amazon Inspector: delegated administration to Security Tooling in every
//! governed region, the organization configuration (scans auto-enabled for every
//! member) and member coverage (existing accounts associated). `diff` is pure.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_inspector2::types::{AutoEnable, RelationshipStatus};
use futures_util::TryFutureExt;

use crate::aws::{Sessions, call_error};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::model::{INSPECTOR_SCANS, InspectorSpec};
use crate::report::Reporter;
use crate::services::regional;

/// ListMembers' largest page (50).
pub const MEMBERS_PAGE: i32 = 50;
const SVC: &str = "inspector2";
pub const SERVICE: &str = "inspector";
const ADMIN: regional::AdminCalls = regional::AdminCalls {
    name: "Inspector",
    svc: SVC,
    list: "ListDelegatedAdminAccounts",
    enable: "EnableDelegatedAdminAccount",
    disable: "DisableDelegatedAdminAccount",
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InOp {
    EnableAdmin,
    DisableAdmin {
        account: String,
    },
    UpdateOrganizationConfiguration,
    AssociateMembers {
        accounts: Vec<String>,
    },
    /// Associate every organization account that is not a member yet, as listed
    /// when it runs.
    AssociateAll,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionState {
    pub admins: Vec<String>,
    /// Scan type → auto-enabled, read only when Security Tooling is the admin.
    pub auto_enable: Option<BTreeMap<String, bool>>,
    pub members: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedInspector {
    pub regions: BTreeMap<String, RegionState>,
}

pub fn diff(
    spec: &InspectorSpec,
    regions: &[String],
    admin: Option<&str>,
    accounts: &[(String, String)],
    have: &ObservedInspector,
) -> (Vec<Change>, Vec<String>) {
    let mut changes = Vec::new();
    let mut destructive = Vec::new();
    if !spec.enabled {
        return (changes, destructive);
    }
    let empty = RegionState::default();
    for region in regions {
        let state = have.regions.get(region).unwrap_or(&empty);
        let step = |op: InOp| Step::Inspector { region: region.clone(), op };
        let is_admin = admin.is_some_and(|a| state.admins.iter().any(|x| x == a));
        let (c, d) = regional::admin_change(SERVICE, region, admin, &state.admins, step(InOp::EnableAdmin), |a| {
            step(InOp::DisableAdmin { account: a.to_string() })
        });
        destructive.extend(d);
        changes.push(c);

        let readable = is_admin && state.auto_enable.is_some();
        let mut props = Vec::new();
        for scan in INSPECTOR_SCANS {
            let want = spec.scans.iter().any(|s| s == scan);
            let before = match &state.auto_enable {
                Some(m) if readable => Some(m.get(*scan).copied().unwrap_or(false).to_string()),
                _ => Some(want.to_string()),
            };
            props.push(Property { name: format!("auto_enable.{scan}"), before, after: Some(want.to_string()) });
        }
        let changed = props.iter().any(Property::changed);
        changes.push(Change {
            address: Address::ServiceSettings { service: SERVICE, region: region.clone() },
            action: if changed { Action::Update } else { Action::NoOp },
            id: None,
            properties: props,
            reason: if readable {
                String::new()
            } else {
                "organization settings are re-applied after delegation (only the administrator can read them)".into()
            },
            steps: if changed || !readable { vec![step(InOp::UpdateOrganizationConfiguration)] } else { vec![] },
            manual: vec![],
        });
        let members = if is_admin { state.members.as_ref() } else { None };
        changes.push(regional::coverage_change(
            SERVICE,
            region,
            admin,
            accounts,
            members,
            |missing| step(InOp::AssociateMembers { accounts: missing.into_iter().map(|(id, _)| id).collect() }),
            Some(step(InOp::AssociateAll)),
        ));
    }
    (changes, destructive)
}

fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_inspector2::Client {
    let conf =
        aws_sdk_inspector2::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_inspector2::Client::from_conf(conf)
}

async fn members_of(client: &aws_sdk_inspector2::Client, site: &crate::aws::Site) -> Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let pages = client.list_members().max_results(MEMBERS_PAGE).only_associated(true).into_paginator().send();
    crate::aws::each_page(pages, |p| {
        ids.extend(
            p.members()
                .iter()
                .filter(|m| m.relationship_status() == Some(&RelationshipStatus::Enabled))
                .filter_map(|m| m.account_id().map(str::to_string)),
        )
    })
    .await
    .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Inspector covers"))?;
    Ok(ids)
}

pub async fn observe(
    sessions: &Sessions,
    spec: &InspectorSpec,
    regions: &[String],
    admin: Option<&str>,
    rep: &Reporter,
) -> Result<ObservedInspector> {
    let mut out = ObservedInspector::default();
    if !spec.enabled {
        return Ok(out);
    }
    let admin_config = regional::admin_config(sessions, admin, rep).await?;
    out.regions = crate::aws::per_region(regions, |region| {
        let admin_config = admin_config.as_ref();
        async move {
            let list = client(&sessions.base.config, region)
                .list_delegated_admin_accounts()
                .into_paginator()
                .send()
                .try_collect()
                .map_ok(|pages| {
                    pages
                        .iter()
                        .flat_map(|p| p.delegated_admin_accounts())
                        .filter(|a| a.status().is_some_and(|s| s.as_str() == "ENABLED"))
                        .filter_map(|a| a.account_id().map(str::to_string))
                        .collect()
                });
            rep.debug(format!("inspector2:ListDelegatedAdminAccounts {region}"));
            let mut state =
                RegionState { admins: regional::admins(sessions, region, &ADMIN, list).await?, ..Default::default() };
            if let (Some(a), Some(cfg)) = (admin, admin_config)
                && state.admins.iter().any(|x| x == a)
            {
                let site = sessions.site_in(a, region);
                let c = client(cfg, region);
                rep.debug(format!("inspector2:DescribeOrganizationConfiguration {region}"));
                let conf = c.describe_organization_configuration().send().await.map_err(|e| {
                    call_error(
                        e,
                        SVC,
                        "DescribeOrganizationConfiguration",
                        &site,
                        "reading Inspector's organization settings",
                    )
                })?;
                state.auto_enable = conf.auto_enable().map(|ae| {
                    BTreeMap::from([
                        ("ec2".to_string(), ae.ec2()),
                        ("ecr".to_string(), ae.ecr()),
                        ("lambda".to_string(), ae.lambda().unwrap_or(false)),
                        ("lambda_code".to_string(), ae.lambda_code().unwrap_or(false)),
                    ])
                });
                state.members = Some(members_of(&c, &site).await?);
            }
            Ok(state)
        }
    })
    .await?;
    Ok(out)
}

pub async fn run(
    region: &str,
    op: &InOp,
    spec: &InspectorSpec,
    admin: &str,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    match op {
        InOp::EnableAdmin => {
            let call = client(&sessions.base.config, region)
                .enable_delegated_admin_account()
                .delegated_admin_account_id(admin)
                .send();
            return regional::delegate(sessions, region, &ADMIN, admin, call).await;
        }
        InOp::DisableAdmin { account } => {
            let call = client(&sessions.base.config, region)
                .disable_delegated_admin_account()
                .delegated_admin_account_id(account)
                .send();
            return regional::undelegate(sessions, region, &ADMIN, account, call).await;
        }
        _ => {}
    }
    let config = sessions.config(admin, rep).await?;
    let c = client(&config, region);
    let site = sessions.site_in(admin, region);
    let scan = |s: &str| spec.scans.iter().any(|x| x == s);
    match op {
        InOp::UpdateOrganizationConfiguration => {
            let auto = AutoEnable::builder()
                .ec2(scan("ec2"))
                .ecr(scan("ecr"))
                .lambda(scan("lambda"))
                .lambda_code(scan("lambda_code"))
                .build()?;
            c.update_organization_configuration().auto_enable(auto).send().await.map_err(|e| {
                call_error(e, SVC, "UpdateOrganizationConfiguration", &site, "auto-enabling Inspector scans")
            })?;
        }
        InOp::AssociateMembers { accounts } => {
            for account in accounts {
                c.associate_member().account_id(account).send().await.map_err(|e| {
                    call_error(e, SVC, "AssociateMember", &site, format!("enrolling {account} in Inspector"))
                })?;
            }
        }
        InOp::AssociateAll => {
            let members = members_of(&c, &site).await?;
            let missing: Vec<String> =
                crate::services::organizations::accounts_to_enroll(sessions, admin, &members, rep)
                    .await?
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
            if !missing.is_empty() {
                Box::pin(run(region, &InOp::AssociateMembers { accounts: missing }, spec, admin, sessions, rep))
                    .await?;
            }
        }
        InOp::EnableAdmin | InOp::DisableAdmin { .. } => unreachable!("handled above"),
    }
    Ok(())
}
