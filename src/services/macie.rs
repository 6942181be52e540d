//! Macie's SDK calls: the administrators (management account), Macie's session
//! in Security Tooling, its organization configuration and members. The
//! per-region loop, delegation, waits and coverage are `regional`'s; the settings
//! diff is the core's (`sra_core::services::macie`).

use std::collections::BTreeSet;

use anyhow::Result;
use aws_sdk_macie2::Client;

use crate::aws::{Failure, Site, call_error, done_if_exists, error_code};
use crate::services::regional::{AdminCalls, Io};

pub use sra_core::services::macie::*;

const SVC: &str = "macie2";

impl Io for Macie {
    const CALLS: AdminCalls = AdminCalls::organization("Macie", SVC);
    type Client = Client;

    fn client(config: &aws_config::SdkConfig, region: &str) -> Client {
        Client::new(&crate::aws::in_region(config, region))
    }

    async fn list_admins(c: &Client) -> Result<Vec<String>, Failure> {
        let pages: Vec<_> = c.list_organization_admin_accounts().into_paginator().send().try_collect().await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.admin_accounts())
            .filter(|a| a.status().is_some_and(|s| s.as_str() == "ENABLED"))
            .filter_map(|a| a.account_id().map(str::to_string))
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

    /// Whether Macie is on in Security Tooling.
    async fn read_own(c: &Client, site: &Site) -> Result<Settings> {
        let enabled = match c.get_macie_session().send().await {
            Ok(s) => s.status().is_some_and(|s| s.as_str() == "ENABLED"),
            Err(e) if matches!(error_code(&e), Some("ResourceNotFoundException" | "AccessDeniedException")) => false,
            Err(e) => return Err(call_error(e, SVC, "GetMacieSession", site, "reading whether Macie is on").into()),
        };
        Ok(Settings { enabled, ..Default::default() })
    }

    fn members_listable(own: &Settings) -> bool {
        own.enabled
    }

    async fn read_settings(c: &Client, site: &Site, mut own: Settings, is_admin: bool) -> Result<Settings> {
        if !(own.enabled && is_admin) {
            return Ok(own);
        }
        let conf = c.describe_organization_configuration().send().await.map_err(|e| {
            call_error(e, SVC, "DescribeOrganizationConfiguration", site, "reading Macie's organization settings")
        })?;
        own.auto_enable = Some(conf.auto_enable().unwrap_or(false));
        Ok(own)
    }

    async fn read_members(c: &Client, site: &Site, _: &Settings, _: &[String]) -> Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        let pages = c.list_members().max_results(MEMBERS_PAGE).only_associated("false").into_paginator().send();
        crate::aws::each_page(pages, |p| {
            ids.extend(p.members().iter().filter_map(|m| m.account_id().map(str::to_string)))
        })
        .await
        .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Macie covers"))?;
        Ok(ids)
    }

    /// One CreateMember call per account.
    async fn enroll(c: &Client, site: &Site, accounts: &[(String, String)], _: &[String]) -> Result<()> {
        for (id, email) in accounts {
            let account = aws_sdk_macie2::types::AccountDetail::builder().account_id(id).email(email).build();
            c.create_member()
                .account(account)
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "CreateMember", site, format!("adding {id} to Macie")))?;
        }
        Ok(())
    }

    async fn run(c: &Client, site: &Site, op: &MaOp) -> Result<()> {
        match op {
            MaOp::EnableMacie => {
                done_if_exists(c.enable_macie().send().await, &["ConflictException"])
                    .map_err(|e| call_error(e, SVC, "EnableMacie", site, "turning Macie on in Security Tooling"))?;
            }
            MaOp::UpdateOrganizationConfiguration { auto_enable } => {
                c.update_organization_configuration().auto_enable(*auto_enable).send().await.map_err(|e| {
                    call_error(e, SVC, "UpdateOrganizationConfiguration", site, "auto-enabling Macie for new accounts")
                })?;
            }
        }
        Ok(())
    }
}
