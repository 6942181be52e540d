//! Desired vs observed → a [`Plan`]. Pure: no I/O, cannot fail; problems that stop
//! the plan are returned in it as blockers.

use super::order;
use super::plan::{Action, Address, Blocker, Change, IdRef, Plan, Property, Step};
use crate::model::{AccountRole, Desired, DesiredAccount, Observed, OuPath, Parent};
use crate::services::delegation;
use crate::services::log_archive::Ids;

/// The ids the log-archive resources are named after, as far as they are known.
pub fn ids(desired: &Desired, observed: &Observed) -> Ids {
    let la = desired.account(AccountRole::LogArchive);
    Ids {
        partition: crate::model::partition_of(&desired.home_region).to_string(),
        home_region: desired.home_region.clone(),
        management_account: observed.caller_account.clone(),
        access_role: desired.access_role.clone(),
        org_id: observed.organization.as_ref().map(|o| o.id.clone()),
        log_archive: observed.account_by_email(&la.email).map(|a| a.id.clone()),
        security_tooling: observed
            .account_by_email(&desired.account(AccountRole::SecurityTooling).email)
            .map(|a| a.id.clone()),
        key_arn: observed.log_archive.key.as_ref().and_then(|k| k.arn.clone()),
    }
}

/// Service principals that need trusted access for what the plan sets up.
/// Trusted access for Trusted Advisor "can be enabled using only AWS Trusted
/// Advisor" (Organizations guide, services-that-can-integrate-ta.html): its
/// organizational view is turned on in its console, which has no public API. A
/// manual item, never a step sra claims to make.
fn trusted_advisor_access() -> Change {
    Change {
        manual: vec![format!(
            "turn on Trusted Advisor's organizational view: sign in as an administrator in the management account, \
             open the Trusted Advisor console, in the navigation pane under Preferences choose Your organization, and \
             under Enable trusted access with AWS Organizations turn on Enabled (AWS Support User Guide, \
             organizational-view.html); Trusted Advisor enables {} itself. Then rerun sra apply, which registers \
             Security Tooling as its delegated administrator",
            delegation::TRUSTED_ADVISOR
        )],
        address: Address::TrustedAccess(delegation::TRUSTED_ADVISOR.to_string()),
        action: Action::NoOp,
        id: None,
        properties: vec![prop("enabled", None, Some("true"))],
        reason: "only Trusted Advisor's console can enable its trusted access".into(),
        steps: vec![],
    }
}

pub fn trusted_principals(desired: &Desired) -> Vec<String> {
    let services = &desired.services;
    let needs = |key: &str| match key {
        "cloudtrail" => desired.log_archive.enabled || delegation::enabled(services, key),
        "guardduty" => services.guardduty.enabled,
        "securityhub" => services.securityhub.enabled,
        "inspector" => services.inspector.enabled,
        "macie" => services.macie,
        "detective" => services.detective,
        other => delegation::enabled(services, other),
    };
    let mut out: Vec<String> = crate::services::TRUSTED_ACCESS
        .iter()
        .filter(|(key, _)| needs(key))
        .flat_map(|(_, principals)| principals.iter().map(|p| p.to_string()))
        .collect();
    if desired.baselines.enabled && desired.baselines.security_contact.is_some() {
        out.push(crate::services::ACCOUNT_MANAGEMENT.to_string());
    }
    out
}

pub fn diff(desired: &Desired, observed: &Observed) -> Plan {
    let mut plan = Plan {
        ids: ids(desired, observed),
        organization_id: observed.organization.as_ref().map(|o| o.id.clone()),
        caller_account: observed.caller_account.clone(),
        changes: Vec::new(),
        blockers: org_blockers(observed),
        destructive: vec![],
        proof: None,
        notes: vec![],
    };
    if !plan.blockers.is_empty() {
        return plan;
    }
    plan.changes.push(organization_change(observed));
    for path in desired.ou_paths() {
        plan.changes.push(ou_change(&path, observed));
    }
    for account in &desired.accounts {
        match account_change(account, desired, observed) {
            Ok(change) => plan.changes.push(change),
            Err(blocker) => plan.blockers.push(blocker),
        }
    }
    for principal in trusted_principals(desired) {
        let enabled = observed.trusted_access.contains(&principal);
        if principal == delegation::TRUSTED_ADVISOR && !enabled {
            plan.changes.push(trusted_advisor_access());
            continue;
        }
        plan.changes.push(Change {
            manual: vec![],
            address: Address::TrustedAccess(principal.clone()),
            action: if enabled { Action::NoOp } else { Action::Create },
            id: None,
            properties: vec![prop(
                "enabled",
                Some(if enabled { "true" } else { "false" }).filter(|_| enabled),
                Some("true"),
            )],
            reason: if enabled {
                String::new()
            } else {
                format!("{principal} needs trusted access to act for the organization")
            },
            steps: if enabled { vec![] } else { vec![Step::EnableServiceAccess { principal }] },
        });
    }
    plan.changes.extend(crate::services::plan_role::diff(
        desired.plan_role.as_deref(),
        &plan.ids,
        &observed.plan_roles,
    ));
    plan.changes.extend(crate::services::log_archive::diff(&desired.log_archive, &plan.ids, &observed.log_archive));
    plan.changes.extend(guardrail_changes(desired, observed, &plan.ids, &mut plan.blockers));
    plan.proof = prove_guardrails(desired, &plan.ids, &mut plan.blockers);
    plan.blockers.extend(live_lockout(desired, observed, &plan.ids));
    plan.blockers.extend(outside_readers(desired, observed));
    // Only ACTIVE accounts are enrolled and counted: a closed account stays in the
    // organization as SUSPENDED for 90 days, and no service can enable it.
    let accounts: Vec<(String, String)> =
        observed.accounts.iter().filter(|a| a.status == "ACTIVE").map(|a| (a.id.clone(), a.email.clone())).collect();
    // The regional security services: one shared diff, each service its own settings.
    {
        use crate::services::detective::{Detective, DetectiveSpec};
        use crate::services::regional::{Org, diff};
        use crate::services::{guardduty::GuardDuty, inspector::Inspector, macie::Macie, securityhub::SecurityHub};
        let org = Org {
            regions: &desired.governed_regions,
            home: &desired.home_region,
            admin: plan.ids.security_tooling.as_deref(),
            accounts: &accounts,
            root: observed.organization.as_ref().map(|o| o.root_id.as_str()),
        };
        let services = &desired.services;
        let detective = DetectiveSpec { enabled: services.detective, guardduty_enabled: services.guardduty.enabled };
        for (changes, destructive) in [
            diff::<GuardDuty>(&services.guardduty, &org, &observed.guardduty),
            diff::<SecurityHub>(&services.securityhub, &org, &observed.securityhub),
            diff::<Inspector>(&services.inspector, &org, &observed.inspector),
            diff::<Macie>(&services.macie, &org, &observed.macie),
            diff::<Detective>(&detective, &org, &observed.detective),
        ] {
            plan.changes.extend(changes);
            plan.destructive.extend(destructive);
        }
    }
    let config_on = crate::services::delegation::enabled(&desired.services, "config");
    plan.changes.extend(crate::services::config::diff(
        config_on,
        config_on && desired.log_archive.enabled,
        &desired.governed_regions,
        &plan.ids,
        &plan.ids.bucket_name(&desired.log_archive, crate::services::log_archive::BucketKind::Log),
        &observed.config,
        &mut plan.notes,
    ));
    plan.changes.extend(crate::services::accessanalyzer::diff(
        crate::services::delegation::enabled(&desired.services, "access_analyzer"),
        &desired.governed_regions,
        &observed.analyzers,
    ));
    let (delegations, refused) = crate::services::delegation::diff(
        &desired.services,
        plan.ids.security_tooling.as_deref(),
        &observed.delegations,
        &observed.trusted_access,
    );
    plan.changes.extend(delegations);
    plan.destructive.extend(refused);
    let recording = (config_on && desired.log_archive.enabled).then(|| crate::services::baselines::Recording {
        home_region: desired.home_region.clone(),
        bucket: plan.ids.bucket_name(&desired.log_archive, crate::services::log_archive::BucketKind::Log),
        key: plan.ids.key().to_string(),
        managed: [&plan.ids.security_tooling, &plan.ids.log_archive].into_iter().flatten().cloned().collect(),
    });
    let baselines = baseline_changes(desired, observed, &plan.ids, recording.as_ref(), &mut plan.notes);
    plan.changes.extend(baselines);
    order::sort(&mut plan.changes);
    plan
}

/// Every active account's baselines, the management account's included, and
/// those of the plan's accounts this apply creates.
fn baseline_changes(
    desired: &Desired,
    observed: &Observed,
    ids: &Ids,
    recording: Option<&crate::services::baselines::Recording>,
    notes: &mut Vec<String>,
) -> Vec<Change> {
    use crate::services::baselines;
    let mut active: Vec<String> =
        observed.accounts.iter().filter(|a| a.status == "ACTIVE").map(|a| a.id.clone()).collect();
    if !active.contains(&observed.caller_account) {
        active.insert(0, observed.caller_account.clone());
    }
    let missing: Vec<AccountRole> =
        desired.accounts.iter().filter(|a| observed.account_by_email(&a.email).is_none()).map(|a| a.role).collect();
    let targets = baselines::targets(&active, &missing, &observed.baselines);
    baselines::diff(
        &desired.baselines,
        &desired.governed_regions,
        &targets,
        ids.log_archive.as_deref(),
        recording,
        &observed.baselines,
        notes,
    )
}

/// The attack catalog against the policies this plan writes: a case that fails
/// is a blocker naming it (a hole opened, or sra or a service locked out).
fn prove_guardrails(
    desired: &Desired,
    ids: &Ids,
    blockers: &mut Vec<Blocker>,
) -> Option<crate::services::guardrails::proof::Proof> {
    use crate::services::guardrails::proof::{World, prove};
    if !desired.guardrails.enabled && !desired.log_archive.enabled {
        return None;
    }
    let proof = prove(&World {
        guardrails: &desired.guardrails,
        log_archive: &desired.log_archive,
        ids,
        security_tooling_ou: &desired.account(AccountRole::SecurityTooling).ou,
        log_archive_ou: &desired.account(AccountRole::LogArchive).ou,
        baselines: desired.baselines.clone(),
    });
    for row in proof.failed() {
        blockers.push(Blocker {
            message: format!("the planned policies fail the guardrail case \"{}\": {}", row.name, row.note),
            hint: "every case is in docs/guardrails.md: change [guardrails] (exempt_roles, disabled, attach_to) or [log_archive] so the case holds".into(),
        });
    }
    Some(proof)
}

/// Whether the policies live now would deny the role sra works through the writes
/// apply makes in Log Archive: after `organization.access_role` changed, the live
/// bucket, key and guardrail policies still exempt only the old role, and the
/// bucket steps run before the guardrails are rewritten. A blocker with the steps,
/// before anything is sent.
/// A log reader in an account outside the organization could never read: the
/// bucket policy denies everyone outside it (and the RCP too). Said before
/// anything is written, when the whole account list is known (a lock file spares
/// listing it, and then this is not checked).
fn outside_readers(desired: &Desired, observed: &Observed) -> Vec<Blocker> {
    let Some(readers) = desired.log_archive.readers.as_ref().filter(|_| desired.log_archive.enabled) else {
        return vec![];
    };
    if !observed.accounts_complete {
        return vec![];
    }
    readers
        .iter()
        .filter_map(|arn| {
            let account = arn.split(':').nth(4)?;
            (!observed.accounts.iter().any(|a| a.id == account)).then(|| Blocker {
                message: format!(
                    "[log_bucket] readers: {arn} is in account {account}, which is not in this organization; the log \
                     bucket's policy denies every principal outside the organization, so it could never read"
                ),
                hint: "name a role in an account of the organization (a security or audit account), or invite that \
                       account first"
                    .into(),
            })
        })
        .collect()
}

fn live_lockout(desired: &Desired, observed: &Observed, ids: &Ids) -> Vec<Blocker> {
    use crate::evaluate::{Named, Organization, Policies, Principal, Request, evaluate};
    let (Some(la), Some(org_id)) = (ids.log_archive.as_deref(), ids.org_id.as_deref()) else { return vec![] };
    if !desired.log_archive.enabled {
        return vec![];
    }
    let la_ou = &desired.account(AccountRole::LogArchive).ou;
    let mut reaching: Vec<&str> = observed.organization.iter().map(|o| o.root_id.as_str()).collect();
    for p in la_ou.prefixes().iter().chain(std::iter::once(la_ou)) {
        if let Some(id) = observed.ous.get(p) {
            reaching.push(id);
        }
    }
    let scps: Vec<Named> = observed
        .guardrails
        .policies
        .iter()
        .filter(|(_, h)| h.targets.iter().any(|t| reaching.contains(&t.as_str())))
        .filter_map(|(name, h)| h.document.as_ref().map(|d| Named { name: name.clone(), document: d }))
        .collect();
    let accounts = [ids.management_account.as_str(), la];
    let org = Organization { id: org_id, management_account: &ids.management_account, accounts: &accounts };
    let role = format!("arn:{}:iam::{la}:role/{}", ids.partition, desired.access_role);
    let mut writes: Vec<(String, String, Option<Named>, bool)> = Vec::new();
    for b in observed.log_archive.buckets.values() {
        let doc = b.policy.as_ref().map(|d| Named { name: format!("the bucket policy of {}", b.name), document: d });
        writes.push(("s3:PutBucketPolicy".into(), format!("arn:{}:s3:::{}", ids.partition, b.name), doc, false));
    }
    if let Some(k) = &observed.log_archive.key
        && let (Some(arn), Some(policy)) = (&k.arn, &k.policy)
    {
        writes.push((
            "kms:PutKeyPolicy".into(),
            arn.clone(),
            Some(Named { name: "the trail key's policy".into(), document: policy }),
            true,
        ));
    }
    let mut denied = Vec::new();
    for (action, resource, resource_policy, is_key) in writes {
        let request = Request {
            principal: Principal::Aws { arn: role.clone(), account: la.to_string() },
            action: action.clone(),
            resource: resource.clone(),
            resource_account: la.to_string(),
            context: [("aws:SecureTransport".to_string(), vec!["true".to_string()])].into(),
        };
        let policies = Policies {
            scps: scps.clone(),
            rcps: vec![],
            resource: resource_policy,
            resource_is_key: is_key,
            identity: None,
        };
        match evaluate(&org, &policies, &request) {
            Ok(d) if !d.allowed => {
                let by: Vec<String> = d.reasons.iter().map(|r| format!("{} {}", r.layer, r.detail)).collect();
                denied.push(format!("{action} on {resource} (denied by {})", by.join("; ")));
            }
            _ => {}
        }
    }
    if denied.is_empty() {
        return vec![];
    }
    vec![Blocker {
        message: format!("the policies live now would deny the role sra works through ({role}): {}", denied.join("; ")),
        hint: format!(
            "this happens after organization.access_role changed: the live policies exempt the old role. Either set \
             organization.access_role back to the role they exempt, or add {role} first: 1. in the management account, \
             add arn:{p}:iam::*:role/{r} to the aws:PrincipalArn list of every statement of the sra-guardrails-* \
             policies; 2. in Log Archive, as the old role, add {role} to the aws:PrincipalArn lists of \
             DenyWeakeningTheBucket in both bucket policies and of DenyKeyTampering in the key policy; 3. rerun sra \
             plan, then sra apply writes the documents for the new role",
            p = ids.partition,
            r = desired.access_role
        ),
    }]
}

fn guardrail_changes(desired: &Desired, observed: &Observed, ids: &Ids, blockers: &mut Vec<Blocker>) -> Vec<Change> {
    use crate::services::guardrails::{self, Places, Refs};
    let spec = &desired.guardrails;
    if !spec.enabled {
        return vec![];
    }
    let refs = Refs { ids, log_archive: &desired.log_archive, baselines: &desired.baselines };
    let places = Places { root: observed.organization.as_ref().map(|o| o.root_id.as_str()), ous: &observed.ous };
    let scps = guardrails::desired(spec, &refs);
    let locked_out = guardrails::missing_exemptions(&scps, &ids.partition, &desired.access_role);
    if !locked_out.is_empty() {
        blockers.push(Blocker {
            message: format!(
                "these guardrails would deny the role sra works through ({}): {}",
                desired.access_role,
                locked_out.join(", ")
            ),
            hint: "add the access role to [guardrails].exempt_roles".into(),
        });
    }
    let creatable = desired.ou_paths();
    for path in desired.guardrail_ous() {
        if !observed.ous.contains_key(&path) && !creatable.contains(&path) {
            blockers.push(Blocker {
                message: format!("guardrails.attach_to names the OU \"{path}\", which does not exist"),
                hint:
                    "create the OU, or fix the path in [guardrails].attach_to (sra creates only the OUs of [accounts])"
                        .into(),
            });
        }
    }
    for over in guardrails::over_limit(spec, &refs, &places, &observed.guardrails) {
        blockers.push(Blocker {
            message: format!(
                "too many service control policies: {over} (AWS allows {})",
                guardrails::MAX_SCPS_PER_TARGET
            ),
            hint: "detach another SCP from that target, or leave guardrails out with [guardrails].disabled".into(),
        });
    }
    guardrails::diff(spec, &refs, &places, &observed.guardrails)
}

fn org_blockers(observed: &Observed) -> Vec<Blocker> {
    let Some(org) = &observed.organization else {
        return vec![];
    };
    let mut out = Vec::new();
    if org.management_account_id != observed.caller_account {
        out.push(Blocker {
            message: format!(
                "the caller's account {} is not the management account of organization {} (its management account is {})",
                observed.caller_account, org.id, org.management_account_id
            ),
            hint: format!(
                "run sra with credentials of the management account {}, e.g. --profile <management-profile> or AWS_PROFILE",
                org.management_account_id
            ),
        });
    } else if org.feature_set != "ALL" {
        out.push(Blocker {
            message: format!("organization {} has only the {} feature set", org.id, org.feature_set),
            hint: "enable all features (aws organizations enable-all-features), have every member account approve the handshake, then rerun sra".into(),
        });
    }
    out
}

fn root_ref(observed: &Observed) -> IdRef {
    observed.organization.as_ref().map_or(IdRef::Root, |o| IdRef::Known(o.root_id.clone()))
}

fn ou_ref(path: &OuPath, observed: &Observed) -> IdRef {
    observed.ous.get(path).map_or_else(|| IdRef::Ou(path.clone()), |id| IdRef::Known(id.clone()))
}

fn prop(name: &str, before: Option<&str>, after: Option<&str>) -> Property {
    Property { name: name.to_string(), before: before.map(str::to_string), after: after.map(str::to_string) }
}

fn organization_change(observed: &Observed) -> Change {
    match &observed.organization {
        Some(org) => Change {
            manual: vec![],
            address: Address::Organization,
            action: Action::NoOp,
            id: Some(org.id.clone()),
            properties: vec![prop("feature_set", Some(&org.feature_set), Some("ALL"))],
            reason: String::new(),
            steps: vec![],
        },
        None => Change {
            manual: vec![],
            address: Address::Organization,
            action: Action::Create,
            id: None,
            properties: vec![prop("feature_set", None, Some("ALL")), prop("management_account", None, Some(&observed.caller_account))],
            reason: "the caller's account is in no organization: sra creates one with all features, managed from this account".into(),
            steps: vec![Step::CreateOrganization],
        },
    }
}

fn ou_change(path: &OuPath, observed: &Observed) -> Change {
    let parent_label = path.parent().map_or_else(|| Parent::Root.to_string(), |p| p.to_string());
    match observed.ous.get(path) {
        Some(id) => Change {
            manual: vec![],
            address: Address::Ou(path.clone()),
            action: Action::NoOp,
            id: Some(id.clone()),
            properties: vec![prop("parent", Some(&parent_label), Some(&parent_label))],
            reason: String::new(),
            steps: vec![],
        },
        None => {
            let parent = match path.parent() {
                Some(p) => ou_ref(&p, observed),
                None => root_ref(observed),
            };
            Change {
                manual: vec![],
                address: Address::Ou(path.clone()),
                action: Action::Create,
                id: None,
                properties: vec![prop("name", None, Some(path.name())), prop("parent", None, Some(&parent_label))],
                reason: "no OU of this name under its parent".into(),
                steps: vec![Step::CreateOu { path: path.clone(), parent }],
            }
        }
    }
}

fn account_change(want: &DesiredAccount, desired: &Desired, observed: &Observed) -> Result<Change, Blocker> {
    let address = Address::Account(want.role);
    let target = ou_ref(&want.ou, observed);
    let Some(have) = observed.account_by_email(&want.email) else {
        return Ok(new_account(want, desired, observed, address, target));
    };
    let management =
        observed.organization.as_ref().map_or(observed.caller_account.as_str(), |o| o.management_account_id.as_str());
    if have.id == management {
        return Err(Blocker {
            message: format!(
                "{address}: {} is the email of the management account ({}), which cannot be {}",
                want.email,
                have.id,
                want.role.label()
            ),
            hint: format!(
                "give accounts.{}.email an address no account uses yet (sra creates the account), or the email of \
                 the member account to adopt: the SRA keeps security tooling and logs out of the management account",
                want.role.key()
            ),
        });
    }
    if !matches!(have.status.as_str(), "ACTIVE" | "PENDING_ACTIVATION") {
        return Err(Blocker {
            message: format!(
                "{address}: the account with email {} ({}) is {}",
                want.email, have.id, have.status
            ),
            hint: "sra never reopens or closes accounts: restore the account through AWS Support, or give the plan another email".into(),
        });
    }
    let mut properties = Vec::new();
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let wanted_parent = Parent::Ou(want.ou.clone());
    let live_parent = have.parent.clone().unwrap_or(Parent::Root);
    properties.push(prop("ou", Some(&live_parent.to_string()), Some(&want.ou.to_string())));
    if live_parent != wanted_parent {
        let from = have.parent_id.clone().map_or_else(|| root_ref(observed), IdRef::Known);
        steps.push(Step::MoveAccount { account: IdRef::Known(have.id.clone()), from, to: target });
        notes.push("it is not in its OU".to_string());
    }
    let mut retag = std::collections::BTreeMap::new();
    for (k, v) in &want.tags {
        let before = have.tags.get(k).map(String::as_str);
        properties.push(prop(&format!("tags.{k}"), before, Some(v)));
        if before != Some(v.as_str()) {
            retag.insert(k.clone(), v.clone());
        }
    }
    if !retag.is_empty() {
        steps.push(Step::TagAccount { account: IdRef::Known(have.id.clone()), tags: retag });
        notes.push("its tags differ".to_string());
    }
    if !have.tags.contains_key(crate::model::ROLE_TAG) {
        notes.insert(0, format!("adopts the existing account {} (matched by email)", have.id));
    }
    if have.name != want.name {
        notes.push(format!("its name is \"{}\", not \"{}\" (sra does not rename accounts)", have.name, want.name));
    }
    Ok(Change {
        manual: vec![],
        address,
        action: if steps.is_empty() { Action::NoOp } else { Action::Update },
        id: Some(have.id.clone()),
        properties,
        reason: notes.join("; "),
        steps,
    })
}

fn new_account(
    want: &DesiredAccount,
    desired: &Desired,
    observed: &Observed,
    address: Address,
    target: IdRef,
) -> Change {
    let account = IdRef::Account(want.role);
    let mut properties = vec![
        prop("name", None, Some(&want.name)),
        prop("email", None, Some(&want.email)),
        prop("ou", None, Some(&want.ou.to_string())),
    ];
    for (k, v) in &want.tags {
        properties.push(prop(&format!("tags.{k}"), None, Some(v)));
    }
    let same_name =
        |state: &str| observed.create_requests.iter().find(|r| r.state == state && r.account_name == want.name);
    let move_step = Step::MoveAccount { account: account.clone(), from: root_ref(observed), to: target };
    if let Some(pending) = same_name("IN_PROGRESS") {
        return Change {
            manual: vec![],
            address,
            action: Action::Create,
            id: None,
            properties,
            reason: format!(
                "a CreateAccount request ({}) for \"{}\" is still in progress, likely from an interrupted run: apply waits for it instead of creating a second account",
                pending.id, want.name
            ),
            steps: vec![
                Step::AwaitAccount { role: want.role, request_id: pending.id.clone(), email: want.email.clone() },
                move_step,
                Step::TagAccount { account, tags: want.tags.clone() },
            ],
        };
    }
    let mut reason = "no account in the organization has this email".to_string();
    // AWS allows two accounts with one name; people rarely mean it.
    for other in observed.accounts.iter().filter(|a| a.name.eq_ignore_ascii_case(&want.name)) {
        reason.push_str(&format!(
            "; warning: the account {} ({}) already has the name \"{}\": AWS allows a second one, but if that is \
             the account you meant, give its email instead",
            other.id, other.email, other.name
        ));
    }
    if let Some(failed) = same_name("FAILED") {
        reason.push_str(&format!(
            "; an earlier request for \"{}\" ({}) failed: {}",
            want.name,
            failed.id,
            failed.failure_reason.as_deref().unwrap_or("no reason given")
        ));
    }
    Change {
        manual: vec![],
        address,
        action: Action::Create,
        id: None,
        properties,
        reason,
        steps: vec![
            Step::CreateAccount {
                role: want.role,
                name: want.name.clone(),
                email: want.email.clone(),
                access_role: desired.access_role.clone(),
                tags: want.tags.clone(),
            },
            move_step,
        ],
    }
}

#[cfg(test)]
mod tests;
