//! GuardDuty: delegated administration to Security Tooling in every governed
//! region, the admin's detector and organization configuration (every member
//! auto-enabled, every protection feature), and member coverage.
//!
//! `diff` is pure; `observe` and `run` touch AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_guardduty::types::{AccountDetail, AutoEnableMembers, OrgFeatureStatus, OrganizationFeatureConfiguration};
use futures_util::TryFutureExt;

use crate::aws::{Sessions, call_error, hinted};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::model::GuardDutySpec;
use crate::report::Reporter;
use crate::services::regional;

/// ListMembers' largest page (50).
pub const MEMBERS_PAGE: i32 = 50;
const SVC: &str = "guardduty";
pub const SERVICE: &str = "guardduty";
const ADMIN: regional::AdminCalls = regional::AdminCalls::organization("GuardDuty", SVC);
/// GuardDuty's limit for CreateMembers.
pub const MEMBERS_PER_CALL: usize = 50;

/// What sra does to GuardDuty in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GdOp {
    /// From the management account.
    EnableAdmin,
    /// From the management account: the other admin that `--allow-admin-change` replaces.
    DisableAdmin {
        account: String,
    },
    /// In Security Tooling.
    CreateDetector,
    UpdateOrganizationConfiguration,
    /// Enroll these (account id, email) pairs, in batches of 50.
    CreateMembers {
        accounts: Vec<(String, String)>,
    },
}

/// GuardDuty in one region, as AWS has it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionState {
    pub admins: Vec<String>,
    /// The admin account's detector, if it has one.
    pub detector: Option<String>,
    /// Read only when Security Tooling is the admin there.
    pub auto_enable_members: Option<String>,
    pub features: BTreeMap<String, String>,
    pub members: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedGuardDuty {
    pub regions: BTreeMap<String, RegionState>,
}

/// The organization's accounts as (id, email), for coverage.
pub type OrgAccounts = Vec<(String, String)>;

fn prop(name: &str, before: Option<String>, after: &str) -> Property {
    Property { name: name.to_string(), before, after: Some(after.to_string()) }
}

/// The changes GuardDuty needs in each governed region.
pub fn diff(
    spec: &GuardDutySpec,
    regions: &[String],
    admin: Option<&str>,
    accounts: &OrgAccounts,
    have: &ObservedGuardDuty,
) -> (Vec<Change>, Vec<String>) {
    let mut changes = Vec::new();
    let mut refused = Vec::new();
    if !spec.enabled {
        return (changes, refused);
    }
    let empty = RegionState::default();
    for region in regions {
        let state = have.regions.get(region).unwrap_or(&empty);
        let step = |op: GdOp| Step::GuardDuty { region: region.clone(), op };
        // 1. delegated administrator
        let is_admin = admin.is_some_and(|a| state.admins.iter().any(|x| x == a));
        let (c, destructive) =
            regional::admin_change(SERVICE, region, admin, &state.admins, step(GdOp::EnableAdmin), |a| {
                step(GdOp::DisableAdmin { account: a.to_string() })
            });
        refused.extend(destructive);
        changes.push(c);

        // 2. the admin's detector and organization configuration
        let features_want: BTreeMap<String, String> =
            spec.features.iter().map(|f| (f.clone(), "ALL".to_string())).collect();
        let mut props = vec![
            prop("detector", state.detector.as_ref().map(|_| "enabled".to_string()), "enabled"),
            prop("auto_enable_organization_members", state.auto_enable_members.clone(), "ALL"),
        ];
        for (f, v) in &features_want {
            props.push(prop(&format!("features.{f}"), state.features.get(f).cloned(), v));
        }
        let mut steps = Vec::new();
        if state.detector.is_none() {
            steps.push(step(GdOp::CreateDetector));
        }
        // Only the administrator can read the organization settings: until
        // Security Tooling is it again, they are unknown; apply re-asserts them
        // right after delegating, which changes nothing when they are right.
        let readable = is_admin && state.detector.is_some();
        if state.detector.is_some() && !readable {
            for p in props.iter_mut().skip(1) {
                p.before = p.after.clone();
            }
            steps.push(step(GdOp::UpdateOrganizationConfiguration));
            changes.push(Change {
                address: Address::ServiceSettings { service: SERVICE, region: region.clone() },
                action: Action::NoOp,
                id: state.detector.clone(),
                properties: props,
                reason: "organization settings are re-applied after delegation (only the administrator can read them)"
                    .into(),
                steps,
                manual: vec![],
            });
        } else {
            if props.iter().skip(1).any(|p| p.changed()) {
                steps.push(step(GdOp::UpdateOrganizationConfiguration));
            }
            changes.push(Change {
                address: Address::ServiceSettings { service: SERVICE, region: region.clone() },
                action: if state.detector.is_none() {
                    Action::Create
                } else if steps.is_empty() {
                    Action::NoOp
                } else {
                    Action::Update
                },
                id: state.detector.clone(),
                properties: props,
                reason: if steps.is_empty() {
                    String::new()
                } else {
                    "every member auto-enabled, every protection on".into()
                },
                steps,
                manual: vec![],
            });
        }

        // 3. coverage: every account but the admin is a member
        changes.push(regional::coverage_change(
            SERVICE,
            region,
            admin,
            accounts,
            state.members.as_ref(),
            |missing| step(GdOp::CreateMembers { accounts: missing }),
            None,
        ));
    }
    (changes, refused)
}

fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_guardduty::Client {
    let conf =
        aws_sdk_guardduty::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_guardduty::Client::from_conf(conf)
}

pub async fn observe(
    sessions: &Sessions,
    spec: &GuardDutySpec,
    regions: &[String],
    admin: Option<&str>,
    rep: &Reporter,
) -> Result<ObservedGuardDuty> {
    let mut out = ObservedGuardDuty::default();
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
                        .filter_map(|a| a.admin_account_id().map(str::to_string))
                        .collect()
                });
            // The administrators (management account) and Security Tooling's
            // detector, side by side: the detector does not depend on them.
            rep.debug(format!("guardduty:ListOrganizationAdminAccounts, ListDetectors {region}"));
            let detectors = async {
                let (Some(a), Some(cfg)) = (admin, admin_config) else { return Ok(None) };
                client(cfg, region).list_detectors().send().await.map(Some).map_err(|e| {
                    call_error(
                        e,
                        SVC,
                        "ListDetectors",
                        &sessions.site_in(a, region),
                        "finding Security Tooling's detector",
                    )
                })
            };
            let (admins, detectors) = tokio::join!(regional::admins(sessions, region, &ADMIN, list), detectors);
            let detectors = detectors?;
            let mut state = RegionState { admins: admins?, ..Default::default() };
            if let (Some(a), Some(cfg)) = (admin, admin_config) {
                let site = sessions.site_in(a, region);
                let gd = client(cfg, region);
                state.detector = detectors.as_ref().and_then(|d| d.detector_ids().first().cloned());
                if let Some(detector) = &state.detector
                    && state.admins.iter().any(|x| x == a)
                {
                    rep.debug(format!("guardduty:DescribeOrganizationConfiguration, ListMembers {region}"));
                    let mut ids = BTreeSet::new();
                    let pages =
                        gd.list_members().max_results(MEMBERS_PAGE).detector_id(detector).into_paginator().send();
                    let (conf, listed) = tokio::join!(
                        gd.describe_organization_configuration().detector_id(detector).send(),
                        crate::aws::each_page(pages, |p| {
                            ids.extend(p.members().iter().filter_map(|m| m.account_id().map(str::to_string)))
                        })
                    );
                    let conf = conf.map_err(|e| {
                        call_error(
                            e,
                            SVC,
                            "DescribeOrganizationConfiguration",
                            &site,
                            "reading GuardDuty's organization settings",
                        )
                    })?;
                    listed.map_err(|e| {
                        call_error(e, SVC, "ListMembers", &site, "reading which accounts GuardDuty covers")
                    })?;
                    state.auto_enable_members = conf.auto_enable_organization_members().map(|m| m.as_str().to_string());
                    state.features = conf
                        .features()
                        .iter()
                        .filter_map(|f| Some((f.name()?.as_str().to_string(), f.auto_enable()?.as_str().to_string())))
                        .collect();
                    state.members = Some(ids);
                }
            }
            Ok(state)
        }
    })
    .await?;
    Ok(out)
}

/// Delegation takes a while to reach the admin account: retry its first calls,
/// bounded, while GuardDuty says the account is not (yet) the administrator.
fn not_admin_yet(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("not the delegated administrator") || m.contains("not an administrator"))
}

pub async fn run(
    region: &str,
    op: &GdOp,
    spec: &GuardDutySpec,
    admin: &str,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    use aws_sdk_guardduty::error::ProvideErrorMetadata;
    match op {
        GdOp::EnableAdmin => {
            let call = client(&sessions.base.config, region)
                .enable_organization_admin_account()
                .admin_account_id(admin)
                .send();
            return regional::delegate(sessions, region, &ADMIN, admin, call).await;
        }
        GdOp::DisableAdmin { account } => {
            let call = client(&sessions.base.config, region)
                .disable_organization_admin_account()
                .admin_account_id(account)
                .send();
            return regional::undelegate(sessions, region, &ADMIN, account, call).await;
        }
        _ => {}
    }
    let config = sessions.config(admin, rep).await?;
    let gd = client(&config, region);
    let site = sessions.site_in(admin, region);
    let detector = || async {
        let ids = gd
            .list_detectors()
            .send()
            .await
            .map_err(|e| call_error(e, SVC, "ListDetectors", &site, "finding Security Tooling's detector"))?;
        ids.detector_ids()
            .first()
            .cloned()
            .ok_or_else(|| hinted("Security Tooling has no GuardDuty detector here", "rerun sra apply"))
    };
    match op {
        GdOp::CreateDetector => {
            gd.create_detector()
                .enable(true)
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "CreateDetector", &site, "creating Security Tooling's detector"))?;
        }
        GdOp::UpdateOrganizationConfiguration => {
            let detector = detector().await?;
            let features: Vec<OrganizationFeatureConfiguration> = spec
                .features
                .iter()
                .map(|f| {
                    OrganizationFeatureConfiguration::builder()
                        .name(aws_sdk_guardduty::types::OrgFeature::from(f.as_str()))
                        .auto_enable(OrgFeatureStatus::All)
                        .build()
                })
                .collect();
            let start = Instant::now();
            loop {
                let sent = gd
                    .update_organization_configuration()
                    .detector_id(&detector)
                    .auto_enable_organization_members(AutoEnableMembers::All)
                    .set_features(Some(features.clone()))
                    .send()
                    .await;
                match sent {
                    Ok(_) => break,
                    Err(e) if not_admin_yet(e.message()) && start.elapsed() < Duration::from_secs(300) => {
                        rep.progress(format!(
                            "guardduty {region}: waiting for the delegation to reach Security Tooling ({}s)",
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
                            "auto-enabling GuardDuty for every member",
                        )
                        .into());
                    }
                }
            }
        }
        GdOp::CreateMembers { accounts } => {
            let detector = detector().await?;
            for batch in accounts.chunks(MEMBERS_PER_CALL) {
                let details: Vec<AccountDetail> = batch
                    .iter()
                    .map(|(id, email)| AccountDetail::builder().account_id(id).email(email).build())
                    .collect();
                let out = gd
                    .create_members()
                    .detector_id(&detector)
                    .set_account_details(Some(details))
                    .send()
                    .await
                    .map_err(|e| call_error(e, SVC, "CreateMembers", &site, "enrolling accounts in GuardDuty"))?;
                if let Some(u) = out.unprocessed_accounts().first() {
                    return Err(hinted(
                        format!(
                            "GuardDuty did not enroll {} ({}) in {region}",
                            u.account_id().unwrap_or_default(),
                            u.result().unwrap_or_default()
                        ),
                        "check that the account is an active member of the organization, then rerun",
                    ));
                }
            }
        }
        GdOp::EnableAdmin | GdOp::DisableAdmin { .. } => unreachable!("handled above"),
    }
    Ok(())
}
