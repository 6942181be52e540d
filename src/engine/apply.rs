//! The executor: runs a plan's steps in the plan's order. It resolves ids that
//! earlier steps produce (a new OU's id, a new account's id, the new key's ARN) and
//! decides nothing else: what to do and in which order is the plan's.

use std::collections::HashMap;

use anyhow::{Result, anyhow};

use super::order;
use super::plan::{Address, Change, IdRef, Plan, Step};
use crate::aws::Sessions;
use crate::model::{AccountRole, Desired};
use crate::report::Reporter;
use crate::services::guardrails::{self, GuardrailOp};
use crate::services::log_archive;
use crate::services::organizations::{self as orgs, Waits};

/// Ids produced during this apply, by the reference that names them.
#[derive(Default)]
struct Produced(HashMap<IdRef, String>);

impl Produced {
    fn resolve(&self, r: &IdRef) -> Result<String> {
        match r {
            IdRef::Known(id) => Ok(id.clone()),
            other => self
                .0
                .get(other)
                .cloned()
                .ok_or_else(|| anyhow!("internal error: {other} was not produced by an earlier step")),
        }
    }
}

/// What apply did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Applied {
    pub steps: usize,
}

pub async fn apply(
    plan: &Plan,
    desired: &Desired,
    sessions: &Sessions,
    waits: Waits,
    rep: &Reporter,
) -> Result<Applied> {
    let client = sessions.base.organizations();
    let site = sessions.site(&plan.caller_account);
    let mut produced = Produced::default();
    let mut ids = plan.ids.clone();
    let mut applied = Applied::default();
    let mut policy_ids: HashMap<String, String> = plan
        .changes
        .iter()
        .filter_map(|c| match (&c.address, &c.id) {
            (Address::Guardrail(name), Some(id)) => Some((name.clone(), id.clone())),
            _ => None,
        })
        .collect();
    let steps: Vec<(&Change, &Step)> = plan.steps().collect();
    let mut i = 0;
    while i < steps.len() {
        let (change, step) = steps[i];
        if lane(step).is_some() {
            let stage = order::stage(&change.address);
            let mut j = i;
            while j < steps.len() && lane(steps[j].1).is_some() && order::stage(&steps[j].0.address) == stage {
                j += 1;
            }
            let in_order = matches!(change.address, Address::DelegatedAdmin { .. });
            run_wave(&steps[i..j], in_order, desired, &ids, &produced, sessions, rep).await?;
            applied.steps += j - i;
            i = j;
            continue;
        }
        if matches!(change.address, Address::Account(_)) {
            // The two accounts' steps run side by side, each account's in the
            // plan's order: CreateAccount takes minutes on AWS, twice in a row
            // would double it.
            let mut j = i;
            while j < steps.len() && matches!(steps[j].0.address, Address::Account(_)) {
                j += 1;
            }
            for (role, id) in run_accounts(&steps[i..j], &produced, &client, &site, waits, rep).await? {
                account_produced(&mut produced, &mut ids, role, id);
            }
            applied.steps += j - i;
            i = j;
            continue;
        }
        i += 1;
        let addr = change.address.to_string();
        rep.progress(format!("{addr}: {}", step.phrase().progress()));
        match step {
            Step::CreateOrganization => {
                let (org_id, root) = orgs::create_organization(&client, &site).await?;
                ids.org_id = Some(org_id);
                produced.0.insert(IdRef::Root, root);
            }
            Step::CreateOu { path, parent } => {
                let parent_id = produced.resolve(parent)?;
                let id = orgs::create_ou(&client, &site, &parent_id, path, rep).await?;
                produced.0.insert(IdRef::Ou(path.clone()), id);
            }
            Step::CreateAccount { .. }
            | Step::AwaitAccount { .. }
            | Step::MoveAccount { .. }
            | Step::TagAccount { .. } => {
                unreachable!("account steps run in run_accounts")
            }
            Step::EnableServiceAccess { principal } => {
                orgs::enable_service_access(&client, &site, principal).await?;
            }
            Step::Guardrail { policy, op } => {
                let target = match op {
                    GuardrailOp::EnablePolicyType { root, .. } => Some(produced.resolve(root)?),
                    GuardrailOp::Attach { target, .. } => Some(produced.resolve(target)?),
                    _ => None,
                };
                let refs =
                    guardrails::Refs { ids: &ids, log_archive: &desired.log_archive, baselines: &desired.baselines };
                guardrails::run(
                    policy,
                    op,
                    target.as_deref(),
                    &desired.guardrails,
                    &refs,
                    &mut policy_ids,
                    sessions,
                    rep,
                )
                .await?;
            }
            Step::GuardDuty { .. }
            | Step::SecurityHub { .. }
            | Step::Inspector { .. }
            | Step::Macie { .. }
            | Step::Detective { .. }
            | Step::Config { .. }
            | Step::AccessAnalyzer { .. }
            | Step::Baseline { .. } => unreachable!("regional steps run in waves"),
            Step::Delegate { service, principal, op } => {
                let admin = ids.security_tooling.clone().ok_or_else(|| {
                    crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply")
                })?;
                crate::services::delegation::run(service, principal, op, &admin, sessions).await?;
            }
            Step::LogArchive { target, op } => {
                log_archive::run(*target, *op, &desired.log_archive, &mut ids, sessions, rep).await?;
            }
            Step::PlanRole { account, role, op } => {
                let account_id = match account {
                    AccountRole::LogArchive => ids.log_archive.clone(),
                    AccountRole::SecurityTooling => ids.security_tooling.clone(),
                }
                .ok_or_else(|| {
                    crate::aws::hinted(format!("{} does not exist yet", account.label()), "rerun sra apply")
                })?;
                crate::services::plan_role::run(*account, &account_id, role, *op, &ids, sessions, rep).await?;
            }
        }
        applied.steps += 1;
    }
    Ok(applied)
}

/// The Account stage: each account's steps in order (create or await, move, tag),
/// the accounts concurrently. Returns the ids of the accounts made or awaited. Both
/// lanes finish before an error is returned, so a request sent is never dropped
/// half-way (a rerun adopts what it made either way).
async fn run_accounts(
    steps: &[(&Change, &Step)],
    produced: &Produced,
    client: &aws_sdk_organizations::Client,
    site: &crate::aws::Site,
    waits: Waits,
    rep: &Reporter,
) -> Result<Vec<(AccountRole, String)>> {
    let mut lanes: Vec<(AccountRole, Vec<(&Change, &Step)>)> = Vec::new();
    for &(change, step) in steps {
        let Address::Account(role) = change.address else { continue };
        match lanes.iter_mut().find(|(r, _)| *r == role) {
            Some((_, list)) => list.push((change, step)),
            None => lanes.push((role, vec![(change, step)])),
        }
    }
    let results = futures_util::future::join_all(lanes.into_iter().map(|(role, list)| async move {
        let mut made: Option<String> = None;
        let resolve = |r: &IdRef, made: &Option<String>| match r {
            IdRef::Account(x) if *x == role => {
                made.clone().ok_or_else(|| anyhow!("internal error: account.{} was not made yet", role.key()))
            }
            other => produced.resolve(other),
        };
        for (change, step) in list {
            rep.progress(format!("{}: {}", change.address, step.phrase().progress()));
            match step {
                Step::CreateAccount { role, name, email, access_role, tags } => {
                    let request =
                        orgs::create_account(client, site, *role, name, email, access_role, tags, rep).await?;
                    made = Some(orgs::await_account(client, site, *role, email, &request, waits, rep).await?);
                }
                Step::AwaitAccount { role, request_id, email } => {
                    made = Some(orgs::await_account(client, site, *role, email, request_id, waits, rep).await?);
                }
                Step::MoveAccount { account, from, to } => {
                    let (account, from, to) = (resolve(account, &made)?, resolve(from, &made)?, resolve(to, &made)?);
                    orgs::move_account(client, site, &account, &from, &to).await?;
                }
                Step::TagAccount { account, tags } => {
                    let account = resolve(account, &made)?;
                    orgs::tag_account(client, site, &account, tags).await?;
                }
                other => {
                    return Err(anyhow!("internal error: \"{}\" is not an account step", other.phrase().progress()));
                }
            }
        }
        Ok::<_, anyhow::Error>(made.map(|id| (role, id)))
    }))
    .await;
    let mut out = Vec::new();
    for r in results {
        if let Some(made) = r? {
            out.push(made);
        }
    }
    Ok(out)
}

fn account_produced(produced: &mut Produced, ids: &mut log_archive::Ids, role: AccountRole, id: String) {
    match role {
        AccountRole::LogArchive => ids.log_archive = Some(id.clone()),
        AccountRole::SecurityTooling => ids.security_tooling = Some(id.clone()),
    }
    produced.0.insert(IdRef::Account(role), id);
}

/// The lane a regional step runs in: (service, lane). Steps of one lane run in
/// order; lanes of one service run concurrently, at most
/// [`crate::aws::REGIONS_PER_SERVICE`] at a time. None: the step runs alone.
fn lane(step: &Step) -> Option<(&'static str, String)> {
    Some(match step {
        Step::GuardDuty { region, .. } => ("guardduty", region.clone()),
        Step::SecurityHub { region, .. } => ("securityhub", region.clone()),
        Step::Inspector { region, .. } => ("inspector", region.clone()),
        Step::Macie { region, .. } => ("macie", region.clone()),
        Step::Detective { region, .. } => ("detective", region.clone()),
        Step::AccessAnalyzer { region } => ("access_analyzer", region.clone()),
        Step::Config { account, region, .. } => ("config", format!("{region}/{}", account.key())),
        // Each account's baselines in order, each region's apart; accounts and
        // regions side by side.
        Step::Baseline { label, op, .. } => {
            use crate::services::baselines::Op;
            match op {
                Op::EnableEbsEncryption { region } | Op::Config { region, .. } => {
                    ("baseline", format!("{label}/{region}"))
                }
                Op::PutPublicAccessBlock | Op::UpdatePasswordPolicy { .. } | Op::PutSecurityContact { .. } => {
                    ("baseline", label.clone())
                }
            }
        }
        _ => return None,
    })
}

/// Steps that name other regions than their own (an aggregator linking the
/// governed regions, and Security Hub's central configuration, which holds in
/// every linked region and needs the aggregator first): they run after the rest
/// of their wave, in plan order.
fn cross_region(step: &Step) -> bool {
    use crate::services::{config::CfOp, regional::Op, securityhub::ShOp};
    matches!(
        step,
        Step::SecurityHub {
            op: Op::Own(
                ShOp::CreateFindingAggregator { .. }
                    | ShOp::UpdateFindingAggregator { .. }
                    | ShOp::StartCentralConfiguration
                    | ShOp::CreateConfigurationPolicy { .. }
                    | ShOp::UpdateConfigurationPolicy { .. }
                    | ShOp::AssociateWithRoot { .. }
            ),
            ..
        } | Step::Config { op: CfOp::PutAggregator { .. } | CfOp::PutAggregatorRole, .. }
    )
}

/// The step with the organization's root resolved, when this apply created it.
fn with_root(step: &Step, produced: &Produced) -> Result<Step> {
    use crate::services::{regional::Op, securityhub::ShOp};
    Ok(match step {
        Step::SecurityHub { region, op: Op::Own(ShOp::AssociateWithRoot { root, policy }) } => Step::SecurityHub {
            region: region.clone(),
            op: Op::Own(ShOp::AssociateWithRoot {
                root: IdRef::Known(produced.resolve(root)?),
                policy: policy.clone(),
            }),
        },
        other => other.clone(),
    })
}

/// The former administrator a regional step removes, if it removes one.
fn removal(step: &Step) -> Option<&str> {
    use crate::services::regional::Op::DisableAdmin;
    match step {
        Step::GuardDuty { op: DisableAdmin { account }, .. }
        | Step::SecurityHub { op: DisableAdmin { account }, .. }
        | Step::Inspector { op: DisableAdmin { account }, .. }
        | Step::Macie { op: DisableAdmin { account }, .. }
        | Step::Detective { op: DisableAdmin { account }, .. } => Some(account),
        _ => None,
    }
}

/// After a former administrator is removed in every region: what its service
/// still documents (GuardDuty: deregister it in Organizations).
async fn removed_everywhere(step: &Step, account: &str, sessions: &Sessions) -> Result<()> {
    use crate::services::regional::deregister_former;
    use crate::services::{
        detective::Detective, guardduty::GuardDuty, inspector::Inspector, macie::Macie, securityhub::SecurityHub,
    };
    match step {
        Step::GuardDuty { .. } => deregister_former::<GuardDuty>(account, sessions).await,
        Step::SecurityHub { .. } => deregister_former::<SecurityHub>(account, sessions).await,
        Step::Inspector { .. } => deregister_former::<Inspector>(account, sessions).await,
        Step::Macie { .. } => deregister_former::<Macie>(account, sessions).await,
        Step::Detective { .. } => deregister_former::<Detective>(account, sessions).await,
        _ => Ok(()),
    }
}

/// Run consecutive regional steps of one stage. Each service's lanes (regions)
/// run concurrently under the per-service cap, and services run side by side;
/// steps naming other regions wait for the rest. With `in_order` (delegation)
/// services run one after another and each service's first lane runs alone
/// first: enabling an administrator in every region at once registers it with
/// Organizations in each and has been seen to fail in all but one region.
async fn run_wave(
    steps: &[(&Change, &Step)],
    in_order: bool,
    desired: &Desired,
    ids: &log_archive::Ids,
    produced: &Produced,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    let mut services: Vec<(&'static str, Vec<(String, Lane<'_>)>)> = Vec::new();
    let mut later = Vec::new();
    // Former administrators go first, in every region, before any new one is
    // designated: Inspector refuses an administrator that differs from another
    // Region's, and GuardDuty's sequence deregisters the former one only once it
    // is removed everywhere.
    let removals: Vec<(&Change, &Step)> = steps.iter().copied().filter(|(_, step)| removal(step).is_some()).collect();
    for &(change, step) in &removals {
        run_regional(&change.address.to_string(), step, desired, ids, sessions, rep).await?;
    }
    let mut former: Vec<(&Step, &str)> = Vec::new();
    for &(_, step) in &removals {
        if let Some(account) = removal(step)
            && !former.iter().any(|(s, a)| lane(s).map(|l| l.0) == lane(step).map(|l| l.0) && *a == account)
        {
            former.push((step, account));
        }
    }
    for (step, account) in former {
        removed_everywhere(step, account, sessions).await?;
    }
    for &(change, step) in steps {
        if removal(step).is_some() {
            continue;
        }
        if cross_region(step) {
            later.push((change, step));
            continue;
        }
        let (service, key) = lane(step).expect("a wave holds regional steps only");
        let pos = match services.iter().position(|(s, _)| *s == service) {
            Some(p) => p,
            None => {
                services.push((service, Vec::new()));
                services.len() - 1
            }
        };
        let lanes = &mut services[pos].1;
        match lanes.iter_mut().find(|(k, _)| *k == key) {
            Some((_, l)) => l.push((change, step)),
            None => lanes.push((key, vec![(change, step)])),
        }
    }
    if in_order {
        for (_, lanes) in services {
            run_service(lanes, in_order, desired, ids, sessions, rep).await?;
        }
    } else {
        futures_util::future::try_join_all(
            services.into_iter().map(|(_, lanes)| run_service(lanes, in_order, desired, ids, sessions, rep)),
        )
        .await?;
    }
    for (change, step) in later {
        let step = with_root(step, produced)?;
        run_regional(&change.address.to_string(), &step, desired, ids, sessions, rep).await?;
    }
    Ok(())
}

/// One region's steps of one service, in plan order.
type Lane<'a> = Vec<(&'a Change, &'a Step)>;

async fn run_lane(
    lane: Lane<'_>,
    desired: &Desired,
    ids: &log_archive::Ids,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    for (change, step) in lane {
        run_regional(&change.address.to_string(), step, desired, ids, sessions, rep).await?;
    }
    Ok(())
}

async fn run_service(
    lanes: Vec<(String, Lane<'_>)>,
    in_order: bool,
    desired: &Desired,
    ids: &log_archive::Ids,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    use futures_util::{StreamExt, TryStreamExt};
    // Baselines' lanes are accounts and their regions, each account with its own
    // rate limits: as many at once as requests may be in flight (the management
    // account's shared calls are paced).
    let cap = match lanes.first().and_then(|(_, l)| l.first()) {
        Some((_, Step::Baseline { .. })) => crate::pace::IN_FLIGHT,
        _ => crate::aws::REGIONS_PER_SERVICE,
    };
    let mut lanes = lanes.into_iter().map(|(_, l)| l);
    if in_order && let Some(first) = lanes.next() {
        run_lane(first, desired, ids, sessions, rep).await?;
    }
    futures_util::stream::iter(lanes)
        .map(|lane| run_lane(lane, desired, ids, sessions, rep))
        .buffer_unordered(cap)
        .try_collect::<()>()
        .await
}

/// One regional security-service step; these only read the ids.
async fn run_regional(
    addr: &str,
    step: &Step,
    desired: &Desired,
    ids: &log_archive::Ids,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    use crate::services::regional::run;
    use crate::services::{
        accessanalyzer, config, detective::Detective, guardduty::GuardDuty, inspector::Inspector, macie::Macie,
        securityhub::SecurityHub,
    };
    rep.progress(format!("{addr}: {}", step.phrase().progress()));
    if let Step::Baseline { account, op, .. } = step {
        let id = match account {
            IdRef::Known(id) => id.clone(),
            IdRef::Account(AccountRole::SecurityTooling) => ids.security_tooling.clone().unwrap_or_default(),
            IdRef::Account(AccountRole::LogArchive) => ids.log_archive.clone().unwrap_or_default(),
            other => unreachable!("baselines name accounts, not {other}"),
        };
        if id.is_empty() {
            return Err(crate::aws::hinted("the account does not exist yet", "rerun sra apply"));
        }
        let bucket = ids.bucket_name(&desired.log_archive, log_archive::BucketKind::Log);
        return crate::services::baselines::run(sessions, &id, op, ids, &bucket, rep).await;
    }
    if let Step::Config { account, region, op } = step {
        let bucket = ids.bucket_name(&desired.log_archive, log_archive::BucketKind::Log);
        return config::run(*account, region, op, ids, &bucket, sessions, rep).await;
    }
    let admin = ids
        .security_tooling
        .clone()
        .ok_or_else(|| crate::aws::hinted("the Security Tooling account does not exist yet", "rerun sra apply"))?;
    match step {
        Step::GuardDuty { region, op } => run::<GuardDuty>(region, op, &admin, sessions, rep).await,
        Step::SecurityHub { region, op } => run::<SecurityHub>(region, op, &admin, sessions, rep).await,
        Step::Inspector { region, op } => run::<Inspector>(region, op, &admin, sessions, rep).await,
        Step::Macie { region, op } => run::<Macie>(region, op, &admin, sessions, rep).await,
        Step::Detective { region, op } => run::<Detective>(region, op, &admin, sessions, rep).await,
        Step::AccessAnalyzer { region } => accessanalyzer::run(region, &admin, sessions, rep).await,
        _ => unreachable!("not a regional step"),
    }
}
