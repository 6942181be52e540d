//! AWS Organizations and STS: observe the organization, its OUs, the SRA accounts
//! and CreateAccount requests; run the organization steps of a plan.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_organizations::Client;
use aws_sdk_organizations::error::SdkError;
use aws_sdk_organizations::operation::list_accounts::{ListAccountsError, ListAccountsOutput};
use aws_sdk_organizations::types::{
    CreateAccountState, OrganizationFeatureSet, ParentType, PolicyType, PolicyTypeStatus, Tag,
};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::aws::{Aws, Site, call_error, done_if_exists, error_code, hinted, is_ambiguous};
use crate::lock::Lock;
use crate::model::{AccountRole, CreateRequest, Desired, Observed, ObservedAccount, ObservedOrg, OuPath, Parent};
use crate::report::Reporter;

const SVC: &str = "organizations";

/// The first reads, side by side: who the caller is, the organization and its
/// root. Everything else starts from these.
pub async fn identify(aws: &Aws, rep: &Reporter) -> Result<Observed> {
    let region = aws.region.clone();
    let unknown = Site { account: "(caller)".into(), region: region.clone() };
    let orgs = aws.organizations();
    rep.debug("sts:GetCallerIdentity, organizations:DescribeOrganization, organizations:ListRoots");
    let (who, org, roots) = tokio::join!(
        aws.sts().get_caller_identity().send(),
        orgs.describe_organization().send(),
        orgs.list_roots().send()
    );
    let who = who.map_err(|e| {
        call_error(e, "sts", "GetCallerIdentity", &unknown, "finding out which account the credentials belong to")
    })?;
    let caller = who.account().unwrap_or_default().to_string();
    let site = Site { account: caller.clone(), region };

    let mut observed = Observed { caller_account: caller, ..Default::default() };
    let org = match org {
        Ok(out) => out.organization().cloned(),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_aws_organizations_not_in_use_exception()) => None,
        Err(e) => {
            return Err(call_error(e, SVC, "DescribeOrganization", &site, "reading the organization").into());
        }
    };
    let Some(org) = org else { return Ok(observed) };
    let management = org.master_account_id().unwrap_or_default().to_string();
    let feature_set = org.feature_set().map(|f| f.as_str().to_string()).unwrap_or_default();
    let id = org.id().unwrap_or_default().to_string();
    // A member account cannot list the roots (nor read the rest); the diff turns
    // that into a blocker.
    let (root_id, scp_enabled, rcp_enabled) = if management == observed.caller_account {
        let roots = roots.map_err(|e| call_error(e, SVC, "ListRoots", &site, "finding the organization root"))?;
        let root = roots.roots().first();
        let enabled = |kind: PolicyType| {
            root.is_some_and(|r| {
                r.policy_types()
                    .iter()
                    .any(|t| t.r#type() == Some(&kind) && t.status() == Some(&PolicyTypeStatus::Enabled))
            })
        };
        (
            root.and_then(|r| r.id()).unwrap_or_default().to_string(),
            enabled(PolicyType::ServiceControlPolicy),
            enabled(PolicyType::ResourceControlPolicy),
        )
    } else {
        (String::new(), false, false)
    };
    observed.organization =
        Some(ObservedOrg { id, management_account_id: management, feature_set, root_id, scp_enabled, rcp_enabled });
    Ok(observed)
}

/// The plan's accounts as the lock file names them, taken on trust so that the
/// rest can be read at once; [`state`] checks them (DescribeAccount) and fails
/// with [`StaleLock`] if an id no longer has the plan's email. None when the lock
/// file does not name every account of the plan.
pub fn from_lock(desired: &Desired, lock: &Lock) -> Option<Vec<ObservedAccount>> {
    desired
        .accounts
        .iter()
        .map(|want| {
            lock.accounts.get(&want.role).map(|id| ObservedAccount {
                id: id.clone(),
                name: want.name.clone(),
                email: want.email.clone(),
                status: "ACTIVE".into(),
                parent_id: None,
                parent: None,
                tags: BTreeMap::new(),
            })
        })
        .collect()
}

/// The lock file's ids do not name the plan's accounts (any more).
#[derive(Debug)]
pub struct StaleLock;

impl std::fmt::Display for StaleLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the lock file's account ids no longer match the plan's emails")
    }
}

impl std::error::Error for StaleLock {}

/// The rest of the organization as the plan needs it, once `observed` has the
/// organization and the plan's accounts: OUs, where the plan's accounts are and
/// their tags, account creations in progress, trusted access, the applied-plan
/// tag; with `from_lock`, the plan's accounts as DescribeAccount has them. All
/// side by side; `then` runs as soon as the OUs are known (they are what the
/// guardrails are attached to) and its result comes back beside the state.
pub async fn state<T, F, Fut>(
    aws: &Aws,
    desired: &Desired,
    observed: &Observed,
    from_lock: bool,
    then: F,
    rep: &Reporter,
) -> Result<(OrgState, T)>
where
    F: FnOnce(BTreeMap<OuPath, String>) -> Fut,
    Fut: std::future::Future<Output = Result<(BTreeMap<OuPath, String>, T)>>,
{
    let orgs = aws.organizations();
    let site = Site { account: observed.caller_account.clone(), region: aws.region.clone() };
    let root_id = observed.organization.as_ref().map(|o| o.root_id.clone()).unwrap_or_default();
    let ours: Vec<ObservedAccount> =
        desired.accounts.iter().filter_map(|w| observed.account_by_email(&w.email).cloned()).collect();
    let checked = async {
        if !from_lock {
            return Ok(ours.clone());
        }
        let found = futures_util::future::try_join_all(ours.iter().map(|a| {
            let (orgs, site) = (&orgs, &site);
            async move {
                rep.debug(format!("organizations:DescribeAccount {}", a.id));
                match orgs.describe_account().account_id(&a.id).send().await {
                    Ok(out) => {
                        Ok(out.account().map(observed_account).filter(|x| x.email.eq_ignore_ascii_case(&a.email)))
                    }
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_account_not_found_exception()) => Ok(None),
                    Err(e) => Err(call_error(
                        e,
                        SVC,
                        "DescribeAccount",
                        site,
                        format!("reading account {} of the lock file", a.id),
                    )),
                }
            }
        }))
        .await?;
        found.into_iter().collect::<Option<Vec<_>>>().ok_or_else(|| anyhow::Error::new(StaleLock))
    };
    let tree = async {
        let ous = observe_ous(&orgs, &site, &root_id, desired, rep).await?;
        let placed = futures_util::future::try_join_all(ours.iter().map(|a| {
            let (orgs, site, root_id, ous) = (&orgs, &site, &root_id, &ous);
            async move {
                tokio::try_join!(
                    observe_parent(orgs, site, &a.id, root_id, ous, rep),
                    observe_tags(orgs, site, &a.id, rep),
                )
            }
        }));
        let (placed, (ous, extra)) = tokio::try_join!(placed, then(ous.clone()))?;
        Ok::<_, anyhow::Error>((ous, placed, extra))
    };
    let (checked, (ous, placed, extra), create_requests, trusted_access, root_tags) = tokio::try_join!(
        checked,
        tree,
        observe_requests(&orgs, &site, rep),
        observe_trusted_access(&orgs, &site, rep),
        observe_tags(&orgs, &site, &root_id, rep),
    )?;
    let accounts = checked
        .into_iter()
        .zip(placed)
        .map(|(mut a, ((parent_id, parent), tags))| {
            a.parent_id = Some(parent_id);
            a.parent = Some(parent);
            a.tags = tags;
            a
        })
        .collect();
    let applied_digest = root_tags.get(APPLIED_TAG).cloned();
    Ok((OrgState { ous, create_requests, trusted_access, applied_digest, accounts }, extra))
}

/// What [`state`] reads.
#[derive(Debug, Clone)]
pub struct OrgState {
    pub ous: BTreeMap<OuPath, String>,
    pub create_requests: Vec<CreateRequest>,
    pub trusted_access: Vec<String>,
    pub applied_digest: Option<String>,
    /// The plan's accounts, with parent and tags.
    pub accounts: Vec<ObservedAccount>,
}

impl OrgState {
    /// Put into `observed`: the plan's accounts replace what `observed` had of them.
    pub fn merge_into(self, observed: &mut Observed) {
        observed.ous = self.ous;
        observed.create_requests = self.create_requests;
        observed.trusted_access = self.trusted_access;
        observed.applied_digest = self.applied_digest;
        for a in self.accounts {
            match observed.accounts.iter_mut().find(|x| x.id == a.id) {
                Some(x) => *x = a,
                None => observed.accounts.push(a),
            }
        }
    }
}

fn observed_account(a: &aws_sdk_organizations::types::Account) -> ObservedAccount {
    ObservedAccount {
        id: a.id().unwrap_or_default().to_string(),
        name: a.name().unwrap_or_default().to_string(),
        email: a.email().unwrap_or_default().to_string(),
        status: a.state().map_or_else(|| "ACTIVE".to_string(), |s| s.as_str().to_string()),
        parent_id: None,
        parent: None,
        tags: BTreeMap::new(),
    }
}

/// Every account of the organization, 20 a page (the API's maximum).
pub async fn list_accounts(orgs: &Client, site: &Site, rep: &Reporter) -> Result<Vec<ObservedAccount>> {
    AccountListing::start(orgs, rep).finish(site).await
}

/// The organization's accounts, listed a page at a time: a caller can stop
/// reading once the accounts it needs first are listed, start work with them, and
/// [`finish`](Self::finish) the listing beside that work.
pub struct AccountListing {
    pages: PaginationStream<Result<ListAccountsOutput, SdkError<ListAccountsError, HttpResponse>>>,
    /// The accounts listed so far.
    pub accounts: Vec<ObservedAccount>,
    complete: bool,
}

impl AccountListing {
    pub fn start(orgs: &Client, rep: &Reporter) -> Self {
        rep.debug("organizations:ListAccounts");
        let pages = orgs.list_accounts().max_results(LIST_ACCOUNTS_PAGE).into_paginator().send();
        AccountListing { pages, accounts: Vec::new(), complete: false }
    }

    /// Read pages until `enough` holds of the accounts listed so far, or the
    /// listing ends.
    pub async fn until(&mut self, site: &Site, enough: impl Fn(&[ObservedAccount]) -> bool) -> Result<()> {
        while !enough(&self.accounts) && self.next_page(site).await? {}
        Ok(())
    }

    /// Read one more page; false when the listing had ended.
    async fn next_page(&mut self, site: &Site) -> Result<bool> {
        match self.pages.next().await {
            Some(page) => {
                let page =
                    page.map_err(|e| call_error(e, SVC, "ListAccounts", site, "listing the organization's accounts"))?;
                self.accounts.extend(page.accounts().iter().map(observed_account));
                Ok(true)
            }
            None => {
                self.complete = true;
                Ok(false)
            }
        }
    }

    /// True when every page has been read.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Read the remaining pages: every account of the organization.
    pub async fn finish(self, site: &Site) -> Result<Vec<ObservedAccount>> {
        self.finish_each(site, |_| ()).await
    }

    /// [`finish`](Self::finish), handing `each` the accounts listed so far and
    /// then every page's as it arrives, so work on them starts at once.
    pub async fn finish_each(
        mut self,
        site: &Site,
        mut each: impl FnMut(&[ObservedAccount]),
    ) -> Result<Vec<ObservedAccount>> {
        each(&self.accounts);
        loop {
            let before = self.accounts.len();
            if !self.next_page(site).await? {
                return Ok(self.accounts);
            }
            each(&self.accounts[before..]);
        }
    }
}

/// ListAccounts' largest page.
pub const LIST_ACCOUNTS_PAGE: i32 = 20;

async fn observe_ous(
    orgs: &Client,
    site: &Site,
    root_id: &str,
    desired: &Desired,
    rep: &Reporter,
) -> Result<BTreeMap<OuPath, String>> {
    let mut found: BTreeMap<OuPath, String> = BTreeMap::new();
    let mut children: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut paths = desired.ou_paths();
    for p in desired.guardrail_ous().iter().flat_map(|p| p.prefixes()) {
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    paths.sort_by(|a, b| a.depth().cmp(&b.depth()).then_with(|| a.cmp(b)));
    for path in paths {
        let parent_id = match path.parent() {
            None => root_id.to_string(),
            Some(p) => match found.get(&p) {
                Some(id) => id.clone(),
                None => continue, // parent missing: so is the child
            },
        };
        if !children.contains_key(&parent_id) {
            let list = child_ous(orgs, site, &parent_id, &format!("looking for OU \"{path}\""), rep).await?;
            children.insert(parent_id.clone(), list);
        }
        if let Some((_, id)) = children[&parent_id].iter().find(|(name, _)| name == path.name()) {
            found.insert(path.clone(), id.clone());
        }
    }
    Ok(found)
}

/// The OUs directly under `parent_id`, as (name, id), every page.
pub async fn child_ous(
    orgs: &Client,
    site: &Site,
    parent_id: &str,
    purpose: &str,
    rep: &Reporter,
) -> Result<Vec<(String, String)>> {
    rep.debug(format!("organizations:ListOrganizationalUnitsForParent {parent_id}"));
    let ous = orgs
        .list_organizational_units_for_parent()
        .parent_id(parent_id)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| call_error(e, SVC, "ListOrganizationalUnitsForParent", site, purpose))?;
    Ok(ous
        .iter()
        .flat_map(|page| page.organizational_units())
        .map(|ou| (ou.name().unwrap_or_default().to_string(), ou.id().unwrap_or_default().to_string()))
        .collect())
}

/// Every account under the OU `ou_id`, at any depth.
pub async fn accounts_under(orgs: &Client, site: &Site, ou_id: &str, rep: &Reporter) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut queue = vec![ou_id.to_string()];
    while let Some(parent) = queue.pop() {
        out.extend(accounts_in(orgs, site, &parent, "listing the accounts of an excluded OU", rep).await?);
        let children = child_ous(orgs, site, &parent, "listing the OUs of an excluded OU", rep).await?;
        queue.extend(children.into_iter().map(|(_, id)| id));
    }
    Ok(out)
}

/// The accounts directly under `parent_id` (ListAccountsForParent, every page).
async fn accounts_in(
    orgs: &Client,
    site: &Site,
    parent_id: &str,
    purpose: &str,
    rep: &Reporter,
) -> Result<Vec<String>> {
    rep.debug(format!("organizations:ListAccountsForParent {parent_id}"));
    let mut out = Vec::new();
    let pages = orgs.list_accounts_for_parent().parent_id(parent_id).into_paginator().send();
    crate::aws::each_page(pages, |p| out.extend(p.accounts().iter().filter_map(|a| a.id().map(str::to_string))))
        .await
        .map_err(|e| call_error(e, SVC, "ListAccountsForParent", site, purpose))?;
    Ok(out)
}

/// Every account under an OU, with that OU's path ("Workloads/Prod"): the OU
/// tree walked level by level, each level's OUs side by side. The accounts
/// directly under the root are not listed: they are the organization's others.
pub async fn ou_paths(orgs: &Client, site: &Site, root_id: &str, rep: &Reporter) -> Result<BTreeMap<String, String>> {
    let purpose = "reading which OU each account is in";
    let mut out = BTreeMap::new();
    let mut level: Vec<(String, String)> =
        child_ous(orgs, site, root_id, purpose, rep).await?.into_iter().map(|(name, id)| (id, name)).collect();
    while !level.is_empty() {
        let read = futures_util::future::try_join_all(level.iter().map(|(id, path)| async move {
            let (accounts, children) =
                tokio::try_join!(accounts_in(orgs, site, id, purpose, rep), child_ous(orgs, site, id, purpose, rep))?;
            Ok::<_, anyhow::Error>((path, accounts, children))
        }))
        .await?;
        let mut next = Vec::new();
        for (path, accounts, children) in read {
            out.extend(accounts.into_iter().map(|a| (a, path.clone())));
            next.extend(children.into_iter().map(|(name, id)| (id, format!("{path}/{name}"))));
        }
        level = next;
    }
    Ok(out)
}

async fn observe_parent(
    orgs: &Client,
    site: &Site,
    account_id: &str,
    root_id: &str,
    ous: &BTreeMap<OuPath, String>,
    rep: &Reporter,
) -> Result<(String, Parent)> {
    rep.debug(format!("organizations:ListParents {account_id}"));
    let out = orgs
        .list_parents()
        .child_id(account_id)
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "ListParents", site, format!("finding the OU of account {account_id}")))?;
    let Some(p) = out.parents().first() else {
        return Ok((root_id.to_string(), Parent::Root));
    };
    let id = p.id().unwrap_or_default().to_string();
    if p.r#type() == Some(&ParentType::Root) || id == root_id {
        return Ok((id, Parent::Root));
    }
    if let Some((path, _)) = ous.iter().find(|(_, v)| **v == id) {
        return Ok((id, Parent::Ou(path.clone())));
    }
    let ou = orgs.describe_organizational_unit().organizational_unit_id(&id).send().await.map_err(|e| {
        call_error(e, SVC, "DescribeOrganizationalUnit", site, format!("naming the OU {id} of account {account_id}"))
    })?;
    let name = ou.organizational_unit().and_then(|o| o.name()).unwrap_or_default().to_string();
    Ok((id.clone(), Parent::Other { id, name }))
}

async fn observe_tags(
    orgs: &Client,
    site: &Site,
    account_id: &str,
    rep: &Reporter,
) -> Result<BTreeMap<String, String>> {
    rep.debug(format!("organizations:ListTagsForResource {account_id}"));
    let tags =
        orgs.list_tags_for_resource().resource_id(account_id).into_paginator().send().try_collect().await.map_err(
            |e| call_error(e, SVC, "ListTagsForResource", site, format!("reading the tags of account {account_id}")),
        )?;
    Ok(tags.iter().flat_map(|page| page.tags()).map(|t| (t.key().to_string(), t.value().to_string())).collect())
}

async fn observe_requests(orgs: &Client, site: &Site, rep: &Reporter) -> Result<Vec<CreateRequest>> {
    rep.debug("organizations:ListCreateAccountStatus");
    let statuses = orgs
        .list_create_account_status()
        .states(CreateAccountState::InProgress)
        .states(CreateAccountState::Failed)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            call_error(e, SVC, "ListCreateAccountStatus", site, "looking for account creations still in progress")
        })?;
    Ok(statuses.iter().flat_map(|page| page.create_account_statuses()).map(request_of).collect())
}

fn request_of(s: &aws_sdk_organizations::types::CreateAccountStatus) -> CreateRequest {
    CreateRequest {
        id: s.id().unwrap_or_default().to_string(),
        account_name: s.account_name().unwrap_or_default().to_string(),
        state: s.state().map(|x| x.as_str().to_string()).unwrap_or_default(),
        account_id: s.account_id().map(str::to_string),
        failure_reason: s.failure_reason().map(|r| r.as_str().to_string()),
    }
}

/// Bounds on waiting for asynchronous work.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub account_timeout: Duration,
}

/// Create the organization; its id and its root's id.
pub async fn create_organization(orgs: &Client, site: &Site) -> Result<(String, String)> {
    let org_id = match orgs.create_organization().feature_set(OrganizationFeatureSet::All).send().await {
        Ok(created) => created.organization().and_then(|o| o.id()).unwrap_or_default().to_string(),
        // An earlier try created it and its answer was lost: plan saw no
        // organization, so one the caller manages now is that one.
        Err(e) if error_code(&e) == Some("AlreadyInOrganizationException") => {
            let org = orgs.describe_organization().send().await.map_err(|e| {
                call_error(e, SVC, "DescribeOrganization", site, "reading the organization just created")
            })?;
            let org = org.organization();
            if org.and_then(|o| o.master_account_id()) != Some(site.account.as_str()) {
                return Err(hinted(
                    "the account joined another organization while sra was creating one",
                    "run sra with the management account's credentials",
                ));
            }
            org.and_then(|o| o.id()).unwrap_or_default().to_string()
        }
        Err(e) => return Err(call_error(e, SVC, "CreateOrganization", site, "creating the organization").into()),
    };
    let roots = orgs
        .list_roots()
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "ListRoots", site, "finding the new organization's root"))?;
    roots.roots().first().and_then(|r| r.id()).map(|root| (org_id, root.to_string())).ok_or_else(|| {
        hinted("the new organization has no root", "rerun sra; if it persists, check the organization in the console")
    })
}

/// The organization's accounts, as (id, email), that are neither `admin` nor in
/// `members`: what a regional service still has to enroll, as listed now.
pub async fn accounts_to_enroll(
    sessions: &crate::aws::Sessions,
    admin: &str,
    admin_too: bool,
    members: &std::collections::BTreeSet<String>,
    rep: &Reporter,
) -> Result<Vec<(String, String)>> {
    let site = sessions.site(&sessions.management_account);
    let all = list_accounts(&sessions.base.organizations(), &site, rep).await?;
    // ACTIVE accounts only: a closed one (SUSPENDED for 90 days) cannot be enrolled.
    let wanted = |a: &ObservedAccount| a.status == "ACTIVE" && (admin_too || a.id != admin) && !members.contains(&a.id);
    Ok(all.into_iter().filter(wanted).map(|a| (a.id, a.email)).collect())
}

/// The root tag that records the digest of the plan file last applied.
pub const APPLIED_TAG: &str = "sra:applied-digest";

/// Record on the organization root which plan file was applied, so a later plan
/// of the same file can say its changes are drift.
pub async fn record_applied(sessions: &crate::aws::Sessions, root_id: &str, digest: &str) -> Result<()> {
    let orgs = sessions.base.organizations();
    let site = sessions.site(&sessions.management_account);
    crate::aws::retry_races(|| {
        orgs.tag_resource()
            .resource_id(root_id)
            .tags(Tag::builder().key(APPLIED_TAG).value(digest).build().expect("key and value are set"))
            .send()
    })
    .await
    .map_err(|e| call_error(e, SVC, "TagResource", &site, "recording the applied plan on the organization root"))?;
    Ok(())
}

pub async fn enable_service_access(orgs: &Client, site: &Site, principal: &str) -> Result<()> {
    crate::aws::retry_races(|| orgs.enable_aws_service_access().service_principal(principal).send()).await.map_err(
        |e| call_error(e, SVC, "EnableAWSServiceAccess", site, format!("giving {principal} trusted access")),
    )?;
    Ok(())
}

pub async fn observe_trusted_access(orgs: &Client, site: &Site, rep: &Reporter) -> Result<Vec<String>> {
    rep.debug("organizations:ListAWSServiceAccessForOrganization");
    let pages =
        orgs.list_aws_service_access_for_organization().into_paginator().send().try_collect().await.map_err(|e| {
            call_error(
                e,
                SVC,
                "ListAWSServiceAccessForOrganization",
                site,
                "reading which services have trusted access",
            )
        })?;
    Ok(pages
        .iter()
        .flat_map(|p| p.enabled_service_principals())
        .filter_map(|p| p.service_principal().map(str::to_string))
        .collect())
}

pub async fn create_ou(orgs: &Client, site: &Site, parent_id: &str, path: &OuPath, rep: &Reporter) -> Result<String> {
    let out =
        crate::aws::retry_races(|| orgs.create_organizational_unit().parent_id(parent_id).name(path.name()).send())
            .await;
    match out {
        Ok(o) => Ok(o.organizational_unit().and_then(|u| u.id()).unwrap_or_default().to_string()),
        Err(e) if error_code(&e) == Some("DuplicateOrganizationalUnitException") => {
            // Made meanwhile (by a concurrent run): use it.
            let ous = child_ous(orgs, site, parent_id, &format!("finding OU \"{path}\""), rep).await?;
            ous.into_iter()
                .find(|(name, _)| name == path.name())
                .map(|(_, id)| id)
                .ok_or_else(|| hinted(format!("OU \"{path}\" exists but cannot be found"), "rerun sra"))
        }
        Err(e) => Err(call_error(e, SVC, "CreateOrganizationalUnit", site, format!("creating OU \"{path}\"")).into()),
    }
}

/// Send CreateAccount once. Never retried blindly: after an answer that may have
/// been lost, look for the request before sending again.
pub async fn create_account(
    orgs: &Client,
    site: &Site,
    role: AccountRole,
    name: &str,
    email: &str,
    access_role: &str,
    tags: &BTreeMap<String, String>,
    rep: &Reporter,
) -> Result<String> {
    let tags: Vec<Tag> =
        tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect();
    let purpose = format!("creating account \"{name}\" ({})", role.key());
    // A request found after a lost answer must be ours: never an older account
    // that had the same name (see `find_request`).
    let first_sent =
        aws_sdk_organizations::primitives::DateTime::from(std::time::SystemTime::now() - Duration::from_secs(60));
    let start = Instant::now();
    let mut finalizing_delay = Duration::from_secs(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = orgs
            .create_account()
            .account_name(name)
            .email(email)
            .role_name(access_role)
            .set_tags(Some(tags.clone()))
            .customize()
            .config_override(
                aws_sdk_organizations::config::Config::builder()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match sent {
            Ok(out) => {
                let id = out.create_account_status().and_then(|s| s.id()).unwrap_or_default().to_string();
                return Ok(id);
            }
            // A new organization is still being set up ("up to an hour"): a
            // definite refusal, so the same request is sent again, not looked for.
            Err(e)
                if error_code(&e) == Some("FinalizingOrganizationException")
                    && start.elapsed() < crate::aws::FINALIZING_WAIT =>
            {
                attempt -= 1;
                rep.waiting(format!(
                    "account.{}: waiting for AWS to finish setting up the new organization \
                     (FinalizingOrganizationException; up to an hour): {}s elapsed",
                    role.key(),
                    start.elapsed().as_secs()
                ));
                tokio::time::sleep(finalizing_delay).await;
                finalizing_delay = (finalizing_delay * 2).min(Duration::from_secs(30));
            }
            Err(e) if is_ambiguous(&e) || error_code(&e).is_some_and(is_transient_code) => {
                rep.progress(format!(
                    "account.{}: CreateAccount may not have reached AWS (attempt {attempt}); looking for the request before sending again",
                    role.key()
                ));
                tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
                if let Some(found) = find_request(orgs, site, name, email, first_sent).await? {
                    return Ok(found);
                }
                if attempt == 3 {
                    return Err(call_error(e, SVC, "CreateAccount", site, purpose).into());
                }
            }
            Err(e) => return Err(call_error(e, SVC, "CreateAccount", site, purpose).into()),
        }
    }
}

fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "TooManyRequestsException" | "ThrottlingException" | "ServiceException" | "ConcurrentModificationException"
    )
}

/// Our CreateAccount request, after its answer was lost: one for this account
/// name that is either done and made the account with our email (emails are
/// unique in AWS), or still in progress and made at or after `since` (our first
/// send, less a minute of clock skew). An older account that only had the same
/// name is never taken.
async fn find_request(
    orgs: &Client,
    site: &Site,
    name: &str,
    email: &str,
    since: aws_sdk_organizations::primitives::DateTime,
) -> Result<Option<String>> {
    let statuses: Vec<_> = orgs
        .list_create_account_status()
        .states(CreateAccountState::InProgress)
        .states(CreateAccountState::Succeeded)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            call_error(e, SVC, "ListCreateAccountStatus", site, format!("looking for a request for \"{name}\""))
        })?;
    let named = statuses.iter().flat_map(|page| page.create_account_statuses()).rev();
    for s in named.filter(|s| s.account_name() == Some(name)) {
        let ours = match (s.state(), s.account_id()) {
            (Some(CreateAccountState::Succeeded), Some(id)) => {
                let got = orgs.describe_account().account_id(id).send().await.map_err(|e| {
                    call_error(e, SVC, "DescribeAccount", site, format!("checking whether {id} is the account sent"))
                })?;
                got.account().and_then(|a| a.email()).is_some_and(|e| e.eq_ignore_ascii_case(email))
            }
            _ => s.requested_timestamp().is_some_and(|t| t.secs() >= since.secs()),
        };
        if ours {
            return Ok(s.id().map(str::to_string));
        }
    }
    Ok(None)
}

/// Poll a CreateAccount request until it ends; the new account's id.
pub async fn await_account(
    orgs: &Client,
    site: &Site,
    role: AccountRole,
    email: &str,
    request_id: &str,
    waits: Waits,
    rep: &Reporter,
) -> Result<String> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    let key = format!("account.{}", role.key());
    rep.started(
        &key,
        format!(
            "CreateAccount request {request_id} for {key} (AWS finishes it; a rerun waits for it, never sends another)"
        ),
    );
    let ended = |rep: &Reporter| rep.finished(&key);
    loop {
        let out =
            orgs.describe_create_account_status().create_account_request_id(request_id).send().await.map_err(|e| {
                call_error(
                    e,
                    SVC,
                    "DescribeCreateAccountStatus",
                    site,
                    format!("waiting for account.{} ({request_id})", role.key()),
                )
            })?;
        let status = out.create_account_status().map(request_of);
        let Some(status) = status else {
            return Err(hinted(
                format!("account.{}: AWS returned no status for {request_id}", role.key()),
                "rerun sra",
            ));
        };
        match status.state.as_str() {
            "SUCCEEDED" => {
                ended(rep);
                let id = status.account_id.unwrap_or_default();
                rep.progress(format!("account.{}: created account {id} in {}s", role.key(), start.elapsed().as_secs()));
                return Ok(id);
            }
            "FAILED" => {
                ended(rep);
                let reason = status.failure_reason.unwrap_or_else(|| "no reason given".into());
                if reason == "EMAIL_ALREADY_EXISTS"
                    && let Some(inside) = email_inside(orgs, site, email, request_id).await?
                {
                    // Not an outsider's: made (or being made) in this organization
                    // since this apply read live state.
                    return Err(hinted(
                        format!(
                            "account.{}: AWS could not create the account ({request_id}): EMAIL_ALREADY_EXISTS, {inside}",
                            role.key()
                        ),
                        format!(
                            "another sra apply or a person made it meanwhile: once it exists, rerun sra apply, which \
                             adopts the account with the plan's email (or set another accounts.{}.email)",
                            role.key()
                        ),
                    ));
                }
                return Err(hinted(
                    format!("account.{}: AWS could not create the account ({request_id}): {reason}", role.key()),
                    failure_hint(&reason, role, email),
                ));
            }
            state => {
                let waited = start.elapsed();
                if waited >= waits.account_timeout {
                    return Err(hinted(
                        format!("account.{}: still {state} after {}s ({request_id})", role.key(), waited.as_secs()),
                        "AWS is still creating the account: rerun sra later; it waits for this request instead of sending another",
                    ));
                }
                rep.waiting(format!(
                    "account.{}: waiting for AWS to create the account ({request_id}): {state}, {}s elapsed",
                    role.key(),
                    waited.as_secs()
                ));
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Before blaming an account outside the organization for a taken email: the
/// organization's own account with it, or else CreateAccount requests of
/// others in progress (their status does not say the email, so they are named
/// as what may hold it); `None` when neither exists.
async fn email_inside(orgs: &Client, site: &Site, email: &str, ours: &str) -> Result<Option<String>> {
    let (accounts, requests) = tokio::join!(
        orgs.list_accounts().into_paginator().send().try_collect(),
        orgs.list_create_account_status().states(CreateAccountState::InProgress).into_paginator().send().try_collect()
    );
    let accounts: Vec<_> = accounts
        .map_err(|e| call_error(e, SVC, "ListAccounts", site, format!("looking for {email} in the organization")))?;
    if let Some(a) =
        accounts.iter().flat_map(|p| p.accounts()).find(|a| a.email().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    {
        return Ok(Some(format!(
            "the email {email} belongs to account {} (\"{}\") in this organization, made since this apply read live state",
            a.id().unwrap_or_default(),
            a.name().unwrap_or_default()
        )));
    }
    let requests: Vec<_> = requests
        .map_err(|e| call_error(e, SVC, "ListCreateAccountStatus", site, "looking for other accounts being created"))?;
    let others: Vec<String> = requests
        .iter()
        .flat_map(|p| p.create_account_statuses())
        .filter(|r| r.id() != Some(ours))
        .map(|r| format!("\"{}\" ({})", r.account_name().unwrap_or_default(), r.id().unwrap_or_default()))
        .collect();
    if others.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "and this organization is creating other accounts right now, which may use {email}: {}",
        others.join(", ")
    )))
}

fn failure_hint(reason: &str, role: AccountRole, email: &str) -> String {
    match reason {
        "EMAIL_ALREADY_EXISTS" => format!(
            "the email {email} already belongs to an AWS account outside this organization (or one closed in the last 90 days): set another accounts.{}.email, or invite that account into the organization and rerun (sra adopts an account with the plan's email)",
            role.key()
        ),
        "ACCOUNT_LIMIT_EXCEEDED" => "the organization has reached its account quota: request an increase in Service Quotas (Organizations), then rerun".into(),
        "INVALID_EMAIL" => format!("AWS rejected {email}: use a deliverable address in accounts.{}.email", role.key()),
        "CONCURRENT_ACCOUNT_MODIFICATION" | "INTERNAL_FAILURE" => "a transient failure at AWS: rerun sra".into(),
        // Not transient: a rerun sends the same request (and the same tags).
        "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED" => format!(
            "AWS refused the request with its tags (accounts.{}.tags and the role tag sra adds): not transient, a rerun \
             sends the same; see CreateAccountStatus in the Organizations API reference",
            role.key()
        ),
        _ => "see the reason in the AWS Organizations documentation for CreateAccountStatus, fix it and rerun".into(),
    }
}

pub async fn move_account(orgs: &Client, site: &Site, account_id: &str, from: &str, to: &str) -> Result<()> {
    let sent = crate::aws::retry_races(|| {
        orgs.move_account().account_id(account_id).source_parent_id(from).destination_parent_id(to).send()
    })
    .await;
    // Already there (a rerun after a crash): nothing to do.
    done_if_exists(sent, &["DuplicateAccountException"])
        .map_err(|e| call_error(e, SVC, "MoveAccount", site, format!("moving account {account_id} into its OU")).into())
}

pub async fn tag_account(orgs: &Client, site: &Site, account_id: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    let tags: Vec<Tag> =
        tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect();
    crate::aws::retry_races(|| orgs.tag_resource().resource_id(account_id).set_tags(Some(tags.clone())).send())
        .await
        .map_err(|e| call_error(e, SVC, "TagResource", site, format!("tagging account {account_id}")))?;
    Ok(())
}
