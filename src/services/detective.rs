//! Detective's SDK calls: the administrators (management account), Security
//! Tooling's behavior graph, its organization configuration and members. The
//! per-region loop, delegation, waits and coverage are `regional`'s; the settings
//! diff is the core's (`sra_core::services::detective`).

use std::collections::BTreeSet;

use anyhow::Result;
use aws_sdk_detective::Client;

use crate::aws::{Failure, Site, call_error, error_code, hinted};
use crate::services::regional::{AdminCalls, Io};

pub use sra_core::services::detective::*;

const SVC: &str = "detective";

impl Io for Detective {
    const CALLS: AdminCalls = AdminCalls::organization("Detective", SVC);
    type Client = Client;
    /// "Removing the Detective administrator account does not automatically
    /// remove the delegated administrator account in Organizations", and while it
    /// stays registered Detective accepts no other administrator
    /// (API_EnableOrganizationAdminAccount): deregistered once removed everywhere.
    const DEREGISTER_AFTER_REMOVAL: Option<&'static str> = Some("detective.amazonaws.com");

    fn client(config: &aws_config::SdkConfig, region: &str) -> Client {
        Client::new(&crate::aws::in_region(config, region))
    }

    async fn list_admins(c: &Client) -> Result<Vec<String>, Failure> {
        let pages: Vec<_> = c.list_organization_admin_accounts().into_paginator().send().try_collect().await?;
        Ok(pages.iter().flat_map(|p| p.administrators()).filter_map(|a| a.account_id().map(str::to_string)).collect())
    }

    async fn enable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.enable_organization_admin_account().account_id(account).send().await?;
        Ok(())
    }

    /// Detective has one administrator and removes whichever it is.
    async fn disable_admin_call(c: &Client, _: &str) -> Result<(), Failure> {
        c.disable_organization_admin_account().send().await?;
        Ok(())
    }

    async fn read_own(c: &Client, site: &Site) -> Result<Settings> {
        Ok(Settings { graph: graph_of(c, site).await?, ..Default::default() })
    }

    fn members_listable(own: &Settings) -> bool {
        own.graph.is_some()
    }

    async fn read_settings(c: &Client, site: &Site, mut own: Settings, is_admin: bool) -> Result<Settings> {
        let (Some(graph), true) = (&own.graph, is_admin) else { return Ok(own) };
        let conf = c.describe_organization_configuration().graph_arn(graph).send().await.map_err(|e| {
            call_error(e, SVC, "DescribeOrganizationConfiguration", site, "reading Detective's organization settings")
        })?;
        own.auto_enable = Some(conf.auto_enable());
        Ok(own)
    }

    async fn read_members(c: &Client, site: &Site, own: &Settings, _: &[String]) -> Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        let Some(graph) = &own.graph else { return Ok(ids) };
        let pages = c.list_members().max_results(MEMBERS_PAGE).graph_arn(graph).into_paginator().send();
        crate::aws::each_page(pages, |p| {
            ids.extend(p.member_details().iter().filter_map(|m| m.account_id().map(str::to_string)))
        })
        .await
        .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Detective covers"))?;
        Ok(ids)
    }

    /// Every operation needs the behavior graph: one is created if Security
    /// Tooling has none yet.
    /// In batches of 50, into the behavior graph (created if Security Tooling has none yet).
    async fn enroll(c: &Client, site: &Site, accounts: &[(String, String)], _: &[String]) -> Result<()> {
        let graph = ensure_graph(c, site).await?;
        for batch in accounts.chunks(MEMBERS_PER_CALL) {
            let details = batch
                .iter()
                .map(|(id, email)| {
                    aws_sdk_detective::types::Account::builder().account_id(id).email_address(email).build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out =
                c.create_members().graph_arn(&graph).set_accounts(Some(details)).send().await.map_err(|e| {
                    call_error(e, SVC, "CreateMembers", site, format!("enabling {} accounts", batch.len()))
                })?;
            if let Some(u) = out.unprocessed_accounts().first() {
                return Err(hinted(
                    format!(
                        "Detective did not enable {} in {}: {}",
                        u.account_id().unwrap_or("?"),
                        site.region,
                        u.reason().unwrap_or("no reason given")
                    ),
                    "check that the account is still in the organization, then rerun sra apply",
                ));
            }
        }
        Ok(())
    }

    async fn run(c: &Client, site: &Site, op: &DtOp) -> Result<()> {
        let graph = ensure_graph(c, site).await?;
        match op {
            DtOp::UpdateOrganizationConfiguration { auto_enable } => {
                c.update_organization_configuration()
                    .graph_arn(&graph)
                    .auto_enable(*auto_enable)
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(
                            e,
                            SVC,
                            "UpdateOrganizationConfiguration",
                            site,
                            "auto-enabling Detective for new accounts",
                        )
                    })?;
            }
        }
        Ok(())
    }
}

/// Security Tooling's behavior graph, created if it has none yet.
async fn ensure_graph(c: &Client, site: &Site) -> Result<String> {
    Ok(match graph_of(c, site).await? {
        Some(g) => g,
        None => match c.create_graph().send().await {
            Ok(out) => out.graph_arn().unwrap_or_default().to_string(),
            // Created meanwhile (by the delegation, or a concurrent run): use it.
            Err(e) if error_code(&e) == Some("ConflictException") => graph_of(c, site).await?.unwrap_or_default(),
            Err(e) => {
                return Err(
                    call_error(e, SVC, "CreateGraph", site, "creating Security Tooling's behavior graph").into()
                );
            }
        },
    })
}

async fn graph_of(c: &Client, site: &Site) -> Result<Option<String>> {
    let out = c
        .list_graphs()
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "ListGraphs", site, "reading Security Tooling's behavior graph"))?;
    Ok(out.graph_list().iter().find_map(|g| g.arn().map(str::to_string)))
}
