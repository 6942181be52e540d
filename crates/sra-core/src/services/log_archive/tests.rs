use serde_json::json;

use super::*;

fn ids() -> Ids {
    Ids::example()
}

/// Live state that already matches the plan.
fn converged(spec: &LogArchiveSpec) -> ObservedLogArchive {
    desired(spec, &ids())
}

/// `<action> <address>: <changed props> [<ops>]` for every change that is not a no-op.
fn changes(spec: &LogArchiveSpec, have: &ObservedLogArchive) -> Vec<String> {
    diff(spec, &ids(), have)
        .iter()
        .filter(|c| c.action != Action::NoOp || !c.manual.is_empty())
        .map(|c| {
            let props: Vec<&str> = match c.action {
                Action::Create => vec![],
                _ => c.properties.iter().filter(|p| p.changed()).map(|p| p.name.as_str()).collect(),
            };
            let ops: Vec<String> = c
                .steps
                .iter()
                .map(|s| match s {
                    Step::LogArchive { op, .. } => format!("{op:?}"),
                    other => format!("{other:?}"),
                })
                .collect();
            format!("{:?} {}: {} [{}]", c.action, c.address, props.join(","), ops.join(","))
        })
        .collect()
}

/// A key an interrupted or concurrent apply left unnamed is a manual clean-up
/// item once the trail key exists (never deleted by sra); before, apply takes it.
#[test]
fn a_stray_sra_key_is_manual_clean_up_once_the_trail_key_exists() {
    let spec = LogArchiveSpec::default();
    let mut have = converged(&spec);
    have.stray_keys = vec!["arn:aws:kms:us-east-1:222222222222:key/stray".into()];
    let key = diff(&spec, &ids(), &have).into_iter().find(|c| c.address == Address::KmsKey).unwrap();
    assert_eq!(key.action, Action::NoOp);
    assert_eq!(key.manual.len(), 1);
    assert!(
        key.manual[0].starts_with("the key arn:aws:kms:us-east-1:222222222222:key/stray is tagged sra:managed"),
        "{}",
        key.manual[0]
    );
    assert!(key.manual[0].contains("schedule its deletion as the break-glass role"), "{}", key.manual[0]);
    have.key = None;
    let key = diff(&spec, &ids(), &have).into_iter().find(|c| c.address == Address::KmsKey).unwrap();
    assert_eq!((key.action, key.manual.len()), (Action::Create, 0));
}

#[test]
fn converged_state_has_no_changes() {
    let spec = LogArchiveSpec::default();
    assert_eq!(changes(&spec, &converged(&spec)), Vec::<String>::new());
}

#[test]
fn nothing_there_creates_everything_in_order() {
    let spec = LogArchiveSpec::default();
    let got = changes(&spec, &ObservedLogArchive::default());
    assert_eq!(
        got,
        [
            "Create log_archive.kms_key:  [CreateKey]",
            "Create log_archive.account_public_access_block:  [PutAccountPublicAccessBlock]",
            "Create log_archive.access_log_bucket:  [CreateBucket,PutPublicAccessBlock,PutOwnership,PutVersioning,PutEncryption,PutLifecycle,PutBucketPolicy]",
            "Create log_archive.log_bucket:  [CreateBucket,PutPublicAccessBlock,PutOwnership,PutVersioning,PutEncryption,PutLifecycle,PutLogging,PutBucketPolicy]",
            "Create trail:  [CreateTrail,PutEventSelectors,StartLogging]",
        ]
    );
}

#[test]
fn each_drift_maps_to_the_one_step_that_fixes_it() {
    let spec = LogArchiveSpec::default();
    type Drift = Box<dyn Fn(&mut ObservedLogArchive)>;
    let cases: Vec<(&str, Drift, &str)> = vec![
        (
            "versioning suspended",
            Box::new(|o| o.buckets.get_mut(&BucketKind::Log).unwrap().versioning = "Suspended".into()),
            "Update log_archive.log_bucket: versioning [PutVersioning]",
        ),
        (
            "a public access block flag off",
            Box::new(|o| {
                o.buckets
                    .get_mut(&BucketKind::AccessLog)
                    .unwrap()
                    .public_access_block
                    .as_mut()
                    .unwrap()
                    .restrict_public_buckets = false
            }),
            "Update log_archive.access_log_bucket: public_access_block.restrict_public_buckets [PutPublicAccessBlock]",
        ),
        (
            "default encryption removed",
            Box::new(|o| o.buckets.get_mut(&BucketKind::Log).unwrap().encryption = None),
            "Update log_archive.log_bucket: encryption.algorithm,encryption.kms_key,encryption.bucket_key [PutEncryption]",
        ),
        (
            "trail stopped",
            Box::new(|o| o.trail.as_mut().unwrap().logging = false),
            "Update trail: logging [StartLogging]",
        ),
        (
            "validation off",
            Box::new(|o| o.trail.as_mut().unwrap().log_file_validation = false),
            "Update trail: log_file_validation [UpdateTrail]",
        ),
        (
            "single region",
            Box::new(|o| o.trail.as_mut().unwrap().multi_region = false),
            "Update trail: multi_region [UpdateTrail]",
        ),
        (
            "rotation off",
            Box::new(|o| o.key.as_mut().unwrap().rotation = false),
            "Update log_archive.kms_key: rotation [EnableKeyRotation]",
        ),
        (
            "account block public access loosened",
            Box::new(|o| o.account_public_access_block.as_mut().unwrap().block_public_policy = false),
            "Update log_archive.account_public_access_block: block_public_policy [PutAccountPublicAccessBlock]",
        ),
        (
            "a statement removed from the bucket policy",
            Box::new(|o| {
                let p = o.buckets.get_mut(&BucketKind::Log).unwrap().policy.as_mut().unwrap();
                p["Statement"].as_array_mut().unwrap().remove(0);
            }),
            "Update log_archive.log_bucket: policy [PutBucketPolicy]",
        ),
    ];
    for (what, perturb, expect) in cases {
        let mut have = converged(&spec);
        perturb(&mut have);
        assert_eq!(changes(&spec, &have), [expect], "{what}");
    }
}

#[test]
fn an_equivalent_policy_written_differently_is_not_drift() {
    let spec = LogArchiveSpec::default();
    let mut have = converged(&spec);
    let bucket = have.buckets.get_mut(&BucketKind::Log).unwrap();
    let mut statements = bucket.policy.as_ref().unwrap()["Statement"].as_array().unwrap().clone();
    statements.reverse();
    for s in statements.iter_mut() {
        if let Some(a) = s.get("Action").and_then(|a| a.as_str()).map(str::to_string) {
            s["Action"] = json!([a]);
        }
    }
    bucket.policy = Some(json!({"Statement": statements, "Version": "2012-10-17"}));
    assert_eq!(changes(&spec, &have), Vec::<String>::new());
}

/// S3 enables Object Lock on an existing bucket in place: an update (never a
/// replacement), which says that the objects already there stay unlocked.
#[test]
fn object_lock_on_an_existing_bucket_is_an_update_that_says_what_it_leaves() {
    let mut spec = LogArchiveSpec::default();
    let have = converged(&spec);
    spec.object_lock = Some(ObjectLock { mode: "COMPLIANCE".into(), days: 365 });
    let d = diff(&spec, &ids(), &have);
    let bucket = d.iter().find(|c| c.address == Address::Bucket(BucketKind::Log)).unwrap();
    assert_eq!(bucket.action, Action::Update);
    assert!(bucket.manual.is_empty(), "{:?}", bucket.manual);
    assert_eq!(bucket.steps, [Step::LogArchive { target: Target::Bucket(BucketKind::Log), op: Op::PutObjectLock }]);
    assert!(bucket.reason.contains("not locked, only those written after"), "{}", bucket.reason);
    // a new bucket gets it at creation
    let fresh = changes(&spec, &ObservedLogArchive::default());
    assert!(fresh.iter().any(|c| c.contains("PutObjectLock")), "{fresh:?}");
}

#[test]
fn unknown_ids_render_as_known_after_apply() {
    let spec = LogArchiveSpec::default();
    let mut i = ids();
    i.log_archive = None;
    i.key_arn = None;
    assert_eq!(i.bucket_name(&spec, BucketKind::Log), "sra-org-trail-logs-(known after apply)-us-east-1");
    let d = diff(&spec, &i, &ObservedLogArchive::default());
    let trail = d.iter().find(|c| c.address == Address::Trail).unwrap();
    let kms = trail.properties.iter().find(|p| p.name == "kms_key").unwrap();
    assert_eq!(kms.after.as_deref(), Some(UNKNOWN));
}

#[test]
fn opting_out_leaves_everything_alone() {
    let spec = LogArchiveSpec { enabled: false, ..Default::default() };
    assert!(diff(&spec, &ids(), &ObservedLogArchive::default()).is_empty());
}

#[test]
fn bucket_policy_has_the_lock_down_statements() {
    let spec = LogArchiveSpec { break_glass_role: Some("BreakGlass".into()), ..Default::default() };
    let p = documents::bucket_policy(&spec, &ids(), BucketKind::Log);
    let sids: Vec<&str> = p["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap()).collect();
    assert_eq!(
        sids,
        [
            "DenyInsecureTransport",
            "DenyOutsideOrganization",
            "DenyWeakeningTheBucket",
            "DenyDeletingLogs",
            "CloudTrailAclCheck",
            "CloudTrailWrite",
            "ReadersReadLogFiles",
            "ConfigAclCheck",
            "ConfigWrite"
        ]
    );
    let write = &p["Statement"][5];
    assert_eq!(
        write["Resource"],
        json!([
            "arn:aws:s3:::sra-org-trail-logs-222222222222-us-east-1/AWSLogs/111111111111/*",
            "arn:aws:s3:::sra-org-trail-logs-222222222222-us-east-1/AWSLogs/o-abc/*"
        ])
    );
    assert_eq!(
        write["Condition"]["StringEquals"]["aws:SourceArn"],
        "arn:aws:cloudtrail:us-east-1:111111111111:trail/sra-organization-trail"
    );
    let exempt = &p["Statement"][2]["Condition"]["ArnNotLike"]["aws:PrincipalArn"];
    assert_eq!(
        exempt,
        &json!([
            "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
            "arn:aws:iam::222222222222:role/BreakGlass"
        ])
    );
}

#[test]
fn s3_data_events_exclude_the_log_buckets() {
    let mut spec = LogArchiveSpec::default();
    spec.trail.data_events = vec!["s3".into()];
    let sel = documents::event_selectors(&spec, &ids());
    let text = sel.to_string();
    assert!(text.contains("NotStartsWith"), "{text}");
    assert!(text.contains("arn:aws:s3:::sra-org-trail-logs-222222222222-us-east-1/"), "{text}");
    assert!(text.contains("arn:aws:s3:::sra-s3-access-logs-222222222222-us-east-1/"), "{text}");
}

/// The caller of CreateTrail and UpdateTrail (the management account) may
/// decrypt with the key, as CloudTrail requires for a bucket with an S3 Bucket
/// Key; it gets nothing else, and no other account is named.
#[test]
fn the_trail_creator_may_decrypt_with_the_key() {
    let p = documents::key_policy(&LogArchiveSpec::default(), &ids());
    let statements = p["Statement"].as_array().unwrap();
    let creator: Vec<&serde_json::Value> =
        statements.iter().filter(|s| s["Principal"]["AWS"] == json!("arn:aws:iam::111111111111:root")).collect();
    assert_eq!(creator.len(), 1, "{p}");
    assert_eq!((&creator[0]["Effect"], &creator[0]["Action"]), (&json!("Allow"), &json!("kms:Decrypt")));
}
