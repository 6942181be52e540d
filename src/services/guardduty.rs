//! GuardDuty's SDK calls: the administrators (management account), Security
//! Tooling's detector, its organization configuration and members. The
//! per-region loop, delegation, waits and coverage are `regional`'s; the
//! settings diff is the core's (`sra_core::services::guardduty`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_guardduty::Client;
use aws_sdk_guardduty::error::ProvideErrorMetadata;
use aws_sdk_guardduty::types::OrganizationAdditionalConfiguration as OrgExtra;
use aws_sdk_guardduty::types::OrganizationFeatureConfiguration as Feature;
use aws_sdk_guardduty::types::{AccountDetail, AutoEnableMembers, OrgFeature, OrgFeatureStatus};
use aws_sdk_guardduty::types::{
    DetectorAdditionalConfiguration, DetectorFeature, DetectorFeatureConfiguration, FeatureAdditionalConfiguration,
    FeatureStatus, OrgFeatureAdditionalConfiguration as OrgExtraName,
};

use crate::aws::{Failure, Sessions, Site, call_error, hinted};
use crate::report::Reporter;
use crate::services::regional::{AdminCalls, Io};

pub use sra_core::services::guardduty::*;

const SVC: &str = "guardduty";

impl Io for GuardDuty {
    const CALLS: AdminCalls = AdminCalls::organization("GuardDuty", SVC);
    type Client = Client;

    fn client(config: &aws_config::SdkConfig, region: &str) -> Client {
        Client::new(&crate::aws::in_region(config, region))
    }

    async fn list_admins(c: &Client) -> Result<Vec<String>, Failure> {
        let pages: Vec<_> = c.list_organization_admin_accounts().into_paginator().send().try_collect().await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.admin_accounts())
            .filter_map(|a| a.admin_account_id().map(str::to_string))
            .collect())
    }

    async fn enable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.enable_organization_admin_account().admin_account_id(account).send().await?;
        Ok(())
    }

    async fn disable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.disable_organization_admin_account().admin_account_id(account).send().await?;
        Ok(())
    }

    /// The documented sequence before a former administrator is removed
    /// (change-guardduty-delegated-admin.html): as that administrator, set
    /// auto-enable to NONE for members and every feature (with ALL, AWS refuses
    /// to disassociate), then disassociate and delete every member, 50 a call.
    async fn before_removal(sessions: &Sessions, region: &str, account: &str, rep: &Reporter) -> Result<()> {
        let config = sessions.config(account, rep).await?;
        let (c, site) = (Self::client(&config, region), sessions.site_in(account, region));
        let Some(detector) = detector_of(&c, &site).await? else { return Ok(()) };
        let purpose = format!("stopping auto-enable in the former administrator {account}");
        let conf = c
            .describe_organization_configuration()
            .detector_id(&detector)
            .send()
            .await
            .map_err(|e| call_error(e, SVC, "DescribeOrganizationConfiguration", &site, purpose.as_str()))?;
        let features: Vec<Feature> = conf
            .features()
            .iter()
            .filter_map(|f| f.name())
            .map(|name| {
                Feature::builder().name(OrgFeature::from(name.as_str())).auto_enable(OrgFeatureStatus::None).build()
            })
            .collect();
        c.update_organization_configuration()
            .detector_id(&detector)
            .auto_enable_organization_members(AutoEnableMembers::None)
            .set_features((!features.is_empty()).then_some(features))
            .send()
            .await
            .map_err(|e| call_error(e, SVC, "UpdateOrganizationConfiguration", &site, purpose.as_str()))?;
        let mut members = Vec::new();
        let pages = c
            .list_members()
            .max_results(MEMBERS_PAGE)
            .detector_id(&detector)
            .only_associated("false")
            .into_paginator()
            .send();
        crate::aws::each_page(pages, |p| {
            members.extend(p.members().iter().filter_map(|m| m.account_id().map(str::to_string)))
        })
        .await
        .map_err(|e| {
            call_error(e, SVC, "ListMembers", &site, format!("listing the former administrator {account}'s members"))
        })?;
        for batch in members.chunks(MEMBERS_PER_CALL) {
            let purpose = format!("removing the former administrator {account}'s members");
            c.disassociate_members()
                .detector_id(&detector)
                .set_account_ids(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "DisassociateMembers", &site, purpose.as_str()))?;
            c.delete_members()
                .detector_id(&detector)
                .set_account_ids(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "DeleteMembers", &site, purpose.as_str()))?;
        }
        Ok(())
    }

    const DEREGISTER_AFTER_REMOVAL: Option<&'static str> = Some("guardduty.amazonaws.com");

    /// The detector and its own features: Security Tooling's to read, delegated or not.
    async fn read_own(c: &Client, site: &Site) -> Result<Settings> {
        let detector = detector_of(c, site).await?;
        let mut own = Settings { detector: detector.clone(), ..Default::default() };
        let Some(id) = detector else { return Ok(own) };
        let got = c
            .get_detector()
            .detector_id(&id)
            .send()
            .await
            .map_err(|e| call_error(e, SVC, "GetDetector", site, "reading Security Tooling's detector"))?;
        for f in got.features() {
            let Some(name) = f.name() else { continue };
            let status = |s: Option<&aws_sdk_guardduty::types::FeatureStatus>| s.map(|s| s.as_str().to_string());
            own.detector_features.extend(status(f.status()).map(|v| (name.as_str().to_string(), v)));
            for a in f.additional_configuration() {
                let Some(extra) = a.name() else { continue };
                let key = format!("{}.{}", name.as_str(), extra.as_str());
                own.detector_features.extend(status(a.status()).map(|v| (key, v)));
            }
        }
        Ok(own)
    }

    fn members_listable(own: &Settings) -> bool {
        own.detector.is_some()
    }

    async fn read_settings(c: &Client, site: &Site, mut own: Settings, is_admin: bool) -> Result<Settings> {
        let (Some(detector), true) = (&own.detector, is_admin) else { return Ok(own) };
        let conf = c.describe_organization_configuration().detector_id(detector).send().await.map_err(|e| {
            call_error(e, SVC, "DescribeOrganizationConfiguration", site, "reading GuardDuty's organization settings")
        })?;
        own.auto_enable_members = conf.auto_enable_organization_members().map(|m| m.as_str().to_string());
        for f in conf.features() {
            let Some(name) = f.name() else { continue };
            if let Some(v) = f.auto_enable() {
                own.features.insert(name.as_str().to_string(), v.as_str().to_string());
            }
            for a in f.additional_configuration() {
                if let (Some(extra), Some(v)) = (a.name(), a.auto_enable()) {
                    own.features.insert(format!("{}.{}", name.as_str(), extra.as_str()), v.as_str().to_string());
                }
            }
        }
        Ok(own)
    }

    async fn read_members(c: &Client, site: &Site, own: &Settings, _: &[String]) -> Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        let Some(detector) = own.detector.as_deref() else { return Ok(ids) };
        let pages = c.list_members().max_results(MEMBERS_PAGE).detector_id(detector).into_paginator().send();
        crate::aws::each_page(pages, |p| {
            ids.extend(p.members().iter().filter_map(|m| m.account_id().map(str::to_string)))
        })
        .await
        .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts GuardDuty covers"))?;
        Ok(ids)
    }

    /// In batches of 50.
    async fn enroll(c: &Client, site: &Site, accounts: &[(String, String)], _: &[String]) -> Result<()> {
        let detector = detector_of(c, site).await?.ok_or_else(|| no_detector(site))?;
        for batch in accounts.chunks(MEMBERS_PER_CALL) {
            let details: Vec<AccountDetail> =
                batch.iter().map(|(id, email)| AccountDetail::builder().account_id(id).email(email).build()).collect();
            let out = c
                .create_members()
                .detector_id(&detector)
                .set_account_details(Some(details))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "CreateMembers", site, "enrolling accounts in GuardDuty"))?;
            if let Some(u) = out.unprocessed_accounts().first() {
                return Err(hinted(
                    format!(
                        "GuardDuty did not enroll {} ({}) in {}",
                        u.account_id().unwrap_or_default(),
                        u.result().unwrap_or_default(),
                        site.region
                    ),
                    "check that the account is an active member of the organization, then rerun",
                ));
            }
        }
        Ok(())
    }

    async fn run(c: &Client, site: &Site, op: &GdOp) -> Result<()> {
        match op {
            GdOp::EnsureDetector => {
                // Delegation may have made it (AWS enables GuardDuty in the new
                // administrator's account): adopt it; never make a second.
                if detector_of(c, site).await?.is_some() {
                    return Ok(());
                }
                let created = c.create_detector().enable(true).send().await;
                if let Err(e) = created {
                    let exists = e.message().is_some_and(|m| m.contains("already exists"));
                    if !exists {
                        let purpose = "enabling GuardDuty in Security Tooling";
                        return Err(call_error(e, SVC, "CreateDetector", site, purpose).into());
                    }
                }
            }
            GdOp::UpdateOrganizationConfiguration { auto_enable_members, features } => {
                let detector = detector_of(c, site).await?.ok_or_else(|| no_detector(site))?;
                let features: Vec<Feature> = nested(features)
                    .into_iter()
                    .map(|Nested { name: f, value: v, extra }| {
                        let extra = extra.into_iter().map(|(name, v)| {
                            OrgExtra::builder()
                                .name(OrgExtraName::from(name))
                                .auto_enable(OrgFeatureStatus::from(v))
                                .build()
                        });
                        Feature::builder()
                            .name(OrgFeature::from(f))
                            .auto_enable(OrgFeatureStatus::from(v))
                            .set_additional_configuration(Some(extra.collect()).filter(|e: &Vec<_>| !e.is_empty()))
                            .build()
                    })
                    .collect();
                c.update_organization_configuration()
                    .detector_id(&detector)
                    .auto_enable_organization_members(AutoEnableMembers::from(auto_enable_members.as_str()))
                    .set_features(Some(features))
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(
                            e,
                            SVC,
                            "UpdateOrganizationConfiguration",
                            site,
                            "auto-enabling GuardDuty for every member",
                        )
                    })?;
            }
            GdOp::UpdateDetector { features } => {
                let detector = detector_of(c, site).await?.ok_or_else(|| no_detector(site))?;
                let features: Vec<DetectorFeatureConfiguration> = nested(features)
                    .into_iter()
                    .map(|Nested { name: f, value: v, extra }| {
                        let extra = extra.into_iter().map(|(name, v)| {
                            DetectorAdditionalConfiguration::builder()
                                .name(FeatureAdditionalConfiguration::from(name))
                                .status(FeatureStatus::from(v))
                                .build()
                        });
                        DetectorFeatureConfiguration::builder()
                            .name(DetectorFeature::from(f))
                            .status(FeatureStatus::from(v))
                            .set_additional_configuration(Some(extra.collect()).filter(|e: &Vec<_>| !e.is_empty()))
                            .build()
                    })
                    .collect();
                c.update_detector().detector_id(&detector).set_features(Some(features)).send().await.map_err(|e| {
                    call_error(e, SVC, "UpdateDetector", site, "turning on Security Tooling's own protections")
                })?;
            }
        }
        Ok(())
    }
}

/// One feature as GuardDuty's requests nest it: its value and its additional
/// configuration (name, value).
struct Nested<'a> {
    name: &'a str,
    value: &'a str,
    extra: Vec<(&'a str, &'a str)>,
}

/// The flattened feature map (`FEATURE.ADDITIONAL` keys) as requests nest it.
fn nested(flat: &BTreeMap<String, String>) -> Vec<Nested<'_>> {
    let mut out: Vec<Nested> = flat
        .iter()
        .filter(|(key, _)| !key.contains('.'))
        .map(|(name, value)| Nested { name, value, extra: Vec::new() })
        .collect();
    for (key, value) in flat {
        if let Some((feature, extra)) = key.split_once('.')
            && let Some(f) = out.iter_mut().find(|f| f.name == feature)
        {
            f.extra.push((extra, value));
        }
    }
    out
}

fn no_detector(site: &Site) -> anyhow::Error {
    hinted(format!("Security Tooling has no GuardDuty detector in {}", site.region), "rerun sra apply")
}

/// Security Tooling's detector in this region, if it has one.
async fn detector_of(c: &Client, site: &Site) -> Result<Option<String>> {
    let ids = c
        .list_detectors()
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "ListDetectors", site, "finding Security Tooling's detector"))?;
    Ok(ids.detector_ids().first().cloned())
}
