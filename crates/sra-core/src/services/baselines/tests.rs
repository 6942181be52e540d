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
        config: BTreeMap::new(),
    }
}

fn known(id: &str) -> Target {
    Target { label: id.into(), account: IdRef::Known(id.into()) }
}

#[test]
fn a_converged_account_is_unchanged_and_each_drift_is_exactly_its_own() {
    let mut observed = ObservedBaselines::default();
    observed.accounts.insert("111".into(), converged());
    let changes = diff(&spec(), &regions(), &[known("111")], None, None, &observed, &mut vec![]);
    assert_eq!(changes.len(), 4);
    assert!(changes.iter().all(|c| c.action == Action::NoOp && c.steps.is_empty()), "{changes:#?}");

    let drifted = observed.accounts.get_mut("111").unwrap();
    drifted.ebs.insert("us-west-2".into(), false);
    drifted.contact.as_mut().unwrap().phone = "+1-555-0199".into();
    let changes = diff(&spec(), &regions(), &[known("111")], None, None, &observed, &mut vec![]);
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
    let changes = diff(&only, &regions(), &[known("111")], None, None, &observed, &mut vec![]);
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
    let changes = diff(&BaselineSpec::default(), &regions(), &targets, None, None, &observed, &mut vec![]);
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
    let changes = diff(&BaselineSpec::default(), &regions(), &targets, Some("444"), None, &observed, &mut vec![]);
    assert!(changes.iter().all(|c| !matches!(c.address, Address::Baseline { kind: Kind::S3PublicAccessBlock, .. })));
    let off = BaselineSpec { enabled: false, ..Default::default() };
    assert!(diff(&off, &regions(), &targets, Some("444"), None, &observed, &mut vec![]).is_empty());
}

fn recording() -> Recording {
    Recording {
        home_region: "us-east-1".into(),
        bucket: "logs".into(),
        key: "arn:key".into(),
        managed: vec!["444".into(), "555".into()],
    }
}

fn recorder(home: bool) -> RecorderState {
    RecorderState {
        recorder: Some(("default".into(), true, home)),
        recording: true,
        channel: Some(("default".into(), "logs".into(), Some("arn:key".into()))),
    }
}

fn recording_only() -> BaselineSpec {
    BaselineSpec {
        ebs_default_encryption: false,
        s3_block_public_access: false,
        password_policy: false,
        ..Default::default()
    }
}

/// Every account records in every governed region (global resources in the home
/// region only), to the log bucket; Security Tooling's and Log Archive's
/// recorders are the Config service's, and an account this apply creates is one
/// of those.
#[test]
fn every_other_account_records_everywhere_and_a_stopped_recorder_is_exactly_that() {
    let mut observed = ObservedBaselines::default();
    let targets = [
        known("111"),
        known("444"),
        Target { label: "log_archive".into(), account: IdRef::Account(AccountRole::LogArchive) },
    ];
    let changes =
        diff(&recording_only(), &regions(), &targets, Some("555"), Some(&recording()), &observed, &mut vec![]);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = &changes[0];
    assert_eq!((c.address.to_string().as_str(), c.action), ("baseline[\"111\"].config_recorder", Action::Create));
    let ops: Vec<(&str, &CfOp)> = c
        .steps
        .iter()
        .map(|s| match s {
            Step::Baseline { op: Op::Config { region, op }, .. } => (region.as_str(), op),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ops.len(), 6);
    assert_eq!(ops[0], ("us-east-1", &CfOp::PutRecorder { name: "default".into(), include_global: true }));
    assert_eq!(ops[3], ("us-west-2", &CfOp::PutRecorder { name: "default".into(), include_global: false }));
    assert!(c.properties.iter().any(|p| p.name == "us-west-2.delivery_bucket" && p.after.as_deref() == Some("logs")));

    let mut account = AccountBaseline::default();
    account.config.insert("us-east-1".into(), recorder(true));
    account.config.insert("us-west-2".into(), recorder(false));
    observed.accounts.insert("111".into(), account);
    let changes =
        diff(&recording_only(), &regions(), &targets, Some("555"), Some(&recording()), &observed, &mut vec![]);
    assert_eq!(changes[0].action, Action::NoOp, "{changes:#?}");

    observed.accounts.get_mut("111").unwrap().config.get_mut("us-west-2").unwrap().recording = false;
    let changes =
        diff(&recording_only(), &regions(), &targets, Some("555"), Some(&recording()), &observed, &mut vec![]);
    let changed: Vec<&Property> = changes[0].properties.iter().filter(|p| p.changed()).collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0].name.as_str(), changed[0].before.as_deref(), changed[0].after.as_deref()),
        ("us-west-2.recording", Some("off"), Some("on"))
    );
    assert_eq!(
        changes[0].steps,
        [Step::Baseline {
            account: IdRef::Known("111".into()),
            label: "111".into(),
            op: Op::Config { region: "us-west-2".into(), op: CfOp::StartRecorder { name: "default".into() } }
        }]
    );
}

/// Control Tower's recorder in an enrolled account stays as it is, reported;
/// the account's other regions are still recorded.
#[test]
fn control_towers_recorder_in_a_member_is_left_alone_and_reported() {
    let mut observed = ObservedBaselines::default();
    let mut account = AccountBaseline::default();
    account.config.insert(
        "us-east-1".into(),
        RecorderState {
            recorder: Some(("aws-controltower-BaselineConfigRecorder".into(), true, true)),
            recording: true,
            channel: Some(("aws-controltower-BaselineConfigDeliveryChannel".into(), "ct-logs".into(), None)),
        },
    );
    observed.accounts.insert("111".into(), account);
    let mut notes = vec![];
    let changes = diff(&recording_only(), &regions(), &[known("111")], None, Some(&recording()), &observed, &mut notes);
    assert!(
        changes[0]
            .steps
            .iter()
            .all(|s| matches!(s, Step::Baseline { op: Op::Config { region, .. }, .. } if region == "us-west-2")),
        "{changes:#?}"
    );
    assert_eq!(changes[0].steps.len(), 3);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("in us-east-1, Control Tower's \"aws-controltower-BaselineConfigRecorder\" is left"));
    // Without the Config service (or the log archive), no account is recorded.
    assert!(diff(&recording_only(), &regions(), &[known("111")], None, None, &observed, &mut vec![]).is_empty());
}
