//! Security Hub's SDK calls: the administrators (management account), Security
//! Tooling's hub, standards, finding aggregator, organization configuration and
//! members. The per-region loop, delegation, waits and coverage are `regional`'s;
//! the settings diff is the core's (`sra_core::services::securityhub`).

use std::collections::BTreeSet;

use anyhow::Result;
use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{AccountDetails, AutoEnableStandards, StandardsSubscriptionRequest};

use crate::aws::{Failure, Site, call_error, done_if_exists, error_code, hinted};
use crate::services::regional::{AdminCalls, Io};

pub use sra_core::services::securityhub::*;

const SVC: &str = "securityhub";

impl Io for SecurityHub {
    const CALLS: AdminCalls = AdminCalls::organization("Security Hub", SVC);
    type Client = Client;

    fn client(config: &aws_config::SdkConfig, region: &str) -> Client {
        Client::new(&crate::aws::in_region(config, region))
    }

    async fn list_admins(c: &Client) -> Result<Vec<String>, Failure> {
        let pages: Vec<_> = c.list_organization_admin_accounts().into_paginator().send().try_collect().await?;
        Ok(pages.iter().flat_map(|p| p.admin_accounts()).filter_map(|a| a.account_id().map(str::to_string)).collect())
    }

    async fn enable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.enable_organization_admin_account().admin_account_id(account).send().await?;
        Ok(())
    }

    async fn disable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.disable_organization_admin_account().admin_account_id(account).send().await?;
        Ok(())
    }

    async fn read_own(c: &Client, site: &Site) -> Result<Settings> {
        Ok(Settings { hub: hub_on(c, site, "reading Security Tooling's hub").await?, ..Default::default() })
    }

    /// The management account's hub: its administrator cannot enable Security Hub
    /// there (API reference, CreateMembers).
    async fn read_management(c: &Client, site: &Site) -> Result<Option<bool>> {
        hub_on(c, site, "reading the management account's hub").await.map(Some)
    }

    fn in_management(op: &ShOp) -> bool {
        matches!(op, ShOp::EnableHubInManagement)
    }

    fn members_listable(own: &Settings) -> bool {
        own.hub
    }

    /// The hub's standards and finding aggregator side by side; the
    /// organization's settings only when Security Tooling administers it here.
    async fn read_settings(c: &Client, site: &Site, own: Settings, is_admin: bool) -> Result<Settings> {
        if !own.hub {
            return Ok(own);
        }
        let standards = async {
            let subs = c
                .get_enabled_standards()
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|e| call_error(e, SVC, "GetEnabledStandards", site, "reading the enabled standards"))?;
            Ok::<_, anyhow::Error>(
                subs.iter()
                    .flat_map(|p| p.standards_subscriptions())
                    .filter_map(|s| Some((suffix_of(s.standards_arn()?), s.standards_status()?.as_str().to_string())))
                    .collect(),
            )
        };
        let aggregator =
            async {
                let aggs = c.list_finding_aggregators().send().await.map_err(|e| {
                    call_error(e, SVC, "ListFindingAggregators", site, "finding the finding aggregator")
                })?;
                let Some(arn) = aggs.finding_aggregators().first().and_then(|a| a.finding_aggregator_arn()) else {
                    return Ok::<_, anyhow::Error>(None);
                };
                let got =
                    c.get_finding_aggregator().finding_aggregator_arn(arn).send().await.map_err(|e| {
                        call_error(e, SVC, "GetFindingAggregator", site, "reading the finding aggregator")
                    })?;
                Ok(Some((arn.to_string(), got.regions().to_vec())))
            };
        let org_config = async {
            if !is_admin {
                return Ok::<_, anyhow::Error>(None);
            }
            let conf = c.describe_organization_configuration().send().await.map_err(|e| {
                call_error(
                    e,
                    SVC,
                    "DescribeOrganizationConfiguration",
                    site,
                    "reading Security Hub's organization settings",
                )
            })?;
            let central = conf
                .organization_configuration()
                .and_then(|o| o.configuration_type())
                .is_some_and(|t| t.as_str() == "CENTRAL");
            Ok(Some((
                (
                    conf.auto_enable().unwrap_or(false),
                    conf.auto_enable_standards().map(|s| s.as_str().to_string()).unwrap_or_default(),
                ),
                central,
            )))
        };
        let (standards, aggregator, org_config) = tokio::try_join!(standards, aggregator, org_config)?;
        let central = org_config.as_ref().is_some_and(|(_, central)| *central);
        Ok(Settings { standards, aggregator, org_config: org_config.map(|(c, _)| c), central, ..own })
    }

    /// Every page (50 a page).
    async fn read_members(c: &Client, site: &Site, _: &Settings, _: &[String]) -> Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        let pages = c.list_members().max_results(MEMBERS_PAGE).only_associated(false).into_paginator().send();
        // Covered means enabled: an invited, disassociated or suspended member
        // is listed but not covered (API reference, Member.MemberStatus).
        let enabled = |m: &&aws_sdk_securityhub::types::Member| {
            m.member_status().is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
        };
        crate::aws::each_page(pages, |p| {
            ids.extend(p.members().iter().filter(enabled).filter_map(|m| m.account_id().map(str::to_string)))
        })
        .await
        .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Security Hub covers"))?;
        Ok(ids)
    }

    /// In batches of 50.
    async fn enroll(c: &Client, site: &Site, accounts: &[(String, String)], _: &[String]) -> Result<()> {
        let region = &site.region;
        for batch in accounts.chunks(MEMBERS_PER_CALL) {
            let details: Vec<AccountDetails> =
                batch.iter().map(|(id, email)| AccountDetails::builder().account_id(id).email(email).build()).collect();
            let out = c
                .create_members()
                .set_account_details(Some(details))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "CreateMembers", site, "enrolling accounts in Security Hub"))?;
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
        Ok(())
    }

    async fn run(c: &Client, site: &Site, op: &ShOp) -> Result<()> {
        let region = &site.region;
        match op {
            ShOp::EnableHub => {
                let sent = c.enable_security_hub().enable_default_standards(false).send().await;
                done_if_exists(sent, &["ResourceConflictException"]).map_err(|e| {
                    call_error(e, SVC, "EnableSecurityHub", site, "enabling Security Hub in Security Tooling")
                })?;
            }
            // With the default standards, as every member gets them when enrolled
            // (API reference, CreateMembers).
            ShOp::EnableHubInManagement => {
                let sent = c.enable_security_hub().enable_default_standards(true).send().await;
                done_if_exists(sent, &["ResourceConflictException"]).map_err(|e| {
                    call_error(e, SVC, "EnableSecurityHub", site, "enabling Security Hub in the management account")
                })?;
            }
            ShOp::UpdateOrganizationConfiguration { auto_enable, auto_enable_standards } => {
                c.update_organization_configuration()
                    .auto_enable(*auto_enable)
                    .auto_enable_standards(AutoEnableStandards::from(auto_enable_standards.as_str()))
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(e, SVC, "UpdateOrganizationConfiguration", site, "auto-enabling Security Hub")
                    })?;
            }
            ShOp::EnableStandards { standards } => {
                let partition = crate::aws::partition_of(region);
                let requests: Vec<StandardsSubscriptionRequest> = standards
                    .iter()
                    .map(|s| {
                        StandardsSubscriptionRequest::builder()
                            .standards_arn(format!("arn:{partition}:securityhub:{region}::standards/{s}"))
                            .build()
                    })
                    .collect();
                c.batch_enable_standards()
                    .set_standards_subscription_requests(Some(requests))
                    .send()
                    .await
                    .map_err(|e| call_error(e, SVC, "BatchEnableStandards", site, "enabling security standards"))?;
            }
            ShOp::CreateFindingAggregator { regions } => {
                c.create_finding_aggregator()
                    .region_linking_mode("SPECIFIED_REGIONS")
                    .set_regions(Some(regions.clone()))
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(e, SVC, "CreateFindingAggregator", site, "aggregating findings in the home region")
                    })?;
            }
            ShOp::UpdateFindingAggregator { arn, regions } => {
                c.update_finding_aggregator()
                    .finding_aggregator_arn(arn)
                    .region_linking_mode("SPECIFIED_REGIONS")
                    .set_regions(Some(regions.clone()))
                    .send()
                    .await
                    .map_err(|e| call_error(e, SVC, "UpdateFindingAggregator", site, "linking the governed regions"))?;
            }
        }
        Ok(())
    }
}

/// Whether the account the client speaks for has Security Hub on.
async fn hub_on(c: &Client, site: &Site, purpose: &str) -> Result<bool> {
    match c.describe_hub().send().await {
        Ok(_) => Ok(true),
        Err(e) if matches!(error_code(&e), Some("InvalidAccessException" | "ResourceNotFoundException")) => Ok(false),
        Err(e) => Err(call_error(e, SVC, "DescribeHub", site, purpose).into()),
    }
}

/// `<name>/v/<version>` of a standards ARN.
fn suffix_of(arn: &str) -> String {
    arn.split_once(":standards/").map(|(_, s)| s.to_string()).unwrap_or_else(|| arn.to_string())
}
