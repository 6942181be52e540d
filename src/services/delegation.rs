//! Organization-wide delegated administration to Security Tooling for the services
//! that delegate once for the whole organization: AWS Config, CloudTrail, IAM
//! Access Analyzer and Trusted Advisor. (Regional services delegate per region in
//! their own slices, e.g. `guardduty`.) `diff` is pure.

use anyhow::Result;

use crate::aws::{Sessions, call_error, error_code};
use crate::model::ServicesSpec;
use crate::report::Reporter;

pub use sra_core::services::delegation::*;

const SVC: &str = "organizations";

pub async fn observe(sessions: &Sessions, spec: &ServicesSpec, rep: &Reporter) -> Result<ObservedDelegations> {
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    // One listing per service principal, side by side.
    let found = futures_util::future::try_join_all(SERVICES.iter().filter(|(service, _)| enabled(spec, service)).map(
        |(_, principal)| {
            let (orgs, site) = (&orgs, &site);
            async move {
                rep.debug(format!("organizations:ListDelegatedAdministrators {principal}"));
                let pages = orgs
                    .list_delegated_administrators()
                    .service_principal(*principal)
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| {
                        call_error(
                            e,
                            SVC,
                            "ListDelegatedAdministrators",
                            site,
                            format!("reading who administers {principal}"),
                        )
                    })?;
                let ids = pages
                    .iter()
                    .flat_map(|p| p.delegated_administrators())
                    .filter_map(|a| a.id().map(str::to_string))
                    .collect();
                Ok::<_, anyhow::Error>((principal.to_string(), ids))
            }
        },
    ))
    .await?;
    Ok(found.into_iter().collect())
}

pub async fn run(service: &str, principal: &str, op: &DelegationOp, admin: &str, sessions: &Sessions) -> Result<()> {
    let site = sessions.site(&sessions.management_account);
    let orgs = sessions.base.organizations();
    if service == "cloudtrail" {
        let ct = aws_sdk_cloudtrail::Client::new(&sessions.base.config);
        match op {
            DelegationOp::Register => {
                ct.register_organization_delegated_admin().member_account_id(admin).send().await.map_err(|e| {
                    call_error(
                        e,
                        "cloudtrail",
                        "RegisterOrganizationDelegatedAdmin",
                        &site,
                        format!("delegating CloudTrail to {admin}"),
                    )
                })?;
            }
            DelegationOp::Deregister { account } => {
                ct.deregister_organization_delegated_admin().delegated_admin_account_id(account).send().await.map_err(
                    |e| {
                        call_error(
                            e,
                            "cloudtrail",
                            "DeregisterOrganizationDelegatedAdmin",
                            &site,
                            format!("removing {account} as CloudTrail's administrator"),
                        )
                    },
                )?;
            }
        }
        return Ok(());
    }
    match op {
        DelegationOp::Register => {
            let registered = crate::aws::retry_races(|| {
                orgs.register_delegated_administrator().account_id(admin).service_principal(principal).send()
            })
            .await;
            // Already registered: an earlier try whose answer was lost did it.
            if matches!(&registered, Err(e) if error_code(e) == Some("AccountAlreadyRegisteredException")) {
                return Ok(());
            }
            registered.map_err(|e| {
                call_error(
                    e,
                    SVC,
                    "RegisterDelegatedAdministrator",
                    &site,
                    format!("delegating {principal} to {admin}"),
                )
            })?;
        }
        DelegationOp::Deregister { account } => {
            crate::aws::retry_races(|| {
                orgs.deregister_delegated_administrator().account_id(account).service_principal(principal).send()
            })
            .await
            .map_err(|e| {
                call_error(
                    e,
                    SVC,
                    "DeregisterDelegatedAdministrator",
                    &site,
                    format!("removing {account} as {principal}'s administrator"),
                )
            })?;
        }
    }
    Ok(())
}
