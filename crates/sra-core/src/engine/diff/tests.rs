use std::collections::BTreeMap;

use super::*;
use crate::model::{AccountRole, CreateRequest, ObservedAccount, ObservedOrg};

fn desired() -> Desired {
    crate::plan_file::parse(
        r#"version = 1
[organization]
home_region = "us-east-1"
[accounts.security_tooling]
name = "Security Tooling"
email = "st@example.com"
ou = "Infra/Security"
[accounts.log_archive]
name = "Log Archive"
email = "la@example.com"
ou = "Infra/Security"
"#,
    )
    .map(|mut d| {
        // these tests are about the organization part
        d.log_archive.enabled = false;
        d.guardrails.enabled = false;
        d.services.guardduty.enabled = false;
        d.services.securityhub.enabled = false;
        d.services.inspector.enabled = false;
        d.services.macie = false;
        d.services.detective = false;
        d.baselines.enabled = false;
        for (service, _) in crate::services::delegation::SERVICES {
            d.services.delegated.insert(service.to_string(), false);
        }
        d
    })
    .unwrap()
}

fn org() -> ObservedOrg {
    ObservedOrg {
        id: "o-abc".into(),
        management_account_id: "111111111111".into(),
        feature_set: "ALL".into(),
        root_id: "r-root".into(),
        scp_enabled: true,
        rcp_enabled: true,
    }
}

fn converged() -> Observed {
    let d = desired();
    let mut ous = BTreeMap::new();
    ous.insert(OuPath::parse("Infra").unwrap(), "ou-infra".to_string());
    ous.insert(OuPath::parse("Infra/Security").unwrap(), "ou-sec".to_string());
    let accounts = d
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| ObservedAccount {
            id: format!("22222222222{i}"),
            name: a.name.clone(),
            email: a.email.to_uppercase(),
            status: "ACTIVE".into(),
            parent_id: Some("ou-sec".into()),
            parent: Some(Parent::Ou(a.ou.clone())),
            tags: a.tags.clone(),
        })
        .collect();
    Observed { caller_account: "111111111111".into(), organization: Some(org()), ous, accounts, ..Default::default() }
}

/// One line per change: `<action> <address>: <changed properties> [steps]`.
fn summary(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| {
            let props: Vec<String> = c
                .properties
                .iter()
                .filter(|p| p.changed())
                .map(|p| format!("{}={:?}->{:?}", p.name, p.before, p.after))
                .collect();
            let steps: Vec<String> =
                c.steps.iter().map(|s| format!("{s:?}").split([' ', '{']).next().unwrap().to_string()).collect();
            format!("{:?} {}: {} [{}]", c.action, c.address, props.join(" "), steps.join(","))
        })
        .collect()
}

#[test]
fn empty_caller_creates_everything_in_order() {
    let observed = Observed { caller_account: "111111111111".into(), ..Default::default() };
    let plan = diff(&desired(), &observed);
    assert!(plan.blockers.is_empty());
    let s = summary(&plan);
    assert_eq!(s.len(), 5, "{s:#?}");
    assert!(s[0].starts_with("Create organization: feature_set=None->Some(\"ALL\")"), "{s:#?}");
    assert!(s[1].starts_with("Create ou[\"Infra\"]"), "{s:#?}");
    assert!(s[2].starts_with("Create ou[\"Infra/Security\"]"), "{s:#?}");
    assert!(
        s[3].starts_with("Create account.security_tooling") && s[3].ends_with("[CreateAccount,MoveAccount]"),
        "{s:#?}"
    );
    assert!(s[4].starts_with("Create account.log_archive"), "{s:#?}");
    let ou_step = &plan.changes[2].steps[0];
    assert_eq!(
        ou_step,
        &Step::CreateOu {
            path: OuPath::parse("Infra/Security").unwrap(),
            parent: IdRef::Ou(OuPath::parse("Infra").unwrap())
        }
    );
    assert_eq!(plan.summary().create, 5);
}

#[test]
fn converged_state_has_no_changes() {
    let plan = diff(&desired(), &converged());
    assert!(!plan.has_changes(), "{:#?}", summary(&plan));
    assert_eq!(plan.summary().unchanged, 5);
}

#[test]
fn account_moved_out_of_its_ou_is_one_update() {
    let mut observed = converged();
    observed.accounts[1].parent = Some(Parent::Root);
    observed.accounts[1].parent_id = Some("r-root".into());
    let plan = diff(&desired(), &observed);
    assert_eq!(
        summary(&plan),
        ["Update account.log_archive: ou=Some(\"(root)\")->Some(\"Infra/Security\") [MoveAccount]"]
    );
    assert_eq!(
        plan.changes.last().unwrap().steps[0],
        Step::MoveAccount {
            account: IdRef::Known("222222222221".into()),
            from: IdRef::Known("r-root".into()),
            to: IdRef::Known("ou-sec".into())
        }
    );
}

#[test]
fn existing_account_without_role_tag_is_adopted() {
    let mut observed = converged();
    observed.accounts[0].tags.clear();
    observed.accounts[0].name = "Audit".into();
    let plan = diff(&desired(), &observed);
    assert_eq!(
        summary(&plan),
        ["Update account.security_tooling: tags.sra:account=None->Some(\"security-tooling\") [TagAccount]"]
    );
    let reason = &plan.changes.iter().find(|c| c.action == Action::Update).unwrap().reason;
    assert!(reason.contains("adopts the existing account 222222222220 (matched by email)"), "{reason}");
    assert!(reason.contains("sra does not rename accounts"), "{reason}");
}

#[test]
fn in_progress_request_is_awaited_not_duplicated() {
    let mut observed = converged();
    observed.accounts.remove(0);
    observed.create_requests.push(CreateRequest {
        id: "car-123".into(),
        account_name: "Security Tooling".into(),
        state: "IN_PROGRESS".into(),
        account_id: None,
        failure_reason: None,
    });
    let plan = diff(&desired(), &observed);
    let change = plan.changes.iter().find(|c| c.address == Address::Account(AccountRole::SecurityTooling)).unwrap();
    assert_eq!(
        change.steps[0],
        Step::AwaitAccount {
            role: AccountRole::SecurityTooling,
            request_id: "car-123".into(),
            email: "st@example.com".into()
        }
    );
    assert!(!change.steps.iter().any(|s| matches!(s, Step::CreateAccount { .. })));
    assert!(change.reason.contains("car-123"));
}

#[test]
fn failed_request_is_explained() {
    let mut observed = converged();
    observed.accounts.remove(1);
    observed.create_requests.push(CreateRequest {
        id: "car-9".into(),
        account_name: "Log Archive".into(),
        state: "FAILED".into(),
        account_id: None,
        failure_reason: Some("EMAIL_ALREADY_EXISTS".into()),
    });
    let plan = diff(&desired(), &observed);
    let change = plan.changes.last().unwrap();
    assert!(change.reason.contains("failed: EMAIL_ALREADY_EXISTS"), "{}", change.reason);
}

#[test]
fn member_caller_and_billing_only_org_are_blockers() {
    let mut observed = converged();
    observed.caller_account = "333333333333".into();
    let plan = diff(&desired(), &observed);
    assert!(plan.changes.is_empty());
    assert!(plan.blockers[0].message.contains("not the management account"));
    assert!(plan.blockers[0].hint.contains("111111111111"));

    let mut observed = converged();
    observed.organization.as_mut().unwrap().feature_set = "CONSOLIDATED_BILLING".into();
    let plan = diff(&desired(), &observed);
    assert!(plan.blockers[0].hint.contains("enable-all-features"));
}

#[test]
fn suspended_account_blocks() {
    let mut observed = converged();
    observed.accounts[0].status = "SUSPENDED".into();
    let plan = diff(&desired(), &observed);
    assert_eq!(plan.blockers.len(), 1);
    assert!(plan.blockers[0].message.contains("SUSPENDED"));
}

#[test]
fn missing_ou_under_existing_parent_references_known_id() {
    let mut observed = converged();
    observed.ous.remove(&OuPath::parse("Infra/Security").unwrap());
    for a in &mut observed.accounts {
        a.parent = Some(Parent::Ou(OuPath::parse("Infra").unwrap()));
        a.parent_id = Some("ou-infra".into());
    }
    let plan = diff(&desired(), &observed);
    let ou = plan.changes.iter().find(|c| c.action == Action::Create).unwrap();
    assert_eq!(
        ou.steps[0],
        Step::CreateOu { path: OuPath::parse("Infra/Security").unwrap(), parent: IdRef::Known("ou-infra".into()) }
    );
    assert_eq!(plan.summary(), crate::engine::plan::Summary { create: 1, update: 2, unchanged: 2 });
}

#[test]
fn trusted_access_follows_the_services_the_plan_turns_on() {
    assert_eq!(trusted_principals(&desired()), Vec::<String>::new());
    let mut d = desired();
    d.services.guardduty.enabled = true;
    d.services.delegated.insert("cloudtrail".into(), true);
    assert_eq!(
        trusted_principals(&d),
        ["cloudtrail.amazonaws.com", "guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com"]
    );
    // The trail needs CloudTrail's trusted access even when its delegation is off.
    let mut d = desired();
    d.log_archive.enabled = true;
    assert_eq!(trusted_principals(&d), ["cloudtrail.amazonaws.com"]);
    d.services.delegated.insert("config".into(), true);
    d.services.macie = true;
    assert_eq!(
        trusted_principals(&d),
        [
            "cloudtrail.amazonaws.com",
            "macie.amazonaws.com",
            "config.amazonaws.com",
            "config-multiaccountsetup.amazonaws.com"
        ]
    );
    // And `sra init` finds each principal's table in the same place.
    for p in trusted_principals(&d) {
        assert!(crate::services::service_of_principal(&p).is_some(), "{p}");
    }
    assert_eq!(crate::services::service_of_principal("malware-protection.guardduty.amazonaws.com"), Some("guardduty"));
    assert_eq!(crate::services::service_of_principal("example.amazonaws.com"), None);
}

/// Trusted Advisor's trusted access is a manual item (only its console enables
/// it), never a step; its delegation waits for it, then is registered.
#[test]
fn trusted_advisor_access_is_manual_and_its_delegation_waits_for_it() {
    let mut d = desired();
    d.services.delegated.remove("trusted_advisor");
    let mut observed = converged();
    let plan = diff(&d, &observed);
    let access = plan.changes.iter().find(|c| c.address.to_string().contains("reporting.trustedadvisor")).unwrap();
    assert!(access.steps.is_empty(), "{:?}", access.steps);
    assert!(access.manual[0].contains("Trusted Advisor console"), "{:?}", access.manual);
    let delegation = plan.changes.iter().find(|c| c.address.to_string().contains("trusted_advisor")).unwrap();
    assert!(delegation.steps.is_empty() && delegation.manual[0].contains("organizational view"));
    assert!(!plan.has_changes(), "nothing for apply to do yet");
    // Once a person turned it on, apply registers Security Tooling.
    observed.trusted_access.push("reporting.trustedadvisor.amazonaws.com".into());
    let plan = diff(&d, &observed);
    let delegation = plan.changes.iter().find(|c| c.address.to_string().contains("trusted_advisor")).unwrap();
    assert!(delegation.manual.is_empty());
    assert!(matches!(
        delegation.steps.as_slice(),
        [Step::Delegate { op: crate::services::delegation::DelegationOp::Register, .. }]
    ));
}

/// After organization.access_role changed, the live bucket, key and guardrail
/// policies still exempt only the old role: apply's first write in Log Archive
/// would be denied. The plan says so, with the steps, and stays clean otherwise.
#[test]
fn a_changed_access_role_that_live_policies_do_not_exempt_is_a_blocker_with_steps() {
    use crate::services::guardrails::{ObservedScp, Refs, desired as scps};
    use crate::services::log_archive::{self, BucketKind};
    let mut d = desired();
    d.log_archive.enabled = true;
    d.guardrails.enabled = true;
    let mut observed = converged();
    let ids = ids(&d, &observed);
    // What the last apply wrote, for the old access role.
    let mut old = ids.clone();
    old.access_role = "OldAccessRole".into();
    old.key_arn = Some("arn:aws:kms:us-east-1:222222222221:key/k".into());
    let mut g = d.guardrails.clone();
    g.exempt_roles = vec!["OldAccessRole".into()];
    for s in scps(&g, &Refs { ids: &old, log_archive: &d.log_archive, baselines: &d.baselines }) {
        observed.guardrails.policies.insert(
            s.name.to_string(),
            ObservedScp {
                id: "p".into(),
                description: String::new(),
                document: Some(s.document),
                targets: vec!["r-root".into()],
            },
        );
    }
    observed.log_archive = log_archive::desired(&d.log_archive, &old);
    let plan = diff(&d, &observed);
    let blocker = plan.blockers.iter().find(|b| b.message.contains("would deny the role sra works through")).unwrap();
    let la = ids.log_archive.clone().unwrap();
    assert!(
        blocker.message.contains(&format!("arn:aws:iam::{la}:role/OrganizationAccountAccessRole")),
        "{}",
        blocker.message
    );
    let bucket = ids.bucket_name(&d.log_archive, BucketKind::Log);
    assert!(
        blocker.message.contains(&format!("s3:PutBucketPolicy on arn:aws:s3:::{bucket} (denied by scp sra-guardrails-logging ProtectLogBuckets; bucket policy the bucket policy of {bucket} DenyWeakeningTheBucket)")),
        "{}",
        blocker.message
    );
    assert!(blocker.message.contains("kms:PutKeyPolicy"), "{}", blocker.message);
    assert!(blocker.hint.contains("set organization.access_role back"), "{}", blocker.hint);

    // The same live documents, written for the role the plan names: no blocker.
    let mut same = converged();
    same.log_archive = log_archive::desired(&d.log_archive, &ids);
    assert!(diff(&d, &same).blockers.iter().all(|b| !b.message.contains("would deny the role")));
}

/// The management account's email given for Log Archive: never adopted, never
/// moved into the Security OU; a blocker with a hint.
#[test]
fn the_management_account_is_never_adopted_as_an_sra_account() {
    let mut observed = converged();
    let la = observed.accounts.iter_mut().find(|a| a.email == "LA@EXAMPLE.COM").unwrap();
    la.id = "111111111111".into();
    let plan = diff(&desired(), &observed);
    assert_eq!(plan.blockers.len(), 1, "{:?}", plan.blockers);
    assert_eq!(
        plan.blockers[0].message,
        "account.log_archive: la@example.com is the email of the management account (111111111111), which cannot be Log Archive"
    );
    assert!(plan.blockers[0].hint.contains("accounts.log_archive.email"));
    assert!(plan.changes.iter().all(|c| !c.steps.iter().any(|s| matches!(s, Step::MoveAccount { .. }))));
}

/// A new account named like an existing one (another email): planned, with a
/// warning naming the existing account.
#[test]
fn a_new_account_named_like_an_existing_one_is_a_warning() {
    let mut observed = converged();
    let la = observed.accounts.iter_mut().find(|a| a.email == "LA@EXAMPLE.COM").unwrap();
    la.email = "old-logs@example.com".into();
    let plan = diff(&desired(), &observed);
    let change = plan.changes.iter().find(|c| c.address == Address::Account(AccountRole::LogArchive)).unwrap();
    assert_eq!(change.action, Action::Create);
    assert!(
        change.reason.contains(&format!(
            "warning: the account {} (old-logs@example.com) already has the name \"Log Archive\"",
            observed.accounts[1].id
        )),
        "{}",
        change.reason
    );
}

/// A plan never calls "unchanged" what apply will change: every change with steps
/// is a create or an update, whether the organization is empty, has its accounts
/// but no delegations yet, or has another administrator.
#[test]
fn every_change_apply_makes_is_planned_as_a_change() {
    let example = crate::plan_file::parse(include_str!("../../../../../plans/example.toml")).unwrap();
    let mut delegated_elsewhere = converged();
    delegated_elsewhere.guardduty.regions.insert(
        "us-east-1".into(),
        crate::services::guardduty::RegionState { admins: vec!["999999999999".into()], ..Default::default() },
    );
    for (name, observed) in [
        ("empty", Observed { caller_account: "111111111111".into(), ..Default::default() }),
        ("accounts, nothing delegated", converged()),
        ("another GuardDuty administrator", delegated_elsewhere),
    ] {
        let plan = diff(&example, &observed);
        let hidden: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::NoOp && !c.steps.is_empty())
            .map(|c| c.address.to_string())
            .collect();
        assert_eq!(hidden, Vec::<String>::new(), "{name}: unchanged, yet apply would write");
        // A value sra cannot read yet is unknown, never a guess that matches.
        for c in plan.changes.iter().filter(|c| matches!(c.address, Address::ServiceSettings { .. })) {
            if c.reason == crate::services::regional::REAPPLIED {
                assert!(
                    c.properties.iter().all(|p| p.before.is_none() || p.name.starts_with("detector")),
                    "{name}: {c:?}"
                );
            }
        }
    }
}

/// A log reader outside the organization is a blocker (the bucket policy would
/// deny it anyway); one inside is fine; with a partial account list (a lock
/// file) nothing is claimed.
#[test]
fn a_log_reader_outside_the_organization_is_a_blocker() {
    let mut d = desired();
    d.log_archive.enabled = true;
    d.log_archive.readers = Some(vec!["arn:aws:iam::444455556666:role/Auditor".into()]);
    let mut observed = converged();
    observed.accounts_complete = true;
    let plan = diff(&d, &observed);
    assert_eq!(plan.blockers.len(), 1, "{:?}", plan.blockers);
    assert!(
        plan.blockers[0].message.contains("444455556666, which is not in this organization"),
        "{}",
        plan.blockers[0].message
    );
    d.log_archive.readers = Some(vec!["arn:aws:iam::222222222220:role/Auditor".into()]);
    assert!(diff(&d, &observed).blockers.is_empty());
    // A reader in any other account of the organization: the proof's required
    // reads hold for it too.
    let mut audit = observed.accounts[0].clone();
    audit.id = "444455556666".into();
    audit.email = "audit@example.com".into();
    let mut with_audit = observed.clone();
    with_audit.accounts.push(audit);
    d.log_archive.readers = Some(vec!["arn:aws:iam::444455556666:role/Auditor".into()]);
    let plan = diff(&d, &with_audit);
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    assert_eq!(plan.proof.unwrap().failed().count(), 0);
    d.log_archive.readers = Some(vec!["arn:aws:iam::444455556666:role/Auditor".into()]);
    observed.accounts_complete = false;
    assert!(diff(&d, &observed).blockers.is_empty());
}
