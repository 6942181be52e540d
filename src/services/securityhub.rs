//! Security Hub: delegated administration to Security Tooling in every governed
//! region; in Security Tooling the hub, the organization configuration
//! (auto-enable new accounts, default standards), the chosen standards, and a
//! finding aggregator in the home region linking the other governed regions; and
//! member coverage. `diff` is pure; `observe` and `run` touch AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_securityhub::error::ProvideErrorMetadata;
use aws_sdk_securityhub::types::{AccountDetails, AutoEnableStandards, StandardsSubscriptionRequest};
use futures_util::TryFutureExt;

use crate::aws::{Sessions, call_error, done_if_exists, error_code, hinted};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::model::SecurityHubSpec;
use crate::report::Reporter;
use crate::services::regional;

/// ListMembers' largest page (50).
pub const MEMBERS_PAGE: i32 = 50;
const SVC: &str = "securityhub";
pub const SERVICE: &str = "securityhub";
const ADMIN: regional::AdminCalls = regional::AdminCalls::organization("Security Hub", SVC);
pub const MEMBERS_PER_CALL: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShOp {
    EnableAdmin,
    DisableAdmin {
        account: String,
    },
    EnableHub,
    UpdateOrganizationConfiguration,
    EnableStandards {
        standards: Vec<String>,
    },
    CreateFindingAggregator {
        regions: Vec<String>,
    },
    UpdateFindingAggregator {
        arn: String,
        regions: Vec<String>,
    },
    CreateMembers {
        accounts: Vec<(String, String)>,
    },
    /// Enroll every organization account that is not a member yet, as listed when
    /// it runs (accounts this apply created included).
    EnrollAll,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionState {
    pub admins: Vec<String>,
    pub hub: bool,
    /// (AutoEnable, AutoEnableStandards), read only when Security Tooling is the admin.
    pub org_config: Option<(bool, String)>,
    /// Enabled standards (as `<name>/v/<version>`) with their status.
    pub standards: BTreeMap<String, String>,
    /// (ARN, linked regions) of the finding aggregator.
    pub aggregator: Option<(String, Vec<String>)>,
    pub members: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedSecurityHub {
    pub regions: BTreeMap<String, RegionState>,
}

fn prop(name: &str, before: Option<String>, after: &str) -> Property {
    Property { name: name.to_string(), before, after: Some(after.to_string()) }
}

/// The changes Security Hub needs in each governed region, and the destructive ones.
pub fn diff(
    spec: &SecurityHubSpec,
    regions: &[String],
    home: &str,
    admin: Option<&str>,
    accounts: &[(String, String)],
    have: &ObservedSecurityHub,
) -> (Vec<Change>, Vec<String>) {
    let mut changes = Vec::new();
    let mut destructive = Vec::new();
    if !spec.enabled {
        return (changes, destructive);
    }
    let empty = RegionState::default();
    let linked: Vec<String> = regions.iter().filter(|r| *r != home).cloned().collect();
    for region in regions {
        let state = have.regions.get(region).unwrap_or(&empty);
        let step = |op: ShOp| Step::SecurityHub { region: region.clone(), op };
        let is_admin = admin.is_some_and(|a| state.admins.iter().any(|x| x == a));
        let (c, d) = regional::admin_change(SERVICE, region, admin, &state.admins, step(ShOp::EnableAdmin), |a| {
            step(ShOp::DisableAdmin { account: a.to_string() })
        });
        destructive.extend(d);
        changes.push(c);

        // the hub and its settings in Security Tooling
        let mut props = vec![prop("hub", state.hub.then(|| "enabled".to_string()), "enabled")];
        let mut steps = Vec::new();
        if !state.hub {
            steps.push(step(ShOp::EnableHub));
        }
        let config_before = match (&state.org_config, is_admin && state.hub) {
            (Some((auto, standards)), true) => (Some(auto.to_string()), Some(standards.clone())),
            // Only the administrator can read them: re-asserted after delegating.
            _ => (Some("true".to_string()), Some("DEFAULT".to_string())),
        };
        props.push(prop("auto_enable", config_before.0, "true"));
        props.push(prop("auto_enable_standards", config_before.1, "DEFAULT"));
        let readable = is_admin && state.hub && state.org_config.is_some();
        if !readable || props[1..].iter().any(Property::changed) {
            steps.push(step(ShOp::UpdateOrganizationConfiguration));
        }
        let mut missing = Vec::new();
        for s in &spec.standards {
            let before = state.standards.get(s).cloned();
            if before.as_deref() != Some("READY") && before.as_deref() != Some("PENDING") {
                missing.push(s.clone());
            }
            props.push(prop(&format!("standards.{s}"), before.or_else(|| Some("(not enabled)".into())), "READY"));
            if let Some(p) = props.last_mut()
                && p.before.as_deref() == Some("PENDING")
            {
                p.before = Some("READY".into());
            }
        }
        if !missing.is_empty() {
            steps.push(step(ShOp::EnableStandards { standards: missing }));
        }
        if region == home && !linked.is_empty() {
            let want = format!("SPECIFIED_REGIONS: {}", linked.join(", "));
            let before = state.aggregator.as_ref().map(|(_, r)| format!("SPECIFIED_REGIONS: {}", r.join(", ")));
            match &state.aggregator {
                None => steps.push(step(ShOp::CreateFindingAggregator { regions: linked.clone() })),
                Some((arn, r)) if *r != linked => {
                    steps.push(step(ShOp::UpdateFindingAggregator { arn: arn.clone(), regions: linked.clone() }))
                }
                Some(_) => {}
            }
            props.push(prop("finding_aggregator", before, &want));
        }
        let action = if !state.hub {
            Action::Create
        } else if props.iter().any(Property::changed) {
            Action::Update
        } else {
            Action::NoOp
        };
        changes.push(Change {
            address: Address::ServiceSettings { service: SERVICE, region: region.clone() },
            action,
            id: state.hub.then(|| format!("arn:aws:securityhub:{region}:{}:hub/default", admin.unwrap_or_default())),
            properties: props,
            reason: if readable || !state.hub {
                String::new()
            } else {
                "organization settings are re-applied after delegation (only the administrator can read them)".into()
            },
            steps,
            manual: vec![],
        });

        let members = if is_admin && state.hub { state.members.as_ref() } else { None };
        changes.push(regional::coverage_change(
            SERVICE,
            region,
            admin,
            accounts,
            members,
            |missing| step(ShOp::CreateMembers { accounts: missing }),
            Some(step(ShOp::EnrollAll)),
        ));
    }
    (changes, destructive)
}

fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_securityhub::Client {
    let conf =
        aws_sdk_securityhub::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_securityhub::Client::from_conf(conf)
}

fn suffix_of(arn: &str) -> String {
    arn.split_once(":standards/").map(|(_, s)| s.to_string()).unwrap_or_else(|| arn.to_string())
}

/// The accounts Security Hub has as members here, every page (50 a page).
async fn member_ids(sh: &aws_sdk_securityhub::Client, site: &crate::aws::Site) -> Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let pages = sh.list_members().max_results(MEMBERS_PAGE).only_associated(false).into_paginator().send();
    crate::aws::each_page(pages, |p| ids.extend(p.members().iter().filter_map(|m| m.account_id().map(str::to_string))))
        .await
        .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Security Hub covers"))?;
    Ok(ids)
}

pub async fn observe(
    sessions: &Sessions,
    spec: &SecurityHubSpec,
    regions: &[String],
    admin: Option<&str>,
    rep: &Reporter,
) -> Result<ObservedSecurityHub> {
    let mut out = ObservedSecurityHub::default();
    if !spec.enabled {
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
                        .filter_map(|a| a.account_id().map(str::to_string))
                        .collect()
                });
            // The administrators (management account) and Security Tooling's hub,
            // side by side: whether the hub exists does not depend on them.
            rep.debug(format!("securityhub:ListOrganizationAdminAccounts, DescribeHub {region}"));
            let hub = async {
                let (Some(_), Some(cfg)) = (admin, admin_config) else { return None };
                Some(client(cfg, region).describe_hub().send().await)
            };
            let (admins, hub) = tokio::join!(regional::admins(sessions, region, &ADMIN, list), hub);
            let mut state = RegionState { admins: admins?, ..Default::default() };
            if let (Some(a), Some(cfg)) = (admin, admin_config) {
                let site = sessions.site_in(a, region);
                let sh = client(cfg, region);
                state.hub = match hub {
                    None => false,
                    Some(Ok(_)) => true,
                    Some(Err(e))
                        if matches!(error_code(&e), Some("InvalidAccessException" | "ResourceNotFoundException")) =>
                    {
                        false
                    }
                    Some(Err(e)) => {
                        return Err(call_error(e, SVC, "DescribeHub", &site, "reading Security Tooling's hub").into());
                    }
                };
                if state.hub {
                    // The hub's settings side by side; the organization's only
                    // when Security Tooling administers it here (else unreadable).
                    let is_admin = state.admins.iter().any(|x| x == a);
                    let standards = async {
                        rep.debug(format!("securityhub:GetEnabledStandards {region}"));
                        let subs =
                            sh.get_enabled_standards().into_paginator().send().try_collect().await.map_err(|e| {
                                call_error(e, SVC, "GetEnabledStandards", &site, "reading the enabled standards")
                            })?;
                        Ok::<_, anyhow::Error>(
                            subs.iter()
                                .flat_map(|p| p.standards_subscriptions())
                                .filter_map(|s| {
                                    Some((suffix_of(s.standards_arn()?), s.standards_status()?.as_str().to_string()))
                                })
                                .collect(),
                        )
                    };
                    let aggregator = async {
                        rep.debug(format!("securityhub:ListFindingAggregators {region}"));
                        let aggs = sh.list_finding_aggregators().send().await.map_err(|e| {
                            call_error(e, SVC, "ListFindingAggregators", &site, "finding the finding aggregator")
                        })?;
                        let Some(arn) = aggs.finding_aggregators().first().and_then(|a| a.finding_aggregator_arn())
                        else {
                            return Ok::<_, anyhow::Error>(None);
                        };
                        let got =
                            sh.get_finding_aggregator().finding_aggregator_arn(arn).send().await.map_err(|e| {
                                call_error(e, SVC, "GetFindingAggregator", &site, "reading the finding aggregator")
                            })?;
                        Ok(Some((arn.to_string(), got.regions().to_vec())))
                    };
                    let org_config = async {
                        if !is_admin {
                            return Ok::<_, anyhow::Error>(None);
                        }
                        rep.debug(format!("securityhub:DescribeOrganizationConfiguration {region}"));
                        let conf = sh.describe_organization_configuration().send().await.map_err(|e| {
                            call_error(
                                e,
                                SVC,
                                "DescribeOrganizationConfiguration",
                                &site,
                                "reading Security Hub's organization settings",
                            )
                        })?;
                        Ok(Some((
                            conf.auto_enable().unwrap_or(false),
                            conf.auto_enable_standards().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        )))
                    };
                    let members = async {
                        if !is_admin {
                            return Ok(None);
                        }
                        rep.debug(format!("securityhub:ListMembers {region}"));
                        member_ids(&sh, &site).await.map(Some)
                    };
                    (state.standards, state.aggregator, state.org_config, state.members) =
                        tokio::try_join!(standards, aggregator, org_config, members)?;
                }
            }
            Ok(state)
        }
    })
    .await?;
    Ok(out)
}

pub async fn run(region: &str, op: &ShOp, admin: &str, sessions: &Sessions, rep: &Reporter) -> Result<()> {
    match op {
        ShOp::EnableAdmin => {
            let call = client(&sessions.base.config, region)
                .enable_organization_admin_account()
                .admin_account_id(admin)
                .send();
            return regional::delegate(sessions, region, &ADMIN, admin, call).await;
        }
        ShOp::DisableAdmin { account } => {
            let call = client(&sessions.base.config, region)
                .disable_organization_admin_account()
                .admin_account_id(account)
                .send();
            return regional::undelegate(sessions, region, &ADMIN, account, call).await;
        }
        _ => {}
    }
    let config = sessions.config(admin, rep).await?;
    let sh = client(&config, region);
    let site = sessions.site_in(admin, region);
    let partition = crate::aws::partition_of(region);
    match op {
        ShOp::EnableHub => {
            let sent = sh.enable_security_hub().enable_default_standards(false).send().await;
            done_if_exists(sent, &["ResourceConflictException"]).map_err(|e| {
                call_error(e, SVC, "EnableSecurityHub", &site, "enabling Security Hub in Security Tooling")
            })?;
        }
        ShOp::UpdateOrganizationConfiguration => {
            let start = Instant::now();
            loop {
                let sent = sh
                    .update_organization_configuration()
                    .auto_enable(true)
                    .auto_enable_standards(AutoEnableStandards::Default)
                    .send()
                    .await;
                match sent {
                    Ok(_) => break,
                    Err(e)
                        if e.message().is_some_and(|m| m.contains("administrator"))
                            && start.elapsed() < Duration::from_secs(300) =>
                    {
                        rep.progress(format!(
                            "securityhub {region}: waiting for the delegation to reach Security Tooling ({}s)",
                            start.elapsed().as_secs()
                        ));
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    Err(e) => {
                        return Err(call_error(
                            e,
                            SVC,
                            "UpdateOrganizationConfiguration",
                            &site,
                            "auto-enabling Security Hub",
                        )
                        .into());
                    }
                }
            }
        }
        ShOp::EnableStandards { standards } => {
            let requests: Vec<StandardsSubscriptionRequest> = standards
                .iter()
                .map(|s| {
                    StandardsSubscriptionRequest::builder()
                        .standards_arn(format!("arn:{partition}:securityhub:{region}::standards/{s}"))
                        .build()
                })
                .collect();
            sh.batch_enable_standards()
                .set_standards_subscription_requests(Some(requests))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "BatchEnableStandards", &site, "enabling security standards"))?;
        }
        ShOp::CreateFindingAggregator { regions } => {
            sh.create_finding_aggregator()
                .region_linking_mode("SPECIFIED_REGIONS")
                .set_regions(Some(regions.clone()))
                .send()
                .await
                .map_err(|e| {
                    call_error(e, SVC, "CreateFindingAggregator", &site, "aggregating findings in the home region")
                })?;
        }
        ShOp::UpdateFindingAggregator { arn, regions } => {
            sh.update_finding_aggregator()
                .finding_aggregator_arn(arn)
                .region_linking_mode("SPECIFIED_REGIONS")
                .set_regions(Some(regions.clone()))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "UpdateFindingAggregator", &site, "linking the governed regions"))?;
        }
        ShOp::EnrollAll => {
            let members = member_ids(&sh, &site).await?;
            let missing = crate::services::organizations::accounts_to_enroll(sessions, admin, &members, rep).await?;
            if !missing.is_empty() {
                Box::pin(run(region, &ShOp::CreateMembers { accounts: missing }, admin, sessions, rep)).await?;
            }
        }
        ShOp::CreateMembers { accounts } => {
            for batch in accounts.chunks(MEMBERS_PER_CALL) {
                let details: Vec<AccountDetails> = batch
                    .iter()
                    .map(|(id, email)| AccountDetails::builder().account_id(id).email(email).build())
                    .collect();
                let out =
                    sh.create_members().set_account_details(Some(details)).send().await.map_err(|e| {
                        call_error(e, SVC, "CreateMembers", &site, "enrolling accounts in Security Hub")
                    })?;
                if let Some(u) = out.unprocessed_accounts().first() {
                    return Err(hinted(
                        format!(
                            "Security Hub did not enroll {} ({}) in {region}",
                            u.account_id().unwrap_or_default(),
                            u.processing_result().unwrap_or_default()
                        ),
                        "check that the account is an active member of the organization, then rerun",
                    ));
                }
            }
        }
        ShOp::EnableAdmin | ShOp::DisableAdmin { .. } => unreachable!("handled above"),
    }
    Ok(())
}
