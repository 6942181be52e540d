//! The read-only plan role (`organization.plan_role`) in Security Tooling and
//! Log Archive: read it (GetRole, GetRolePolicy) and make or restore it
//! (CreateRole, PutRolePolicy, UpdateAssumeRolePolicy) through the access role.
//! Its documents come from the core (`sra_core::services::plan_role`).

use anyhow::Result;

pub use sra_core::services::plan_role::*;

use crate::aws::{Sessions, call_error, done_if_exists, error_code};
use crate::model::AccountRole;
use crate::report::Reporter;
use crate::services::log_archive::{Ids, observe::parse_iam_policy};

/// The role in `account`: `None` when it does not exist.
pub async fn observe(sessions: &Sessions, account: &str, role: &str, rep: &Reporter) -> Result<Option<RoleState>> {
    let config = sessions.config(account, rep).await?;
    let site = sessions.site(account);
    let iam = aws_sdk_iam::Client::new(&config);
    rep.debug(format!("iam:GetRole, GetRolePolicy {role} in {account}"));
    let (got, inline) = tokio::join!(
        iam.get_role().role_name(role).send(),
        iam.get_role_policy().role_name(role).policy_name(POLICY_NAME).send()
    );
    let trust = match got {
        Ok(r) => r.role().and_then(|r| r.assume_role_policy_document()).and_then(parse_iam_policy),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(call_error(e, "iam", "GetRole", &site, format!("reading the plan role {role}")).into()),
    };
    let policy = match inline {
        Ok(p) => parse_iam_policy(p.policy_document()),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => None,
        Err(e) => {
            return Err(
                call_error(e, "iam", "GetRolePolicy", &site, format!("reading the plan role {role}'s policy")).into()
            );
        }
    };
    Ok(Some(RoleState { trust, policy }))
}

/// Run one step on the plan role in `account_id` (the `account` of the plan).
pub async fn run(
    account: AccountRole,
    account_id: &str,
    role: &str,
    op: Op,
    ids: &Ids,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    let config = sessions.config(account_id, rep).await?;
    let site = sessions.site(account_id);
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = sra_core::services::plan_role::trust(ids).to_string();
    let purpose = |what: &str| format!("{what} the plan role {role} in {}", account.label());
    if op == Op::Create {
        let sent = iam
            .create_role()
            .role_name(role)
            .assume_role_policy_document(&trust)
            .description("sra: read-only, for sra plan (organization.plan_role)")
            .send()
            .await;
        done_if_exists(sent, &["EntityAlreadyExists"])
            .map_err(|e| call_error(e, "iam", "CreateRole", &site, purpose("creating")))?;
    } else {
        iam.update_assume_role_policy()
            .role_name(role)
            .policy_document(&trust)
            .send()
            .await
            .map_err(|e| call_error(e, "iam", "UpdateAssumeRolePolicy", &site, purpose("restoring who may assume")))?;
    }
    iam.put_role_policy()
        .role_name(role)
        .policy_name(POLICY_NAME)
        .policy_document(sra_core::services::plan_role::policy().to_string())
        .send()
        .await
        .map_err(|e| call_error(e, "iam", "PutRolePolicy", &site, purpose("setting the read-only policy of")))?;
    Ok(())
}
