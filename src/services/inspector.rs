//! Inspector's SDK calls: the administrators (management account), the
//! organization configuration and members in Security Tooling. The per-region
//! loop, delegation, waits and coverage are `regional`'s; the settings diff is
//! the core's (`sra_core::services::inspector`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_inspector2::Client;
use aws_sdk_inspector2::types::{AutoEnable, RelationshipStatus, ResourceScanType, Status};

use crate::aws::{Failure, Site, call_error, hinted};
use crate::services::regional::{AdminCalls, Io};

pub use sra_core::services::inspector::*;

const SVC: &str = "inspector2";

impl Io for Inspector {
    const CALLS: AdminCalls = AdminCalls {
        name: "Inspector",
        svc: SVC,
        list: "ListDelegatedAdminAccounts",
        enable: "EnableDelegatedAdminAccount",
        disable: "DisableDelegatedAdminAccount",
    };
    type Client = Client;

    fn client(config: &aws_config::SdkConfig, region: &str) -> Client {
        Client::new(&crate::aws::in_region(config, region))
    }

    async fn list_admins(c: &Client) -> Result<Vec<String>, Failure> {
        let pages: Vec<_> = c.list_delegated_admin_accounts().into_paginator().send().try_collect().await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.delegated_admin_accounts())
            .filter(|a| a.status().is_some_and(|s| s.as_str() == "ENABLED"))
            .filter_map(|a| a.account_id().map(str::to_string))
            .collect())
    }

    async fn enable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.enable_delegated_admin_account().delegated_admin_account_id(account).send().await?;
        Ok(())
    }

    async fn disable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.disable_delegated_admin_account().delegated_admin_account_id(account).send().await?;
        Ok(())
    }

    /// Inspector has nothing of Security Tooling's own to read first.
    async fn read_own(_: &Client, _: &Site) -> Result<Settings> {
        Ok(Settings::default())
    }

    fn members_listable(_: &Settings) -> bool {
        true
    }

    async fn read_settings(c: &Client, site: &Site, mut own: Settings, is_admin: bool) -> Result<Settings> {
        if !is_admin {
            return Ok(own);
        }
        let conf = c.describe_organization_configuration().send().await.map_err(|e| {
            call_error(e, SVC, "DescribeOrganizationConfiguration", site, "reading Inspector's organization settings")
        })?;
        own.auto_enable = conf.auto_enable().map(|ae| {
            BTreeMap::from([
                ("ec2".to_string(), ae.ec2()),
                ("ecr".to_string(), ae.ecr()),
                ("lambda".to_string(), ae.lambda().unwrap_or(false)),
                ("lambda_code".to_string(), ae.lambda_code().unwrap_or(false)),
            ])
        });
        Ok(own)
    }

    /// The associated members and Security Tooling itself, then their scans
    /// (BatchGetAccountStatus): the accounts scanning every type of `with`.
    async fn read_members(c: &Client, site: &Site, _: &Settings, with: &[String]) -> Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        let pages = c.list_members().max_results(MEMBERS_PAGE).only_associated(true).into_paginator().send();
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
        ids.insert(site.account.clone());
        let scanning = scanning(c, site, &ids.iter().cloned().collect::<Vec<_>>()).await?;
        Ok(ids
            .into_iter()
            .filter(|id| with.iter().all(|scan| scanning.get(id).is_some_and(|on| on.contains(scan))))
            .collect())
    }

    /// AssociateMember for each account but Security Tooling (which administers
    /// the others), then Enable for all of them, 100 accounts a call: associating
    /// starts no scan.
    async fn enroll(c: &Client, site: &Site, accounts: &[(String, String)], with: &[String]) -> Result<()> {
        for (account, _) in accounts.iter().filter(|(id, _)| *id != site.account) {
            c.associate_member().account_id(account).send().await.map_err(|e| {
                call_error(e, SVC, "AssociateMember", site, format!("enrolling {account} in Inspector"))
            })?;
        }
        if with.is_empty() {
            return Ok(());
        }
        let types: Vec<ResourceScanType> =
            with.iter().map(|s| ResourceScanType::from(s.to_uppercase().as_str())).collect();
        for batch in accounts.chunks(STATUS_BATCH) {
            let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
            let out = c
                .enable()
                .set_account_ids(Some(ids))
                .set_resource_types(Some(types.clone()))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "Enable", site, "starting Inspector's scans"))?;
            if let Some(f) = out.failed_accounts().first() {
                return Err(hinted(
                    format!(
                        "Inspector did not start scanning {} in {} ({}: {})",
                        f.account_id(),
                        site.region,
                        f.error_code().as_str(),
                        f.error_message()
                    ),
                    "check that the account is an active member of the organization, then rerun",
                ));
            }
        }
        Ok(())
    }

    async fn run(c: &Client, site: &Site, op: &InOp) -> Result<()> {
        match op {
            InOp::UpdateOrganizationConfiguration { auto_enable } => {
                let scan = |s: &str| auto_enable.get(s).copied().unwrap_or(false);
                let auto = AutoEnable::builder()
                    .ec2(scan("ec2"))
                    .ecr(scan("ecr"))
                    .lambda(scan("lambda"))
                    .lambda_code(scan("lambda_code"))
                    .build()?;
                c.update_organization_configuration().auto_enable(auto).send().await.map_err(|e| {
                    call_error(e, SVC, "UpdateOrganizationConfiguration", site, "auto-enabling Inspector scans")
                })?;
            }
        }
        Ok(())
    }
}

/// Accounts a BatchGetAccountStatus or Enable call takes at most (API reference).
const STATUS_BATCH: usize = 100;

/// Account id → the resource types Inspector scans there (status ENABLED), for
/// these accounts, 100 a call. An account Security Tooling cannot read is
/// listed as scanning nothing.
async fn scanning(c: &Client, site: &Site, accounts: &[String]) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut out = BTreeMap::new();
    for batch in accounts.chunks(STATUS_BATCH) {
        let status =
            c.batch_get_account_status().set_account_ids(Some(batch.to_vec())).send().await.map_err(|e| {
                call_error(e, SVC, "BatchGetAccountStatus", site, "reading which accounts Inspector scans")
            })?;
        for a in status.accounts() {
            let Some(r) = a.resource_state() else { continue };
            let on = |s: Option<&aws_sdk_inspector2::types::State>| s.is_some_and(|s| *s.status() == Status::Enabled);
            let scans = [("ec2", r.ec2()), ("ecr", r.ecr()), ("lambda", r.lambda()), ("lambda_code", r.lambda_code())];
            out.insert(
                a.account_id().to_string(),
                scans.into_iter().filter(|(_, s)| on(*s)).map(|(n, _)| n.to_string()).collect(),
            );
        }
    }
    Ok(out)
}
