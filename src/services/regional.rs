//! The I/O half of the regional security services, written once: reading a
//! service in every governed region ([`observe`]) and running its steps
//! ([`run`]), with the management account's delegated-administrator calls, the
//! wait until a new administrator is accepted, and enrolling every account.
//! Each service implements [`Io`] with only its own SDK calls; the pure half
//! (`sra_core::services::regional`) has the diff.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::aws::{CallError, Failure, Sessions, Site};
use crate::report::Reporter;
use anyhow::Result;
use aws_config::SdkConfig;

pub use sra_core::services::regional::*;

/// What a regional service's delegated-administrator calls are called, for errors.
pub struct AdminCalls {
    /// The service as users know it ("Security Hub").
    pub name: &'static str,
    /// The service's IAM prefix ("securityhub").
    pub svc: &'static str,
    pub list: &'static str,
    pub enable: &'static str,
    pub disable: &'static str,
}

impl AdminCalls {
    /// AWS's usual names: List/Enable/DisableOrganizationAdminAccount(s).
    pub const fn organization(name: &'static str, svc: &'static str) -> Self {
        AdminCalls {
            name,
            svc,
            list: "ListOrganizationAdminAccounts",
            enable: "EnableOrganizationAdminAccount",
            disable: "DisableOrganizationAdminAccount",
        }
    }
}

/// A regional service's own SDK calls. Everything else (the per-region loop,
/// the management account's calls and their errors, waiting until the
/// delegation reaches Security Tooling, enrolling every account) is written once
/// in [`observe`] and [`run`].
pub trait Io: Service<Op: Clone, Settings: Clone> {
    const CALLS: AdminCalls;
    type Client;

    fn client(config: &SdkConfig, region: &str) -> Self::Client;
    /// From the management account: the delegated administrators (ids).
    fn list_admins(c: &Self::Client) -> impl Future<Output = Result<Vec<String>, Failure>>;
    fn enable_admin_call(c: &Self::Client, account: &str) -> impl Future<Output = Result<(), Failure>>;
    fn disable_admin_call(c: &Self::Client, account: &str) -> impl Future<Output = Result<(), Failure>>;
    /// In Security Tooling, administrator or not: the reads the others depend on
    /// (whether the service is on there, its detector or graph).
    fn read_own(c: &Self::Client, site: &Site) -> impl Future<Output = Result<Self::Settings>>;
    /// Whether the members can be listed, given `own` (and being the administrator).
    fn members_listable(own: &Self::Settings) -> bool;
    /// In Security Tooling: the rest of its settings, the organization's only when
    /// it is the administrator (`is_admin`).
    fn read_settings(
        c: &Self::Client,
        site: &Site,
        own: Self::Settings,
        is_admin: bool,
    ) -> impl Future<Output = Result<Self::Settings>>;
    /// In Security Tooling, the administrator: the ids of the accounts it covers:
    /// members with all of `with` (the service's [`Service::enrolment`]) on.
    fn read_members(
        c: &Self::Client,
        site: &Site,
        own: &Self::Settings,
        with: &[String],
    ) -> impl Future<Output = Result<BTreeSet<String>>>;
    /// In Security Tooling: enroll these (account id, email) pairs as members and
    /// turn `with` on in each.
    fn enroll(
        c: &Self::Client,
        site: &Site,
        accounts: &[(String, String)],
        with: &[String],
    ) -> impl Future<Output = Result<()>>;
    /// In Security Tooling: one of the service's own operations.
    fn run(c: &Self::Client, site: &Site, op: &Self::Op) -> impl Future<Output = Result<()>>;
    /// From the management account: whether the service is on there, for
    /// services whose administrator cannot turn it on there (None: not needed).
    fn read_management(_c: &Self::Client, _site: &Site) -> impl Future<Output = Result<Option<bool>>> {
        async { Ok(None) }
    }
    /// Whether one of the service's own operations runs from the management
    /// account rather than in Security Tooling.
    fn in_management(_op: &Self::Op) -> bool {
        false
    }
    /// What the service's documented sequence does in a former administrator
    /// (`account`, in `region`) before the management account removes it: for
    /// GuardDuty, stop auto-enable and remove its members.
    fn before_removal(
        _sessions: &Sessions,
        _region: &str,
        _account: &str,
        _rep: &Reporter,
    ) -> impl Future<Output = Result<()>> {
        async { Ok(()) }
    }
    /// The service principal whose Organizations registration outlives removing
    /// the administrator in every Region, and which sra deregisters once it is
    /// removed everywhere (GuardDuty's one-time global step).
    const DEREGISTER_AFTER_REMOVAL: Option<&'static str> = None;
}

/// Security Tooling's configuration, when the plan names its account: opened once
/// per service, before the regions are read side by side.
pub async fn admin_config(sessions: &Sessions, admin: Option<&str>, rep: &Reporter) -> Result<Option<SdkConfig>> {
    match admin {
        Some(a) => Ok(Some(sessions.config(a, rep).await?)),
        None => Ok(None),
    }
}

/// A service in every governed region: its administrators (management account)
/// and Security Tooling's own reads side by side; then, where Security Tooling is
/// the administrator, its settings and its members side by side.
pub async fn observe<S: Io>(
    sessions: &Sessions,
    spec: &S::Spec,
    regions: &[String],
    admin: Option<&str>,
    rep: &Reporter,
) -> Result<Observed<S::Settings>> {
    let mut out = Observed::default();
    if !S::enabled(spec) {
        return Ok(out);
    }
    let admin_config = admin_config(sessions, admin, rep).await?;
    out.regions = crate::aws::per_region(regions, |region| {
        let admin_config = admin_config.as_ref();
        async move {
            rep.debug(format!("{}: {}, and Security Tooling's own state, in {region}", S::CALLS.svc, S::CALLS.list));
            let management = S::client(&sessions.base.config, region);
            let site = sessions.site_in(&sessions.management_account, region);
            let list = async {
                S::list_admins(&management).await.map_err(|e| {
                    e.at(
                        S::CALLS.svc,
                        S::CALLS.list,
                        &site,
                        format!("reading {}'s delegated administrator", S::CALLS.name),
                    )
                })
            };
            let own = async {
                let (Some(a), Some(cfg)) = (admin, admin_config) else { return Ok(None) };
                S::read_own(&S::client(cfg, region), &sessions.site_in(a, region)).await.map(Some)
            };
            let (admins, own, management_on) = tokio::join!(list, own, S::read_management(&management, &site));
            let mut state = RegionState { admins: admins?, management_on: management_on?, ..Default::default() };
            let (Some(a), Some(cfg), Some(own)) = (admin, admin_config, own?) else { return Ok(state) };
            let is_admin = state.admins.iter().any(|x| x == a);
            let (c, site) = (S::client(cfg, region), sessions.site_in(a, region));
            let listable = is_admin && S::members_listable(&own);
            let members = async {
                if !listable {
                    return Ok(None);
                }
                rep.debug(format!("{}: ListMembers in {region}", S::CALLS.svc));
                S::read_members(&c, &site, &own, &S::enrolment(spec)).await.map(Some)
            };
            let (settings, members) = tokio::join!(S::read_settings(&c, &site, own.clone(), is_admin), members);
            (state.settings, state.members) = (settings?, members?);
            Ok(state)
        }
    })
    .await?;
    Ok(out)
}

/// Run one step of a regional service in `region`: delegation from the
/// management account; everything else in Security Tooling, waiting (bounded,
/// with progress) while the service does not yet accept it as the administrator.
pub async fn run<S: Io>(region: &str, op: &Op<S::Op>, admin: &str, sessions: &Sessions, rep: &Reporter) -> Result<()> {
    let calls = &S::CALLS;
    let management =
        || (S::client(&sessions.base.config, region), sessions.site_in(&sessions.management_account, region));
    match op {
        Op::EnableAdmin => {
            let (c, site) = management();
            let purpose = format!("delegating {} to {admin}", calls.name);
            return S::enable_admin_call(&c, admin)
                .await
                .map_err(|e| e.at(calls.svc, calls.enable, &site, purpose).into());
        }
        Op::DisableAdmin { account } => {
            S::before_removal(sessions, region, account, rep).await?;
            let (c, site) = management();
            let purpose = format!("removing {account} as {}'s administrator", calls.name);
            return S::disable_admin_call(&c, account)
                .await
                .map_err(|e| e.at(calls.svc, calls.disable, &site, purpose).into());
        }
        Op::Own(op) if S::in_management(op) => {
            let (c, site) = management();
            return S::run(&c, &site, op).await;
        }
        Op::Enroll { .. } | Op::EnrollAll { .. } | Op::Own(_) => {}
    }
    let config = sessions.config(admin, rep).await?;
    let (c, site) = (S::client(&config, region), sessions.site_in(admin, region));
    match op {
        Op::Own(op) => until_accepted(calls.name, region, rep, || S::run(&c, &site, op)).await,
        Op::Enroll { accounts, with } => {
            until_accepted(calls.name, region, rep, || S::enroll(&c, &site, accounts, with)).await
        }
        Op::EnrollAll { with } => {
            let own = S::read_own(&c, &site).await?;
            let members = until_accepted(calls.name, region, rep, || S::read_members(&c, &site, &own, with)).await?;
            let missing =
                crate::services::organizations::accounts_to_enroll(sessions, admin, S::COVERS_ADMIN, &members, rep)
                    .await?;
            if missing.is_empty() {
                return Ok(());
            }
            until_accepted(calls.name, region, rep, || S::enroll(&c, &site, &missing, with)).await
        }
        Op::EnableAdmin | Op::DisableAdmin { .. } => unreachable!("run from the management account above"),
    }
}

/// Deregister a former administrator in Organizations once its service has
/// removed it in every governed region, for services that document it
/// ([`Io::DEREGISTER_AFTER_REMOVAL`]); already deregistered is done.
pub async fn deregister_former<S: Io>(account: &str, sessions: &Sessions) -> Result<()> {
    let Some(principal) = S::DEREGISTER_AFTER_REMOVAL else { return Ok(()) };
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    let sent = crate::aws::retry_races(|| {
        orgs.deregister_delegated_administrator().account_id(account).service_principal(principal).send()
    })
    .await;
    match sent {
        Ok(_) => Ok(()),
        Err(e) if crate::aws::error_code(&e) == Some("AccountNotRegisteredException") => Ok(()),
        Err(e) => Err(crate::aws::call_error(
            e,
            "organizations",
            "DeregisterDelegatedAdministrator",
            &site,
            format!("deregistering the former administrator {account} of {principal}"),
        )
        .into()),
    }
}

/// How long AWS may take to accept a new administrator or role, and how often to retry.
const ACCEPT_WAIT: Duration = Duration::from_secs(300);
const ACCEPT_RETRY: Duration = Duration::from_secs(5);

/// What AWS has not accepted yet, from its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotYet {
    /// A delegation has not reached the service: "… is not the delegated administrator".
    Administrator,
    /// A role just created cannot be assumed by the service yet (IAM is
    /// eventually consistent): `InvalidRoleException`.
    Role,
}

/// The one wait-until-accepted policy: retry `call` (bounded, with progress)
/// while AWS answers that a delegation or a new role has not reached the
/// service yet; any other answer, or the bound, ends it. Every admin-side call
/// of every regional service, the organization analyzer and the Config
/// aggregator run under it.
pub async fn until_accepted<T, F, Fut>(service: &str, region: &str, rep: &Reporter, call: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    loop {
        match call().await {
            Err(e) if start.elapsed() < ACCEPT_WAIT && not_yet(&e).is_some() => {
                let what = match not_yet(&e) {
                    Some(NotYet::Role) => "the new role to become usable",
                    _ => "the delegation to reach Security Tooling",
                };
                rep.waiting(format!("{service} {region}: waiting for {what} ({}s)", start.elapsed().as_secs()));
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
            other => return other,
        }
    }
}

/// Whether an error says the caller is not (yet) the service's administrator
/// ("Account … is not an administrator for this organization", "… is not the
/// delegated administrator", "Only the … administrator account can …") or that
/// the service cannot assume a role yet.
fn not_yet(e: &anyhow::Error) -> Option<NotYet> {
    let c = e.downcast_ref::<CallError>()?;
    if c.code.as_deref() == Some("InvalidRoleException") {
        return Some(NotYet::Role);
    }
    let detail = c.detail.to_ascii_lowercase();
    let words: Vec<&str> = detail.split(|ch: char| !ch.is_ascii_alphanumeric()).collect();
    let has = |w: &str| words.contains(&w);
    // A missing permission is final, whatever action it names.
    (has("administrator") && (has("not") || has("only")) && !detail.contains("not authorized"))
        .then_some(NotYet::Administrator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(detail: &str) -> anyhow::Error {
        CallError {
            service: "securityhub",
            operation: "UpdateOrganizationConfiguration",
            account: "111111111111".into(),
            region: "us-east-1".into(),
            purpose: "testing".into(),
            code: Some("InvalidAccessException".into()),
            detail: detail.into(),
            hint: String::new(),
        }
        .into()
    }

    #[test]
    fn a_role_config_cannot_assume_yet_is_waited_for() {
        let role = |code: &str| CallError {
            service: "config",
            operation: "PutConfigurationAggregator",
            account: "111111111111".into(),
            region: "us-east-1".into(),
            purpose: "testing".into(),
            code: Some(code.into()),
            detail: format!("{code}: AWS Config cannot assume the role"),
            hint: String::new(),
        };
        assert_eq!(not_yet(&role("InvalidRoleException").into()), Some(NotYet::Role));
        assert_eq!(not_yet(&role("InvalidParameterValueException").into()), None);
    }

    #[test]
    fn waits_only_while_not_the_administrator_yet() {
        for waiting in [
            "InvalidAccessException: Account 111111111111 is not an administrator for this organization",
            "BadRequestException: The request is rejected because 111111111111 is not the administrator account.",
            "AccessDeniedException: Only the Macie administrator account can do this.",
            "AccessDeniedException: The request is not from the Detective administrator account of the organization.",
        ] {
            assert_eq!(not_yet(&failed(waiting)), Some(NotYet::Administrator), "{waiting}");
        }
        for final_error in [
            "ConflictException: The organization already has the delegated administrator 222222222222.",
            "AccessDeniedException: User is not authorized to perform securityhub:EnableSecurityHub",
            "AccessDeniedException: User: arn:aws:sts::1:assumed-role/x is not authorized to perform: organizations:ListDelegatedAdministrators",
            "AccessDeniedException: not allowed: guardduty:ListOrganizationAdminAccounts",
            "ThrottlingException: Rate exceeded",
        ] {
            assert_eq!(not_yet(&failed(final_error)), None, "{final_error}");
        }
        assert_eq!(not_yet(&anyhow::anyhow!("is not an administrator")), None, "only AWS's answers count");
    }
}
