//! Live state: read the organization as it is (observe), diff it against the plan
//! file's desired model (compute).
//! Both `cli` (plan, apply) and `init` use it.

use anyhow::Result;

use crate::aws::{Aws, Sessions, Site};
use crate::engine::{diff::diff, plan::Plan};
use crate::lock::Lock;
use crate::model::AccountRole;
use crate::model::Desired;
use crate::render::document::PlanDocument;
use crate::report::Reporter;
use crate::services::detective::{Detective, DetectiveSpec};
use crate::services::organizations;
use crate::services::{accessanalyzer, baselines, config, delegation, guardrails, log_archive, plan_role, regional};
use crate::services::{guardduty::GuardDuty, inspector::Inspector, macie::Macie, securityhub::SecurityHub};

/// A computed plan and what rendering it needs besides.
pub struct Computed {
    pub plan: Plan,
    pub applied_digest: Option<String>,
    pub root_id: Option<String>,
    /// What was read (`sra posture` joins it with the findings).
    pub observed: Box<crate::model::Observed>,
}

impl Computed {
    pub fn document(&self, plan_path: &str, desired: &Desired) -> PlanDocument {
        let digest = desired.digest();
        let applied_before = self.applied_digest.as_ref().map(|d| *d == digest);
        crate::render::document::document(&self.plan, plan_path, desired, applied_before)
    }
}

/// Which role reads the member accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `sra plan` and `sra init`: the read-only plan role when the plan file
    /// names one (`organization.plan_role`), else the access role.
    Plan,
    /// `sra apply`: the access role it then writes with.
    Apply,
}

pub async fn compute(
    aws: &Aws,
    desired: &Desired,
    lock: Option<&Lock>,
    reader: Reader,
    rep: &Reporter,
) -> Result<Computed> {
    rep.progress("reading live state");
    let (start, answered) = (std::time::Instant::now(), aws.answered());
    let status = || {
        let calls = aws.answered() - answered;
        format!("reading live state: {calls} calls answered in {}s", start.elapsed().as_secs())
    };
    // On the heap: a whole observation is a large future, and every command that
    // awaits it would carry it on the main thread's stack.
    let read = Box::pin(async {
        match observe(aws, desired, lock, reader, rep).await {
            Err(e) if e.is::<organizations::StaleLock>() => {
                rep.progress(format!("{e}: finding the accounts by email"));
                observe(aws, desired, None, reader, rep).await
            }
            other => other,
        }
    });
    rep.while_running(read, status).await
}

/// Read live state as a dataflow: each read starts as soon as what it needs is
/// known. The organization and its root first; then the plan's accounts (from
/// the lock file at once, or by listing every account); then everything else side
/// by side: the rest of the organization, the guardrails once the OUs are known,
/// the log archive, every service, and the list of every account when coverage
/// needs it and the lock file spared listing them.
async fn observe(
    aws: &Aws,
    desired: &Desired,
    lock: Option<&Lock>,
    reader: Reader,
    rep: &Reporter,
) -> Result<Computed> {
    let read_role = desired.plan_role.clone().filter(|_| reader == Reader::Plan);
    // With a lock file, the plan's accounts are known before anything is read:
    // their sessions open while the organization is identified. Only a head start:
    // a failure here is forgotten (the read below fails and says why), and an id
    // the checks below reject is never used.
    let early: Vec<String> = lock.map(|l| l.accounts.values().cloned().collect()).unwrap_or_default();
    let mut early_sessions = Sessions::new(aws.clone(), String::new(), desired.access_role.clone());
    early_sessions.role_timeout = std::time::Duration::ZERO;
    early_sessions.read_role = read_role.clone();
    let prefetch = futures_util::future::join_all(early.iter().map(|id| {
        let early_sessions = &early_sessions;
        async move { (id.clone(), early_sessions.config(id, rep).await) }
    }));
    let (observed, prefetched) = tokio::join!(organizations::identify(aws, rep), prefetch);
    let mut observed = observed?;
    let managed = observed.organization.as_ref().filter(|o| o.management_account_id == observed.caller_account);
    let Some(org) = managed.cloned() else {
        // No organization yet, or a member account's credentials: nothing more to read.
        let plan = diff(desired, &observed);
        return Ok(Computed { plan, applied_digest: None, root_id: None, observed: Box::new(observed) });
    };
    let lock = lock.filter(|l| {
        if l.organization_id != org.id {
            rep.progress(format!(
                "the lock file is for organization {}, not {}: finding the accounts by email",
                l.organization_id, org.id
            ));
        }
        l.organization_id == org.id
    });
    let site = Site { account: observed.caller_account.clone(), region: aws.region.clone() };
    let from_lock = lock.and_then(|l| organizations::from_lock(desired, l));
    let locked = from_lock.is_some();
    // Without a lock file, the listing stops once it has named the plan's
    // accounts (or ends): the rest of it runs beside everything else, below.
    let mut listing = None;
    (observed.accounts, observed.accounts_complete) = match from_lock {
        Some(accounts) => (accounts, false),
        None => {
            let mut l = organizations::AccountListing::start(&aws.organizations(), rep);
            let named = |w: &crate::model::DesiredAccount, listed: &[crate::model::ObservedAccount]| {
                listed.iter().any(|a| a.email.eq_ignore_ascii_case(&w.email))
            };
            l.until(&site, |listed| desired.accounts.iter().all(|w| named(w, listed))).await?;
            let first = (l.accounts.clone(), l.is_complete());
            listing = Some(l);
            first
        }
    };
    let ids = crate::engine::diff::ids(desired, &observed);
    let mut sessions = Sessions::new(aws.clone(), observed.caller_account.clone(), desired.access_role.clone());
    sessions.read_role = read_role;
    if locked {
        // Until DescribeAccount confirms the lock file's ids, an id may name an
        // account whose role will never be assumable: fail at once, never wait.
        sessions.role_timeout = std::time::Duration::ZERO;
        for (id, config) in prefetched {
            if let Ok(config) = config
                && id != observed.caller_account
            {
                sessions.prime(&id, config);
            }
        }
    }
    let root_id = org.root_id.clone();

    let guardrails = |ous: std::collections::BTreeMap<crate::model::OuPath, String>| {
        let mut targets = vec![root_id.clone()];
        targets.extend(desired.guardrail_ous().iter().filter_map(|p| ous.get(p).cloned()));
        let sessions = &sessions;
        async move {
            let found = if desired.guardrails.enabled {
                guardrails::observe(sessions, (org.scp_enabled, org.rcp_enabled), &targets, rep).await?
            } else {
                Default::default()
            };
            Ok((ous, found))
        }
    };
    let org_state = organizations::state(aws, desired, &observed, locked, guardrails, rep);
    // Every account, when coverage or the baselines need them all; then every
    // active account's baselines, beside the other reads.
    // Every account records with Config when the Config service and the log
    // archive are on; Security Tooling's and Log Archive's are the service's own.
    let recording = delegation::enabled(&desired.services, "config") && desired.log_archive.enabled;
    let managed: Vec<String> = [&ids.security_tooling, &ids.log_archive].into_iter().flatten().cloned().collect();
    let everyone = async {
        let needed = desired.services.checks_members() || desired.baselines.any();
        // Each active account goes to the baselines' reads as its page arrives.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let listed = async {
            let tx = tx;
            let send = |accounts: &[crate::model::ObservedAccount]| {
                for a in accounts.iter().filter(|a| a.status == "ACTIVE") {
                    let _ = tx.send(a.id.clone());
                }
            };
            if observed.accounts_complete || !needed {
                send(&observed.accounts);
                return Ok(None);
            }
            let listing = listing.unwrap_or_else(|| organizations::AccountListing::start(&aws.organizations(), rep));
            Ok::<_, anyhow::Error>(Some(listing.finish_each(&site, send).await?))
        };
        let active = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|a| (a, rx)) });
        let baselines = baselines::observe(
            &sessions,
            &desired.baselines,
            &desired.governed_regions,
            active,
            Some(root_id.as_str()).filter(|r| !r.is_empty()),
            ids.log_archive.as_deref(),
            recording.then_some(managed.as_slice()),
            rep,
        );
        tokio::try_join!(listed, baselines)
    };
    let services = async {
        let admin = ids.security_tooling.as_deref();
        let regions = &desired.governed_regions;
        let services = &desired.services;
        let config_on = delegation::enabled(services, "config");
        let analyzers_on = delegation::enabled(services, "access_analyzer");
        let detective = DetectiveSpec { enabled: services.detective, guardduty_enabled: services.guardduty.enabled };
        tokio::try_join!(
            delegation::observe(&sessions, services, rep),
            regional::observe::<Inspector>(&sessions, &services.inspector, regions, admin, rep),
            accessanalyzer::observe(&sessions, analyzers_on, regions, admin, rep),
            regional::observe::<Macie>(&sessions, &services.macie, regions, admin, rep),
            config::observe(&sessions, config_on, config_on && desired.log_archive.enabled, regions, &ids, rep),
            regional::observe::<Detective>(&sessions, &detective, regions, admin, rep),
            regional::observe::<SecurityHub>(&sessions, &services.securityhub, regions, admin, rep),
            regional::observe::<GuardDuty>(&sessions, &services.guardduty, regions, admin, rep),
        )
    };
    let log_archive = log_archive::observe(&sessions, &desired.log_archive, &ids, rep);
    let plan_roles = async {
        let mut out = plan_role::ObservedPlanRoles::new();
        let Some(role) = desired.plan_role.as_deref() else { return Ok(out) };
        let accounts: Vec<_> = plan_role::ACCOUNTS
            .iter()
            .filter_map(|&a| match a {
                AccountRole::SecurityTooling => ids.security_tooling.clone().map(|id| (a, id)),
                AccountRole::LogArchive => ids.log_archive.clone().map(|id| (a, id)),
            })
            .collect();
        let read = futures_util::future::try_join_all(accounts.iter().map(|(a, id)| {
            let sessions = &sessions;
            async move { Ok::<_, anyhow::Error>((*a, plan_role::observe(sessions, id, role, rep).await?)) }
        }))
        .await?;
        out.extend(read);
        Ok::<_, anyhow::Error>(out)
    };
    let (org_state, log_archive, everyone, services, plan_roles) =
        tokio::join!(org_state, log_archive, everyone, services, plan_roles);

    // The organization decides first: what blocks the plan (a suspended account,
    // say) is reported as such even if reading its services failed because of it.
    let (org_state, guardrails) = org_state?;
    org_state.merge_into(&mut observed);
    let applied_digest = observed.applied_digest.clone();
    let root_id = Some(root_id).filter(|r| !r.is_empty());
    let plan = diff(desired, &observed);
    if !plan.blockers.is_empty() {
        return Ok(Computed { plan, applied_digest, root_id, observed: Box::new(observed) });
    }
    observed.guardrails = guardrails;
    observed.log_archive = log_archive?;
    observed.plan_roles = plan_roles?;
    (
        observed.delegations,
        observed.inspector,
        observed.analyzers,
        observed.macie,
        observed.config,
        observed.detective,
        observed.securityhub,
        observed.guardduty,
    ) = services?;
    let (all, baselines) = everyone?;
    if let Some(all) = all {
        observed.merge_accounts(all);
    }
    observed.baselines = baselines;
    let plan = diff(desired, &observed);
    Ok(Computed { plan, applied_digest, root_id, observed: Box::new(observed) })
}
