//! Amazon Macie: delegated administration to Security Tooling in every governed
//! region, Macie on in Security Tooling, new accounts auto-enabled, and member
//! coverage (existing accounts added). `diff` is pure.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use futures_util::TryFutureExt;

use crate::aws::{Sessions, call_error, done_if_exists, error_code};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::report::Reporter;
use crate::services::regional;

/// ListMembers' largest page (25).
pub const MEMBERS_PAGE: i32 = 25;
const SVC: &str = "macie2";
pub const SERVICE: &str = "macie";
const ADMIN: regional::AdminCalls = regional::AdminCalls::organization("Macie", SVC);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaOp {
    EnableAdmin,
    DisableAdmin {
        account: String,
    },
    EnableMacie,
    UpdateOrganizationConfiguration,
    CreateMembers {
        accounts: Vec<(String, String)>,
    },
    /// Add every organization account that is not a member yet, as listed when it runs.
    EnrollAll,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionState {
    pub admins: Vec<String>,
    pub enabled: bool,
    /// Read only when Security Tooling is the admin and Macie is on.
    pub auto_enable: Option<bool>,
    pub members: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedMacie {
    pub regions: BTreeMap<String, RegionState>,
}

pub fn diff(
    enabled: bool,
    regions: &[String],
    admin: Option<&str>,
    accounts: &[(String, String)],
    have: &ObservedMacie,
) -> (Vec<Change>, Vec<String>) {
    let mut changes = Vec::new();
    let mut destructive = Vec::new();
    if !enabled {
        return (changes, destructive);
    }
    let empty = RegionState::default();
    for region in regions {
        let state = have.regions.get(region).unwrap_or(&empty);
        let step = |op: MaOp| Step::Macie { region: region.clone(), op };
        let is_admin = admin.is_some_and(|a| state.admins.iter().any(|x| x == a));
        let (c, d) = regional::admin_change(SERVICE, region, admin, &state.admins, step(MaOp::EnableAdmin), |a| {
            step(MaOp::DisableAdmin { account: a.to_string() })
        });
        destructive.extend(d);
        changes.push(c);

        let readable = is_admin && state.enabled && state.auto_enable.is_some();
        let auto_before = if readable { state.auto_enable.map(|b| b.to_string()) } else { Some("true".into()) };
        let props = vec![
            Property {
                name: "macie".into(),
                before: state.enabled.then(|| "enabled".into()),
                after: Some("enabled".into()),
            },
            Property { name: "auto_enable".into(), before: auto_before, after: Some("true".into()) },
        ];
        let mut steps = Vec::new();
        if !state.enabled {
            steps.push(step(MaOp::EnableMacie));
        }
        if !readable || props[1].changed() {
            steps.push(step(MaOp::UpdateOrganizationConfiguration));
        }
        changes.push(Change {
            address: Address::ServiceSettings { service: SERVICE, region: region.clone() },
            action: if !state.enabled {
                Action::Create
            } else if props.iter().any(Property::changed) {
                Action::Update
            } else {
                Action::NoOp
            },
            id: None,
            properties: props,
            reason: if readable || !state.enabled {
                String::new()
            } else {
                "organization settings are re-applied after delegation (only the administrator can read them)".into()
            },
            steps,
            manual: vec![],
        });
        let members = if readable { state.members.as_ref() } else { None };
        changes.push(regional::coverage_change(
            SERVICE,
            region,
            admin,
            accounts,
            members,
            |missing| step(MaOp::CreateMembers { accounts: missing }),
            Some(step(MaOp::EnrollAll)),
        ));
    }
    (changes, destructive)
}

fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_macie2::Client {
    let conf =
        aws_sdk_macie2::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_macie2::Client::from_conf(conf)
}

async fn members_of(c: &aws_sdk_macie2::Client, site: &crate::aws::Site) -> Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let pages = c.list_members().max_results(MEMBERS_PAGE).only_associated("false").into_paginator().send();
    crate::aws::each_page(pages, |p| ids.extend(p.members().iter().filter_map(|m| m.account_id().map(str::to_string))))
        .await
        .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Macie covers"))?;
    Ok(ids)
}

pub async fn observe(
    sessions: &Sessions,
    enabled: bool,
    regions: &[String],
    admin: Option<&str>,
    rep: &Reporter,
) -> Result<ObservedMacie> {
    let mut out = ObservedMacie::default();
    if !enabled {
        return Ok(out);
    }
    let admin_config = regional::admin_config(sessions, admin, rep).await?;
    out.regions = crate::aws::per_region(regions, |region| {
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
                        .flat_map(|p| p.admin_accounts())
                        .filter(|a| a.status().is_some_and(|s| s.as_str() == "ENABLED"))
                        .filter_map(|a| a.account_id().map(str::to_string))
                        .collect()
                });
            // The administrators (management account) and whether Macie is on in
            // Security Tooling, side by side.
            rep.debug(format!("macie2:ListOrganizationAdminAccounts, GetMacieSession {region}"));
            let session = async {
                let (Some(_), Some(cfg)) = (admin, admin_config) else { return None };
                Some(client(cfg, region).get_macie_session().send().await)
            };
            let (admins, session) = tokio::join!(regional::admins(sessions, region, &ADMIN, list), session);
            let mut state = RegionState { admins: admins?, ..Default::default() };
            if let (Some(a), Some(cfg)) = (admin, admin_config) {
                let site = sessions.site_in(a, region);
                let c = client(cfg, region);
                state.enabled = match session {
                    None => false,
                    Some(Ok(s)) => s.status().is_some_and(|s| s.as_str() == "ENABLED"),
                    Some(Err(e))
                        if matches!(error_code(&e), Some("ResourceNotFoundException" | "AccessDeniedException")) =>
                    {
                        false
                    }
                    Some(Err(e)) => {
                        return Err(call_error(e, SVC, "GetMacieSession", &site, "reading whether Macie is on").into());
                    }
                };
                if state.enabled && state.admins.iter().any(|x| x == a) {
                    rep.debug(format!("macie2:DescribeOrganizationConfiguration, ListMembers {region}"));
                    let (conf, members) =
                        tokio::join!(c.describe_organization_configuration().send(), members_of(&c, &site));
                    let conf = conf.map_err(|e| {
                        call_error(
                            e,
                            SVC,
                            "DescribeOrganizationConfiguration",
                            &site,
                            "reading Macie's organization settings",
                        )
                    })?;
                    state.auto_enable = Some(conf.auto_enable().unwrap_or(false));
                    state.members = Some(members?);
                }
            }
            Ok(state)
        }
    })
    .await?;
    Ok(out)
}

pub async fn run(region: &str, op: &MaOp, admin: &str, sessions: &Sessions, rep: &Reporter) -> Result<()> {
    match op {
        MaOp::EnableAdmin => {
            let call = client(&sessions.base.config, region)
                .enable_organization_admin_account()
                .admin_account_id(admin)
                .send();
            return regional::delegate(sessions, region, &ADMIN, admin, call).await;
        }
        MaOp::DisableAdmin { account } => {
            let call = client(&sessions.base.config, region)
                .disable_organization_admin_account()
                .admin_account_id(account)
                .send();
            return regional::undelegate(sessions, region, &ADMIN, account, call).await;
        }
        _ => {}
    }
    let config = sessions.config(admin, rep).await?;
    let c = client(&config, region);
    let site = sessions.site_in(admin, region);
    match op {
        MaOp::EnableMacie => {
            done_if_exists(c.enable_macie().send().await, &["ConflictException"])
                .map_err(|e| call_error(e, SVC, "EnableMacie", &site, "turning Macie on in Security Tooling"))?;
        }
        MaOp::UpdateOrganizationConfiguration => {
            c.update_organization_configuration().auto_enable(true).send().await.map_err(|e| {
                call_error(e, SVC, "UpdateOrganizationConfiguration", &site, "auto-enabling Macie for new accounts")
            })?;
        }
        MaOp::CreateMembers { accounts } => {
            for (id, email) in accounts {
                let account = aws_sdk_macie2::types::AccountDetail::builder().account_id(id).email(email).build();
                c.create_member()
                    .account(account)
                    .send()
                    .await
                    .map_err(|e| call_error(e, SVC, "CreateMember", &site, format!("adding {id} to Macie")))?;
            }
        }
        MaOp::EnrollAll => {
            let members = members_of(&c, &site).await?;
            let missing = crate::services::organizations::accounts_to_enroll(sessions, admin, &members, rep).await?;
            if !missing.is_empty() {
                Box::pin(run(region, &MaOp::CreateMembers { accounts: missing }, admin, sessions, rep)).await?;
            }
        }
        MaOp::EnableAdmin | MaOp::DisableAdmin { .. } => unreachable!("handled above"),
    }
    Ok(())
}
