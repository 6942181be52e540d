//! What the regional security services share: the delegated-administrator change
//! and the coverage change of one service in one region (pure), and the calls
//! that read and change a service's delegated administrator ([`AdminApi`]).

use std::future::Future;

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::{Sessions, call_error};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::report::Reporter;
use crate::services::log_archive::UNKNOWN;

/// What a regional service's delegated-administrator calls are called, for errors:
/// each service makes the calls over its own SDK from the management account and
/// hands the pending call to [`admins`], [`delegate`] or [`undelegate`], which add
/// the site, the purpose and the hint.
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

type Sent<T, E> = Result<T, SdkError<E, HttpResponse>>;

/// The service's delegated administrators in `region`, as `list` (the management
/// account's listing) answers.
pub async fn admins<E: CallErr>(
    sessions: &Sessions,
    region: &str,
    calls: &AdminCalls,
    list: impl Future<Output = Sent<Vec<String>, E>>,
) -> anyhow::Result<Vec<String>> {
    let purpose = format!("reading {}'s delegated administrator", calls.name);
    from_management(sessions, region, calls, calls.list, purpose, list).await
}

/// Make `account` the service's delegated administrator in `region` (`enable`).
pub async fn delegate<T, E: CallErr>(
    sessions: &Sessions,
    region: &str,
    calls: &AdminCalls,
    account: &str,
    enable: impl Future<Output = Sent<T, E>>,
) -> anyhow::Result<()> {
    let purpose = format!("delegating {} to {account}", calls.name);
    from_management(sessions, region, calls, calls.enable, purpose, enable).await.map(drop)
}

/// Remove `account` as the service's delegated administrator in `region` (`disable`).
pub async fn undelegate<T, E: CallErr>(
    sessions: &Sessions,
    region: &str,
    calls: &AdminCalls,
    account: &str,
    disable: impl Future<Output = Sent<T, E>>,
) -> anyhow::Result<()> {
    let purpose = format!("removing {account} as {}'s administrator", calls.name);
    from_management(sessions, region, calls, calls.disable, purpose, disable).await.map(drop)
}

/// What `call_error` needs of an operation's error.
pub trait CallErr: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {}
impl<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static> CallErr for E {}

/// Await a call the management account made in `region`, giving its error the site.
async fn from_management<T, E: CallErr>(
    sessions: &Sessions,
    region: &str,
    calls: &AdminCalls,
    operation: &'static str,
    purpose: String,
    call: impl Future<Output = Sent<T, E>>,
) -> anyhow::Result<T> {
    let site = sessions.site_in(&sessions.management_account, region);
    call.await.map_err(|e| call_error(e, calls.svc, operation, &site, purpose).into())
}

/// Security Tooling's configuration, when the plan names its account: opened once
/// per service, before the regions are read side by side.
pub async fn admin_config(
    sessions: &Sessions,
    admin: Option<&str>,
    rep: &Reporter,
) -> anyhow::Result<Option<SdkConfig>> {
    match admin {
        Some(a) => Ok(Some(sessions.config(a, rep).await?)),
        None => Ok(None),
    }
}

/// The change that makes `admin` the service's delegated administrator in
/// `region`, given the administrators AWS lists there. Replacing another
/// administrator is planned, and also returned as a destructive change for apply
/// to refuse without `--allow-admin-change`.
pub fn admin_change(
    service: &'static str,
    region: &str,
    admin: Option<&str>,
    admins: &[String],
    enable: Step,
    disable: impl Fn(&str) -> Step,
) -> (Change, Option<String>) {
    let address = Address::DelegatedAdmin { service, region: region.to_string() };
    let mut c = Change {
        address: address.clone(),
        action: Action::NoOp,
        id: admin.map(str::to_string),
        properties: vec![Property {
            name: "admin_account".into(),
            before: (!admins.is_empty()).then(|| admins.join(", ")),
            after: Some(admin.unwrap_or(UNKNOWN).to_string()),
        }],
        reason: String::new(),
        steps: vec![],
        manual: vec![],
    };
    if admin.is_some_and(|a| admins.iter().any(|x| x == a)) {
        return (c, None);
    }
    let others: Vec<&String> = admins.iter().filter(|x| Some(x.as_str()) != admin).collect();
    if others.is_empty() {
        c.action = Action::Create;
        c.reason = format!("Security Tooling becomes {service}'s delegated administrator here");
        c.steps.push(enable);
        return (c, None);
    }
    c.action = Action::Update;
    let list = others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    c.reason = format!("DESTRUCTIVE: replaces the delegated administrator {list} with Security Tooling");
    for o in &others {
        c.steps.push(disable(o));
    }
    c.steps.push(enable);
    (c, Some(format!("{address} replaces the delegated administrator {list}")))
}

/// Which organization accounts the service covers in `region`: every account but
/// the administrator should be a member. `members` is None when it cannot be read
/// yet (Security Tooling is not the administrator); auto-enable then covers them.
/// The accounts to enroll go to `enroll`. Services whose auto-enable covers only
/// new accounts pass `enroll_all`: the step that enrolls, once delegated, every
/// account the organization then has (its list is known only after apply).
pub fn coverage_change(
    service: &'static str,
    region: &str,
    admin: Option<&str>,
    accounts: &[(String, String)],
    members: Option<&std::collections::BTreeSet<String>>,
    enroll: impl FnOnce(Vec<(String, String)>) -> Step,
    enroll_all: Option<Step>,
) -> Change {
    let expected: Vec<&(String, String)> = accounts.iter().filter(|(id, _)| Some(id.as_str()) != admin).collect();
    let all = format!("{} of {} accounts", expected.len(), expected.len());
    let mut c = Change {
        address: Address::Coverage { service, region: region.to_string() },
        action: Action::NoOp,
        id: None,
        properties: vec![Property { name: "members".into(), before: Some(all.clone()), after: Some(all) }],
        reason: String::new(),
        steps: vec![],
        manual: vec![],
    };
    let Some(members) = members else {
        let unread = "(read once Security Tooling administers it)".to_string();
        c.properties[0].before = Some(unread.clone());
        c.properties[0].after = Some(unread);
        match enroll_all {
            Some(step) => {
                c.action = Action::Create;
                c.properties[0].after = Some("every account but Security Tooling".into());
                c.reason = "existing accounts are enrolled once Security Tooling is the administrator".into();
                c.steps.push(step);
            }
            None => c.reason = "auto-enable enrolls every account once Security Tooling is the administrator".into(),
        }
        return c;
    };
    let missing: Vec<(String, String)> =
        expected.iter().filter(|(id, _)| !members.contains(id)).map(|p| (*p).clone()).collect();
    if missing.is_empty() {
        return c;
    }
    c.properties[0].before = Some(format!(
        "{} of {} accounts (not enrolled: {})",
        expected.len() - missing.len(),
        expected.len(),
        missing.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ")
    ));
    c.action = Action::Update;
    c.reason = format!("{} accounts are not {service} members", missing.len());
    c.steps.push(enroll(missing));
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::guardduty::GdOp;

    fn step(op: GdOp) -> Step {
        Step::GuardDuty { region: "r".into(), op }
    }

    #[test]
    fn admin_change_cases() {
        let disable = |a: &str| step(GdOp::DisableAdmin { account: a.into() });
        let (c, d) = admin_change("guardduty", "r", Some("1"), &["1".into()], step(GdOp::EnableAdmin), disable);
        assert_eq!((c.action, d), (Action::NoOp, None));
        let (c, d) = admin_change("guardduty", "r", Some("1"), &[], step(GdOp::EnableAdmin), disable);
        assert_eq!((c.action, c.steps.len(), d), (Action::Create, 1, None));
        let (c, d) = admin_change("guardduty", "r", Some("1"), &["2".into()], step(GdOp::EnableAdmin), disable);
        assert_eq!(c.action, Action::Update);
        assert_eq!(c.steps, [step(GdOp::DisableAdmin { account: "2".into() }), step(GdOp::EnableAdmin)]);
        assert!(d.unwrap().contains("replaces the delegated administrator 2"));
    }

    #[test]
    fn coverage_lists_the_missing_accounts() {
        let accounts =
            vec![("1".to_string(), "a@x.io".to_string()), ("2".into(), "b@x.io".into()), ("3".into(), "c@x.io".into())];
        let members: std::collections::BTreeSet<String> = ["2".to_string()].into();
        let c = coverage_change(
            "guardduty",
            "r",
            Some("1"),
            &accounts,
            Some(&members),
            |m| step(GdOp::CreateMembers { accounts: m }),
            None,
        );
        assert_eq!(c.action, Action::Update);
        assert_eq!(c.properties[0].before.as_deref(), Some("1 of 2 accounts (not enrolled: 3)"));
        assert_eq!(c.steps, [step(GdOp::CreateMembers { accounts: vec![("3".into(), "c@x.io".into())] })]);
        let enroll = |m| step(GdOp::CreateMembers { accounts: m });
        let unread = coverage_change("guardduty", "r", Some("1"), &accounts, None, enroll, None);
        assert_eq!(unread.action, Action::NoOp);
        let all = step(GdOp::UpdateOrganizationConfiguration);
        let pending = coverage_change("x", "r", Some("1"), &accounts, None, enroll, Some(all.clone()));
        assert_eq!((pending.action, pending.steps), (Action::Create, vec![all]));
    }
}
