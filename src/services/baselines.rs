//! Account baselines' SDK calls: reading each account's baselines (EC2's EBS
//! default per governed region, S3 Control's account public access block, IAM's
//! password policy, the Account Management API's SECURITY contact, Config's
//! recorder per governed region) and setting them. Which account needs what is
//! the core's (`sra_core::services::baselines`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_config::SdkConfig;
use futures_util::{StreamExt, TryStreamExt};

use crate::aws::{CallError, Sessions, Site, call_error, error_code};
use crate::report::Reporter;

use sra_core::model::{BaselineSpec, OuPath, SecurityContact};
pub use sra_core::services::baselines::*;

/// Accounts read or written side by side. Each account has its own API rate
/// limits; what they share is the management account's (AssumeRole, the
/// alternate contacts, paced under their published rates by `pace`), and every
/// request waits for one of `pace::IN_FLIGHT` slots, so this bounds the
/// accounts whose reads are under way, not the requests.
pub const ACCOUNTS_AT_ONCE: usize = 32;

/// Every account's baselines: `accounts` are the organization's ACTIVE accounts
/// (the management account among them), as the listing names them: each is read
/// as soon as it arrives, beside the rest of the listing. Those under
/// `exclude_ous` are only listed as excluded. An account whose access role cannot
/// be assumed is listed as unreadable, not an error: the plan names it.
/// `recorders`: Some(managed) when every account records with Config: each
/// account's recorders are read, except in `managed` (Security Tooling and Log
/// Archive, the Config service's).
#[allow(clippy::too_many_arguments)]
pub async fn observe(
    sessions: &Sessions,
    spec: &BaselineSpec,
    regions: &[String],
    accounts: impl futures_util::Stream<Item = String>,
    root_id: Option<&str>,
    log_archive: Option<&str>,
    recorders: Option<&[String]>,
    rep: &Reporter,
) -> Result<ObservedBaselines> {
    let mut out = ObservedBaselines::default();
    if !spec.any() {
        return Ok(out);
    }
    let excluded = async {
        match root_id {
            Some(root) => Ok(accounts_under_paths(sessions, root, &spec.exclude_ous, rep).await?.into_keys().collect()),
            None => Ok(BTreeSet::new()),
        }
    };
    // Members' contacts are readable once Account Management has trusted access
    // (which apply enables before setting them); until then they count as unset.
    let contacts = async {
        match (&spec.security_contact, root_id) {
            (Some(_), Some(_)) => {
                let site = sessions.site(&sessions.management_account);
                let orgs = sessions.base.organizations();
                let enabled = crate::services::organizations::observe_trusted_access(&orgs, &site, rep).await?;
                Ok::<_, anyhow::Error>(enabled.iter().any(|p| p == sra_core::services::ACCOUNT_MANAGEMENT))
            }
            _ => Ok(false),
        }
    };
    let (excluded, contacts) = tokio::try_join!(excluded, contacts)?;
    out.excluded = excluded;
    rep.progress("reading every active account's baselines");
    let excluded = &out.excluded;
    let read: Vec<(String, Result<AccountBaseline, String>)> = accounts
        .filter(|a| std::future::ready(!excluded.contains(a)))
        .map(|account| async move {
            let config = spec.config_recorders && recorders.is_some_and(|managed| !managed.contains(&account));
            let reads = Reads { contacts, config };
            let read = read_account(sessions, spec, regions, &account, log_archive, reads, rep).await?;
            Ok::<_, anyhow::Error>((account, read))
        })
        .buffer_unordered(ACCOUNTS_AT_ONCE)
        .try_collect()
        .await?;
    for (account, read) in read {
        match read {
            Ok(b) => {
                out.accounts.insert(account, b);
            }
            Err(why) => {
                out.unreadable.insert(account, why);
            }
        }
    }
    Ok(out)
}

/// The accounts under `paths`, at any depth, each with the path it is under
/// (an OU that does not exist holds nothing: said as progress).
pub(crate) async fn accounts_under_paths(
    sessions: &Sessions,
    root: &str,
    paths: &[OuPath],
    rep: &Reporter,
) -> Result<BTreeMap<String, OuPath>> {
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    let mut out = BTreeMap::new();
    for path in paths {
        let mut parent = root.to_string();
        let mut found = true;
        for name in path.segments() {
            let children = crate::services::organizations::child_ous(
                &orgs,
                &site,
                &parent,
                &format!("finding OU \"{path}\""),
                rep,
            )
            .await?;
            match children.into_iter().find(|(n, _)| n == name) {
                Some((_, id)) => parent = id,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if found {
            let under = crate::services::organizations::accounts_under(&orgs, &site, &parent, rep).await?;
            out.extend(under.into_iter().map(|a| (a, path.clone())));
        } else {
            rep.progress(format!("OU \"{path}\" does not exist: no account is under it"));
        }
    }
    Ok(out)
}

/// What to read in an account beyond the spec's own baselines.
#[derive(Clone, Copy)]
struct Reads {
    /// Its SECURITY contact (the management account's always, members' once
    /// Account Management has trusted access).
    contacts: bool,
    /// Its Config recorders, one set of reads per governed region.
    config: bool,
}

/// One account's baselines; Err(why) when its role cannot be assumed.
async fn read_account(
    sessions: &Sessions,
    spec: &BaselineSpec,
    regions: &[String],
    account: &str,
    log_archive: Option<&str>,
    reads: Reads,
    rep: &Reporter,
) -> Result<Result<AccountBaseline, String>> {
    let config = match sessions.config_now(account, rep).await {
        Ok(c) => c,
        Err(e) => match e.downcast_ref::<CallError>() {
            Some(c) if c.operation == "AssumeRole" => {
                let answer = c.code.as_deref().map(|code| format!(" ({code})")).unwrap_or_default();
                return Ok(Err(format!("AWS refused to let it assume the role {}{answer}", sessions.role)));
            }
            _ => return Err(e),
        },
    };
    let site = sessions.site(account);
    let s3 = async {
        if !spec.s3_block_public_access || Some(account) == log_archive {
            return Ok(None);
        }
        let s3c = aws_sdk_s3control::Client::new(&config);
        let pab = crate::services::log_archive::observe_account_pab(&s3c, &site, account, rep).await?;
        Ok::<_, anyhow::Error>(
            pab.map(|p| [p.block_public_acls, p.ignore_public_acls, p.block_public_policy, p.restrict_public_buckets]),
        )
    };
    let password = async {
        if !spec.password_policy {
            return Ok(None);
        }
        read_password_policy(&config, &site, rep).await
    };
    let ebs = async {
        let mut out = BTreeMap::new();
        if !spec.ebs_default_encryption {
            return Ok(out);
        }
        let read = futures_util::future::try_join_all(regions.iter().map(|region| {
            let site = sessions.site_in(account, region);
            let config = &config;
            async move { Ok::<_, anyhow::Error>((region.clone(), ebs_default(config, &site, rep).await?)) }
        }))
        .await?;
        out.extend(read);
        Ok::<_, anyhow::Error>(out)
    };
    let contact = async {
        let own = account == sessions.management_account;
        if spec.security_contact.is_none() || !(own || reads.contacts) {
            return Ok(None);
        }
        read_contact(sessions, account, rep).await
    };
    let recorders = async {
        let mut out = BTreeMap::new();
        if !reads.config {
            return Ok(out);
        }
        let read = futures_util::future::try_join_all(regions.iter().map(|region| {
            let c = crate::services::config::client(&config, region);
            let site = sessions.site_in(account, region);
            async move {
                Ok::<_, anyhow::Error>((
                    region.clone(),
                    crate::services::config::observe_recorder(&c, &site, rep).await?,
                ))
            }
        }))
        .await?;
        out.extend(read);
        Ok::<_, anyhow::Error>(out)
    };
    let (s3, password, ebs, contact, config) = tokio::try_join!(s3, password, ebs, contact, recorders)?;
    Ok(Ok(AccountBaseline { ebs, s3, password, contact, config }))
}

async fn ebs_default(config: &SdkConfig, site: &Site, rep: &Reporter) -> Result<bool> {
    rep.debug(format!("ec2:GetEbsEncryptionByDefault {} {}", site.account, site.region));
    let ec2 = aws_sdk_ec2::Client::new(&crate::aws::in_region(config, &site.region));
    let out =
        ec2.get_ebs_encryption_by_default().send().await.map_err(|e| {
            call_error(e, "ec2", "GetEbsEncryptionByDefault", site, "reading EBS encryption by default")
        })?;
    Ok(out.ebs_encryption_by_default().unwrap_or(false))
}

async fn read_password_policy(config: &SdkConfig, site: &Site, rep: &Reporter) -> Result<Option<PasswordPolicy>> {
    rep.debug(format!("iam:GetAccountPasswordPolicy {}", site.account));
    let iam = aws_sdk_iam::Client::new(config);
    match iam.get_account_password_policy().send().await {
        Ok(out) => Ok(out.password_policy().map(|p| PasswordPolicy {
            minimum_length: p.minimum_password_length().unwrap_or(0),
            require_symbols: p.require_symbols(),
            require_numbers: p.require_numbers(),
            require_uppercase: p.require_uppercase_characters(),
            require_lowercase: p.require_lowercase_characters(),
            allow_users_to_change: p.allow_users_to_change_password(),
            reuse_prevention: p.password_reuse_prevention().unwrap_or(0),
            max_age: p.max_password_age(),
            hard_expiry: p.hard_expiry().unwrap_or(false),
        })),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(call_error(e, "iam", "GetAccountPasswordPolicy", site, "reading the password policy").into()),
    }
}

/// From the management account: the account's SECURITY contact (the management
/// account's own without AccountId, as the API requires).
async fn read_contact(sessions: &Sessions, account: &str, rep: &Reporter) -> Result<Option<SecurityContact>> {
    rep.debug(format!("account:GetAlternateContact {account}"));
    let client = aws_sdk_account::Client::new(&sessions.base.config);
    let site = sessions.site(account);
    let mut call =
        client.get_alternate_contact().alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security);
    if account != sessions.management_account {
        call = call.account_id(account);
    }
    match call.send().await {
        Ok(out) => Ok(out.alternate_contact().map(|c| SecurityContact {
            name: c.name().unwrap_or_default().to_string(),
            title: c.title().unwrap_or_default().to_string(),
            email: c.email_address().unwrap_or_default().to_string(),
            phone: c.phone_number().unwrap_or_default().to_string(),
        })),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(call_error(e, "account", "GetAlternateContact", &site, "reading the security contact").into()),
    }
}

/// Run one baseline step in `account` (an id: the caller resolves the plan's
/// roles); `ids` and `bucket` for Config's delivery channel.
pub async fn run(
    sessions: &Sessions,
    account: &str,
    op: &Op,
    ids: &crate::services::log_archive::Ids,
    bucket: &str,
    rep: &Reporter,
) -> Result<()> {
    let site = sessions.site(account);
    match op {
        Op::Config { region, op } => {
            return crate::services::config::run_in(account, region, op, ids, bucket, sessions, rep).await;
        }
        Op::PutSecurityContact { contact } => {
            let client = aws_sdk_account::Client::new(&sessions.base.config);
            let mut call = client
                .put_alternate_contact()
                .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
                .name(&contact.name)
                .title(&contact.title)
                .email_address(&contact.email)
                .phone_number(&contact.phone);
            if account != sessions.management_account {
                call = call.account_id(account);
            }
            call.send()
                .await
                .map_err(|e| call_error(e, "account", "PutAlternateContact", &site, "setting the security contact"))?;
            return Ok(());
        }
        Op::EnableEbsEncryption { .. } | Op::PutPublicAccessBlock | Op::UpdatePasswordPolicy { .. } => {}
    }
    let config = sessions.config(account, rep).await?;
    match op {
        Op::EnableEbsEncryption { region } => {
            let site = sessions.site_in(account, region);
            aws_sdk_ec2::Client::new(&crate::aws::in_region(&config, region))
                .enable_ebs_encryption_by_default()
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "ec2", "EnableEbsEncryptionByDefault", &site, "turning on EBS encryption by default")
                })?;
        }
        Op::PutPublicAccessBlock => {
            aws_sdk_s3control::Client::new(&config)
                .put_public_access_block()
                .account_id(account)
                .public_access_block_configuration(
                    aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "s3control", "PutPublicAccessBlock", &site, "blocking public access for the account")
                })?;
        }
        Op::UpdatePasswordPolicy { policy } => {
            aws_sdk_iam::Client::new(&config)
                .update_account_password_policy()
                .minimum_password_length(policy.minimum_length)
                .require_symbols(policy.require_symbols)
                .require_numbers(policy.require_numbers)
                .require_uppercase_characters(policy.require_uppercase)
                .require_lowercase_characters(policy.require_lowercase)
                .allow_users_to_change_password(policy.allow_users_to_change)
                .password_reuse_prevention(policy.reuse_prevention)
                .set_max_password_age(policy.max_age)
                .hard_expiry(policy.hard_expiry)
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "iam", "UpdateAccountPasswordPolicy", &site, "setting the password policy")
                })?;
        }
        Op::PutSecurityContact { .. } | Op::Config { .. } => unreachable!("run above"),
    }
    Ok(())
}
