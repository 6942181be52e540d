//! Organization-wide delegated administration to Security Tooling for the services
//! that delegate once for the whole organization: AWS Config, CloudTrail, IAM
//! Access Analyzer and Trusted Advisor. (Regional services delegate per region in
//! their own slices, e.g. `guardduty`.) `diff` is pure.

use anyhow::Result;

use crate::aws::{Sessions, call_error, error_code};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::model::ServicesSpec;
use crate::report::Reporter;

const SVC: &str = "organizations";

/// A service delegated organization-wide: (name in the plan file, delegation principal).
pub const SERVICES: &[(&str, &str)] = &[
    ("config", "config.amazonaws.com"),
    ("cloudtrail", "cloudtrail.amazonaws.com"),
    ("access_analyzer", "access-analyzer.amazonaws.com"),
    ("trusted_advisor", "reporting.trustedadvisor.amazonaws.com"),
];

/// The region label of organization-wide delegations in addresses.
pub const ORGANIZATION: &str = "organization";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelegationOp {
    Register,
    Deregister { account: String },
}

pub fn enabled(spec: &ServicesSpec, service: &str) -> bool {
    spec.delegated.get(service).copied().unwrap_or(true)
}

/// Delegated administrators per principal, as Organizations lists them.
pub type ObservedDelegations = std::collections::BTreeMap<String, Vec<String>>;

pub fn diff(spec: &ServicesSpec, admin: Option<&str>, have: &ObservedDelegations) -> (Vec<Change>, Vec<String>) {
    let mut changes = Vec::new();
    let mut destructive = Vec::new();
    for (service, principal) in SERVICES {
        if !enabled(spec, service) {
            continue;
        }
        let admins = have.get(*principal).cloned().unwrap_or_default();
        let is_admin = admin.is_some_and(|a| admins.iter().any(|x| x == a));
        let address = Address::DelegatedAdmin { service, region: ORGANIZATION.to_string() };
        let step = |op| Step::Delegate { service, principal, op };
        let mut c = Change {
            address: address.clone(),
            action: Action::NoOp,
            id: admin.map(str::to_string),
            properties: vec![Property {
                name: "admin_account".into(),
                before: (!admins.is_empty()).then(|| admins.join(", ")),
                after: Some(admin.unwrap_or(crate::services::log_archive::UNKNOWN).to_string()),
            }],
            reason: String::new(),
            steps: vec![],
            manual: vec![],
        };
        if !is_admin {
            let others: Vec<&String> = admins.iter().filter(|x| Some(x.as_str()) != admin).collect();
            if others.is_empty() {
                c.action = Action::Create;
                c.reason = format!("Security Tooling becomes the delegated administrator of {principal}");
            } else {
                c.action = Action::Update;
                let list = others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                c.reason = format!("DESTRUCTIVE: replaces the delegated administrator {list} with Security Tooling");
                destructive.push(format!("{address} replaces the delegated administrator {list}"));
                for o in others {
                    c.steps.push(step(DelegationOp::Deregister { account: o.clone() }));
                }
            }
            c.steps.push(step(DelegationOp::Register));
        }
        changes.push(c);
    }
    (changes, destructive)
}

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
