use super::*;

fn regions() -> Vec<String> {
    vec!["us-east-1".into(), "us-west-2".into()]
}

fn contact() -> SecurityContact {
    SecurityContact {
        name: "Security Operations".into(),
        title: "Security team".into(),
        email: "security@example.com".into(),
        phone: "+1-555-0100".into(),
    }
}

fn spec() -> BaselineSpec {
    BaselineSpec { security_contact: Some(contact()), ..Default::default() }
}

fn converged() -> AccountBaseline {
    AccountBaseline {
        ebs: regions().into_iter().map(|r| (r, true)).collect(),
        s3: Some([true; 4]),
        password: Some(PasswordPolicy::wanted(None)),
        contact: Some(contact()),
    }
}

fn known(id: &str) -> Target {
    Target { label: id.into(), account: IdRef::Known(id.into()) }
}

#[test]
fn a_converged_account_is_unchanged_and_each_drift_is_exactly_its_own() {
    let mut observed = ObservedBaselines::default();
    observed.accounts.insert("111".into(), converged());
    let changes = diff(&spec(), &regions(), &[known("111")], None, &observed);
    assert_eq!(changes.len(), 4);
    assert!(changes.iter().all(|c| c.action == Action::NoOp && c.steps.is_empty()), "{changes:#?}");

    let drifted = observed.accounts.get_mut("111").unwrap();
    drifted.ebs.insert("us-west-2".into(), false);
    drifted.contact.as_mut().unwrap().phone = "+1-555-0199".into();
    let changes = diff(&spec(), &regions(), &[known("111")], None, &observed);
    let changed: Vec<&Change> = changes.iter().filter(|c| c.action != Action::NoOp).collect();
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert_eq!(changed[0].address.to_string(), "baseline[\"111\"].ebs_default_encryption");
    assert_eq!(changed[0].action, Action::Update);
    assert_eq!(
        changed[0].steps,
        [Step::Baseline {
            account: IdRef::Known("111".into()),
            label: "111".into(),
            op: Op::EnableEbsEncryption { region: "us-west-2".into() }
        }]
    );
    assert_eq!(changed[1].address.to_string(), "baseline[\"111\"].security_contact");
    let phone = changed[1].properties.iter().find(|p| p.changed()).unwrap();
    assert_eq!((phone.name.as_str(), phone.after.as_deref()), ("phone", Some("+1-555-0100")));
}

/// CIS values are a floor: a stricter live policy is kept, and so is an expiry
/// the plan does not ask for (UpdateAccountPasswordPolicy resets what it is not sent).
#[test]
fn a_stricter_password_policy_is_kept_and_expiry_is_sent_back() {
    let live = PasswordPolicy {
        minimum_length: 20,
        require_symbols: true,
        require_numbers: false,
        require_uppercase: true,
        require_lowercase: true,
        allow_users_to_change: true,
        reuse_prevention: 5,
        max_age: Some(90),
        hard_expiry: false,
    };
    let mut observed = ObservedBaselines::default();
    observed.accounts.insert("111".into(), AccountBaseline { password: Some(live), ..converged() });
    let only = BaselineSpec { ebs_default_encryption: false, s3_block_public_access: false, ..Default::default() };
    let changes = diff(&only, &regions(), &[known("111")], None, &observed);
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c.action, Action::Update);
    let changed: Vec<(&str, Option<&str>, Option<&str>)> = c
        .properties
        .iter()
        .filter(|p| p.changed())
        .map(|p| (p.name.as_str(), p.before.as_deref(), p.after.as_deref()))
        .collect();
    assert_eq!(
        changed,
        [("require_numbers", Some("false"), Some("true")), ("password_reuse_prevention", Some("5"), Some("24"))]
    );
    let Step::Baseline { op: Op::UpdatePasswordPolicy { policy }, .. } = &c.steps[0] else { panic!("{c:#?}") };
    assert_eq!((policy.minimum_length, policy.max_age), (20, Some(90)));
}

#[test]
fn new_accounts_are_created_excluded_ones_left_alone_and_unreadable_ones_are_manual() {
    let mut observed = ObservedBaselines::default();
    observed.excluded.insert("222".into());
    observed.unreadable.insert("333".into(), "AccessDenied on sts:AssumeRole".into());
    let active = vec!["111".to_string(), "222".into(), "333".into()];
    let targets = targets(&active, &[AccountRole::SecurityTooling], &observed);
    let labels: Vec<&str> = targets.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["111", "333", "security_tooling"]);
    let changes = diff(&BaselineSpec::default(), &regions(), &targets, None, &observed);
    let new: Vec<&Change> = changes
        .iter()
        .filter(|c| matches!(&c.address, Address::Baseline { account, .. } if account == "security_tooling"))
        .collect();
    assert_eq!(new.len(), 3, "EBS, S3, password policy");
    assert!(new.iter().all(|c| c.action == Action::Create && !c.steps.is_empty()));
    assert!(
        new[0]
            .steps
            .iter()
            .all(|s| matches!(s, Step::Baseline { account: IdRef::Account(AccountRole::SecurityTooling), .. }))
    );
    let unread: Vec<&Change> = changes
        .iter()
        .filter(|c| matches!(&c.address, Address::Baseline { account, .. } if account == "333"))
        .collect();
    assert!(
        unread.iter().all(|c| c.action == Action::NoOp && c.steps.is_empty() && c.manual.len() == 1),
        "{unread:#?}"
    );
    assert!(unread[0].manual[0].contains("AccessDenied"));
}

/// Log Archive's account public access block is the log archive's resource
/// (`log_archive.account_public_access_block`): not planned twice.
#[test]
fn log_archives_account_public_access_block_is_not_planned_twice() {
    let observed = ObservedBaselines::default();
    let targets =
        [known("444"), Target { label: "log_archive".into(), account: IdRef::Account(AccountRole::LogArchive) }];
    let changes = diff(&BaselineSpec::default(), &regions(), &targets, Some("444"), &observed);
    assert!(changes.iter().all(|c| !matches!(c.address, Address::Baseline { kind: Kind::S3PublicAccessBlock, .. })));
    let off = BaselineSpec { enabled: false, ..Default::default() };
    assert!(diff(&off, &regions(), &targets, Some("444"), &observed).is_empty());
}
