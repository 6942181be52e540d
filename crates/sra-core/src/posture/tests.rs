use super::*;

fn finding(id: &str, severity: Severity, kind: Kind, account: &str, first_seen: &str) -> Finding {
    Finding {
        id: id.into(),
        severity,
        kind,
        account_id: account.into(),
        region: "us-east-1".into(),
        product: "Security Hub".into(),
        title: format!("finding {id}"),
        resource: format!("arn:aws:s3:::{id}"),
        first_seen: first_seen.into(),
    }
}

fn accounts() -> BTreeMap<String, Account> {
    [("111111111111", "Security Tooling", true), ("222222222222", "Workload", false)]
        .into_iter()
        .map(|(id, name, critical)| {
            (id.to_string(), Account { id: id.into(), name: name.into(), ou: String::new(), critical })
        })
        .collect()
}

#[test]
fn the_queue_ranks_severity_then_kind_then_critical_accounts_then_age() {
    let day = |d: u32| format!("2026-11-{d:02}T00:00:00Z");
    let findings = vec![
        finding("posture-high-old", Severity::High, Kind::Posture, "222222222222", &day(1)),
        finding("threat-high", Severity::High, Kind::Threat, "222222222222", &day(20)),
        finding("critical-posture", Severity::Critical, Kind::Posture, "222222222222", &day(25)),
        finding("posture-high-critical-account", Severity::High, Kind::Posture, "111111111111", &day(28)),
        finding("posture-high-newer", Severity::High, Kind::Posture, "222222222222", &day(10)),
        finding("sequence-high", Severity::High, Kind::AttackSequence, "222222222222", &day(29)),
        finding("exploit-high", Severity::High, Kind::KnownExploit, "222222222222", &day(29)),
    ];
    let ids: Vec<String> = rank(&findings, &accounts()).into_iter().map(|f| f.id).collect();
    assert_eq!(
        ids,
        [
            "critical-posture",
            "sequence-high",
            "threat-high",
            "exploit-high",
            "posture-high-critical-account",
            "posture-high-old",
            "posture-high-newer"
        ]
    );
}

#[test]
fn the_queue_holds_twenty_distinct_findings() {
    let mut findings: Vec<Finding> = (0..30)
        .map(|i| finding(&format!("f{i:02}"), Severity::Low, Kind::Posture, "222222222222", "2026-11-01"))
        .collect();
    findings.push(findings[0].clone());
    let ranked = rank(&findings, &accounts());
    assert_eq!(ranked.len(), QUEUE);
    assert_eq!(ranked[0].id, "f00");
    assert_eq!(ranked[1].id, "f01");
}

#[test]
fn kinds_come_from_the_product_types_title_and_exploit() {
    let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        Kind::of("GuardDuty", &t(&["TTPs/AttackSequence:IAM-CompromisedCredentials"]), "", false),
        Kind::AttackSequence
    );
    assert_eq!(Kind::of("GuardDuty", &t(&["TTPs/Initial Access/UnauthorizedAccess"]), "", false), Kind::Threat);
    assert_eq!(
        Kind::of("Inspector", &t(&["Software and Configuration Checks/Vulnerabilities/CVE"]), "CVE-1", true),
        Kind::KnownExploit
    );
    assert_eq!(
        Kind::of("Inspector", &t(&["Software and Configuration Checks/Vulnerabilities/CVE"]), "CVE-2", false),
        Kind::Posture
    );
    assert_eq!(
        Kind::of(
            "IAM Access Analyzer",
            &t(&["Software and Configuration Checks/AWS Security Best Practices/External Access Granted"]),
            "",
            false
        ),
        Kind::Exposed
    );
    assert_eq!(
        Kind::of("Security Hub", &t(&[]), "S3 general purpose buckets should block public read access", false),
        Kind::Exposed
    );
    assert_eq!(Kind::of("Security Hub", &t(&[]), "IAM root user access key should not exist", false), Kind::Posture);
}

fn coverage() -> Coverage {
    let set = |ids: &[&str]| Some(ids.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>());
    let regions = vec!["us-east-1".to_string(), "us-west-2".to_string()];
    let mut members = BTreeMap::new();
    members.insert(
        "guardduty",
        BTreeMap::from([("us-east-1".to_string(), set(&["222", "333"])), ("us-west-2".to_string(), set(&["222"]))]),
    );
    members.insert(
        "macie",
        BTreeMap::from([("us-east-1".to_string(), set(&["222", "333"])), ("us-west-2".to_string(), None)]),
    );
    let mut recording = BTreeMap::new();
    for a in ["111", "222", "333"] {
        for r in &regions {
            let state = if a == "333" && r == "us-east-1" { Recorder::Stopped } else { Recorder::Recording };
            recording.insert((a.to_string(), r.clone()), state);
        }
    }
    recording.remove(&("222".to_string(), "us-west-2".to_string()));
    Coverage {
        accounts: vec!["111".into(), "222".into(), "333".into()],
        admin: Some("111".into()),
        admin_scanned: BTreeMap::new(),
        members,
        recording: Some(recording),
        linked: Some(BTreeSet::from(["us-east-1".to_string()])),
        regions,
        reported: Reported::default(),
    }
}

#[test]
fn blind_spots_are_every_account_a_service_misses_in_a_region() {
    let spots: Vec<(String, String, String)> =
        blind_spots(&coverage()).into_iter().map(|s| (s.service, s.region, s.account_id)).collect();
    let want: Vec<(String, String, String)> = [
        ("config", "us-east-1", "333"),
        ("config", "us-west-2", "222"),
        ("guardduty", "us-west-2", "333"),
        ("macie", "us-west-2", "222"),
        ("macie", "us-west-2", "333"),
        ("securityhub", "us-west-2", "111"),
        ("securityhub", "us-west-2", "222"),
        ("securityhub", "us-west-2", "333"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.into(), b.into(), c.into()))
    .collect();
    assert_eq!(spots, want);
    let reasons: BTreeSet<String> = blind_spots(&coverage()).into_iter().map(|s| s.reason).collect();
    assert!(reasons.iter().all(|r| !r.is_empty() && crate::render::debug_text(r).is_none()), "{reasons:?}");
}

#[test]
fn inspector_covers_security_tooling_too_and_says_what_it_scans() {
    let mut c = coverage();
    c.recording = None;
    c.linked = None;
    c.members.clear();
    let set = |ids: &[&str]| Some(ids.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>());
    c.members.insert(
        "inspector",
        BTreeMap::from([
            ("us-east-1".to_string(), set(&["222", "333"])),
            ("us-west-2".to_string(), set(&["111", "222", "333"])),
        ]),
    );
    c.admin_scanned.insert("inspector", "EC2, ECR".into());
    let spots = blind_spots(&c);
    assert_eq!(spots.len(), 1, "{spots:?}");
    assert_eq!((spots[0].region.as_str(), spots[0].account_id.as_str()), ("us-east-1", "111"));
    assert!(spots[0].reason.contains("EC2, ECR"), "{}", spots[0].reason);
}

#[test]
fn full_coverage_has_no_blind_spot() {
    let mut c = coverage();
    c.members.clear();
    c.recording = None;
    c.linked = Some(c.regions.iter().cloned().collect());
    assert!(blind_spots(&c).is_empty());
}

fn control(id: &str, title: &str, failed: u64, sample: &[(&str, &str)], complete: bool) -> ControlRead {
    ControlRead {
        id: id.into(),
        title: title.into(),
        failed,
        sample: sample.iter().map(|(a, r)| (a.to_string(), r.to_string())).collect(),
        complete,
    }
}

fn read() -> Read {
    Read {
        organization_id: "o-example".into(),
        generated_at: "2026-11-30T12:00:00Z".into(),
        home_region: "us-east-1".into(),
        accounts: accounts(),
        by_severity: BTreeMap::from([(Severity::Critical, 1), (Severity::High, 3)]),
        by_account: BTreeMap::from([
            ("222222222222".to_string(), BTreeMap::from([(Severity::Critical, 1), (Severity::High, 2)])),
            ("111111111111".to_string(), BTreeMap::from([(Severity::High, 1)])),
        ]),
        findings: vec![finding("f1", Severity::Critical, Kind::Posture, "222222222222", "2026-11-20T00:00:00Z")],
        controls: vec![
            control("S3.1", "S3 block public access", 4, &[("111111111111", "us-east-1")], true),
            control(
                "IAM.6",
                "Hardware MFA for root",
                9,
                &[("222222222222", "us-east-1"), ("222222222222", "eu-west-1")],
                false,
            ),
            control("EC2.2", "Default security group", 0, &[], true),
        ],
        coverage: coverage(),
        notes: vec![],
    }
}

#[test]
fn the_document_counts_every_label_and_ages_the_queue() {
    let doc = document(&read(), None);
    assert_eq!(doc.format_version, FORMAT_VERSION);
    assert_eq!(
        doc.by_severity,
        BTreeMap::from([
            ("CRITICAL".to_string(), 1),
            ("HIGH".to_string(), 3),
            ("MEDIUM".to_string(), 0),
            ("LOW".to_string(), 0),
            ("INFORMATIONAL".to_string(), 0)
        ])
    );
    assert_eq!(doc.by_account["222222222222"], BTreeMap::from([("CRITICAL".to_string(), 1), ("HIGH".to_string(), 2)]));
    assert_eq!(doc.top[0].age_days, 10);
    assert_eq!(doc.top[0].account_name, "Workload");
    let controls: Vec<(&str, u64, bool)> =
        doc.failing_controls.iter().map(|c| (c.id.as_str(), c.failed, c.noise.is_some())).collect();
    assert_eq!(controls, [("IAM.6", 9, true), ("S3.1", 4, false)]);
    let affected: Vec<(u64, bool)> =
        doc.failing_controls.iter().map(|c| (c.accounts_affected, c.accounts_exact)).collect();
    assert_eq!(affected, [(1, false), (1, true)]);
    assert_eq!(doc.blind_spots.len(), 8);
}

#[test]
fn the_gate_fails_at_or_above_its_threshold_only() {
    let doc = document(&read(), None);
    assert!(fails(&doc, Severity::Critical));
    let mut quiet = read();
    quiet.by_severity = BTreeMap::from([(Severity::Medium, 5)]);
    let quiet = document(&quiet, None);
    assert!(!fails(&quiet, Severity::Critical));
    assert!(!fails(&quiet, Severity::High));
    assert!(fails(&quiet, Severity::Medium));
    assert!(fails(&quiet, Severity::Low));
}

#[test]
fn a_comparison_shows_changes_and_what_came_and_went() {
    let before = document(&read(), None);
    let mut now = read();
    now.by_severity.insert(Severity::Critical, 0);
    now.by_account.get_mut("222222222222").unwrap().remove(&Severity::Critical);
    now.findings = vec![finding("f2", Severity::High, Kind::Threat, "222222222222", "2026-11-29T00:00:00Z")];
    now.coverage.linked = Some(now.coverage.regions.iter().cloned().collect());
    let doc = document(&now, Some(&before));
    let c = doc.since.unwrap();
    assert_eq!(c.by_severity["CRITICAL"], -1);
    assert_eq!(c.by_severity["HIGH"], 0);
    assert_eq!(c.by_account, BTreeMap::from([("222222222222".into(), BTreeMap::from([("CRITICAL".into(), -1)]))]));
    assert_eq!((c.new_in_top, c.gone_from_top), (vec!["f2".to_string()], vec!["f1".to_string()]));
    assert_eq!(c.closed_blind_spots.len(), 3);
    assert!(c.new_blind_spots.is_empty());
}

#[test]
fn ages_count_whole_days_across_months_and_years() {
    assert_eq!(age_days("2026-02-27T10:00:00Z", "2026-03-01T09:00:00Z"), 2);
    assert_eq!(age_days("2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z"), 1);
    assert_eq!(age_days("2024-02-28", "2024-03-01"), 2);
    assert_eq!(age_days("garbage", "2026-01-01"), 0);
}

#[test]
fn renderings_show_every_section_in_words() {
    let doc = document(&read(), None);
    for text in [render::human(&doc), render::markdown(&doc)] {
        for needle in ["Blind spots", "at first", "by account", "failing controls", "Workload (222222222222)", "IAM.6"]
        {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        assert_eq!(crate::render::debug_text(&text), None, "{text}");
    }
    let parsed: PostureDocument = serde_json::from_str(&render::json(&doc)).unwrap();
    assert_eq!(parsed, doc);
}

#[test]
fn markdown_is_cut_under_the_comment_limit_with_a_note() {
    let mut big = read();
    for i in 0..3000 {
        let id = format!("{i:012}");
        big.by_account.insert(id.clone(), BTreeMap::from([(Severity::Low, 1)]));
        big.coverage.accounts.push(id);
    }
    let text = render::markdown(&document(&big, None));
    assert!(text.len() <= render::MARKDOWN_LIMIT, "{}", text.len());
    let long = "line of text\n".repeat(10_000);
    let cut = render::cut(long, render::MARKDOWN_LIMIT);
    assert!(cut.len() <= render::MARKDOWN_LIMIT);
    assert!(cut.ends_with("has everything._\n"));
}

/// docs/posture.schema.json is what readers of `sra posture --format json` rely
/// on: it must match the types. Regenerate with `SRA_UPDATE_SCHEMA=1 cargo test`.
#[test]
fn checked_in_schema_is_fresh() {
    crate::render::assert_schema_fresh("posture.schema.json", &schema());
}

#[test]
fn the_page_is_self_contained_and_carries_every_count() {
    let doc = document(&read(), None);
    let page = render::html(&doc);
    for asset in ["<script", "<link", "src=", "url(", "@import", "http://", "https://"] {
        assert!(!page.contains(asset), "the page loads something ({asset})");
    }
    for s in Severity::ALL {
        let n = doc.by_severity[s.label()];
        assert!(page.contains(&format!("<b data-severity=\"{}\">{n}</b>", s.label())), "{}", s.label());
    }
    assert!(page.contains("data-account=\"222222222222\" data-severity=\"CRITICAL\">1</td>"), "{page}");
    assert!(page.contains("<span data-blind-spots>8</span>"));
    assert!(page.contains("data-finding=\"f1\""));
    // Text from findings is escaped.
    let mut odd = read();
    odd.findings[0].title = "<img onerror=x>".into();
    assert!(render::html(&document(&odd, None)).contains("&lt;img onerror=x&gt;"));
}

#[test]
fn the_aggregators_counts_say_which_accounts_record_where() {
    let accounts = vec!["111".to_string(), "222".to_string()];
    let regions = vec!["us-east-1".to_string(), "us-west-2".to_string()];
    let counts = BTreeMap::from([("us-east-1".to_string(), BTreeSet::from(["111".to_string(), "222".to_string()]))]);
    let mut c = coverage();
    c.accounts = accounts.clone();
    c.members.clear();
    c.linked = None;
    // 222's recorder in us-east-1 stopped: its resources are still in the aggregator.
    let stopped = BTreeSet::from([("222".to_string(), "us-east-1".to_string())]);
    c.recording = Some(recording_from_aggregator(&accounts, &regions, &counts, &stopped));
    let spots: Vec<(String, String)> = blind_spots(&c).into_iter().map(|s| (s.region, s.account_id)).collect();
    assert_eq!(
        spots,
        [
            ("us-east-1".to_string(), "222".to_string()),
            ("us-west-2".to_string(), "111".to_string()),
            ("us-west-2".to_string(), "222".to_string())
        ]
    );
    assert!(blind_spots(&c)[0].reason.contains("not recording"));
    assert!(blind_spots(&c)[1].reason.contains("Config aggregator"));
}

#[test]
fn counts_that_do_not_add_up_are_said_to_be_incomplete() {
    let mut r = read();
    assert!(incomplete(&r).is_empty(), "{:?}", incomplete(&r));
    // 150 accounts have HIGH findings; the insight returned 100 of them.
    r.by_severity.insert(Severity::High, 150);
    r.by_account.clear();
    for i in 0..100 {
        r.by_account.insert(format!("{i:012}"), BTreeMap::from([(Severity::High, 1)]));
    }
    r.by_severity.insert(Severity::Critical, 0);
    let notes = incomplete(&r);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("100 accounts' HIGH findings (100 of 150)"), "{}", notes[0]);
    r.notes.push("the insights \"x\" are missing in Security Tooling".into());
    assert!(incomplete(&r).is_empty());
}

#[test]
fn a_global_controls_findings_are_noise_only_outside_the_home_region() {
    let home_only = control("IAM.6", "Hardware MFA for root", 2, &[("1", "us-east-1"), ("2", "us-east-1")], true);
    assert_eq!(noise(&home_only, "us-east-1"), None);
    let spread = control(
        "IAM.6",
        "Hardware MFA for root",
        3,
        &[("1", "us-east-1"), ("1", "eu-west-1"), ("2", "ap-south-1")],
        true,
    );
    let why = noise(&spread, "us-east-1").unwrap();
    assert!(why.contains("2 of the 3 failed findings read"), "{why}");
    assert!(why.contains("(ap-south-1, eu-west-1)"), "{why}");
    // A regional control is never noise, wherever it fails; nor CloudFront's,
    // evaluated in us-east-1 alone whatever the home Region.
    let regional = control("S3.1", "S3 block public access", 1, &[("1", "eu-west-1")], true);
    assert_eq!(noise(&regional, "us-east-1"), None);
    let cloudfront = control("CloudFront.1", "default root object", 1, &[("1", "us-east-1")], true);
    assert_eq!(noise(&cloudfront, "eu-west-1"), None);
    assert!(global_control("KMS.1") && global_control("KMS.2") && !global_control("KMS.10"));
    let shown = failing(&spread, "us-east-1");
    assert_eq!((shown.accounts_affected, shown.accounts_exact), (2, true));
}

#[test]
fn what_the_services_report_adds_blind_spots_merged_with_sras_and_per_region_reports() {
    let mut c = coverage();
    c.reported.config_sources.insert(
        "us-west-2".into(),
        vec![SourceStatus {
            source_id: "o-example".into(),
            organization: true,
            status: "FAILED".into(),
            error: "AccessDeniedException: no role".into(),
        }],
    );
    c.reported.inspector.insert(
        "us-east-1".into(),
        InspectorCoverage {
            scanned: 5,
            total: 7,
            unscanned: BTreeMap::from([("333".to_string(), 2), ("999".to_string(), 1)]),
            reasons: BTreeMap::from([("UNMANAGED_EC2_INSTANCE".to_string(), 3)]),
        },
    );
    c.reported.guardduty.insert(
        "us-east-1".into(),
        GuardDutyStatistics {
            accounts: 3,
            members: 2,
            enabled: 1,
            features: BTreeMap::from([("S3_DATA_EVENTS".to_string(), 1)]),
            updated_at: "2026-11-30T00:00:00Z".into(),
        },
    );
    let spots = blind_spots(&c);
    let config_west: Vec<(&str, &str)> = spots
        .iter()
        .filter(|s| s.service == "config" && s.region == "us-west-2")
        .map(|s| (s.account_id.as_str(), s.reason.as_str()))
        .collect();
    // Every account, the organization's source being every account's; 222 had
    // no recorder already: one spot, both reasons.
    assert_eq!(config_west.len(), 3, "{config_west:#?}");
    let both = config_west.iter().find(|(a, _)| *a == "222").unwrap().1;
    assert!(both.contains("no Config recorder") && both.contains("organization's source is FAILED"), "{both}");
    // Inspector: only the organization's active accounts.
    let inspector: Vec<(&str, &str)> =
        spots.iter().filter(|s| s.service == "inspector").map(|s| (s.account_id.as_str(), s.region.as_str())).collect();
    assert_eq!(inspector, [("333", "us-east-1")]);
    let why = &spots.iter().find(|s| s.service == "inspector").unwrap().reason;
    assert!(why.contains("2 of its resources not scanned") && why.contains("UNMANAGED_EC2_INSTANCE 3"), "{why}");

    let reports = reports(&c);
    let shown: Vec<(&str, &str, u64, u64)> =
        reports.iter().map(|r| (r.service.as_str(), r.region.as_str(), r.covered, r.of)).collect();
    assert_eq!(
        shown,
        [
            ("config", "us-east-1", 2, 3),
            ("config", "us-west-2", 2, 3),
            ("guardduty", "us-east-1", 1, 2),
            ("inspector", "us-east-1", 5, 7)
        ]
    );
    let guardduty = &reports[2].details;
    assert!(
        guardduty.iter().any(|d| d.contains("sra reads 2 enabled members") && d.contains("count 1")),
        "{guardduty:?}"
    );
    assert!(reports[1].details[0].contains("FAILED"), "{:?}", reports[1].details);
}

#[test]
fn an_account_is_critical_under_a_critical_ou_at_any_depth_only() {
    let critical = [crate::model::OuPath::parse("Workloads/Prod").unwrap()];
    assert!(under_critical("Workloads/Prod", &critical));
    assert!(under_critical("Workloads/Prod/Payments", &critical));
    assert!(!under_critical("Workloads/Production", &critical), "a segment, not a prefix of one");
    assert!(!under_critical("Workloads", &critical));
    assert!(!under_critical("", &critical), "the root");
}

#[test]
fn each_kind_that_ranks_before_posture_and_the_critical_accounts_get_a_page() {
    let queries = candidate_queries();
    assert_eq!(queries.len(), 5);
    assert!(queries[0].filters.is_empty(), "the most severe of all");
    let fields: Vec<&str> = queries.iter().flat_map(|q| q.filters.iter().map(|f| f.0)).collect();
    assert_eq!(fields, ["ProductName", "Type", "VulnerabilitiesExploitAvailable", "Type"]);
    for q in &queries {
        for (_, _, values) in &q.filters {
            assert!(values.len() <= FILTER_VALUES);
        }
    }
    let mut many = accounts();
    for i in 0..30 {
        let id = format!("{i:012}");
        many.insert(id.clone(), Account { id, name: "w".into(), ou: "Prod".into(), critical: true });
    }
    let page = critical_query(&many, &["222222222222", "999999999999"]).unwrap();
    let ids = &page.filters[0].2;
    assert_eq!(ids.len(), FILTER_VALUES, "Security Hub's limit");
    assert_eq!(ids[0], "222222222222", "the SRA accounts first; an unknown one is left out");
    assert!(critical_query(&BTreeMap::new(), &[]).is_none());
}
