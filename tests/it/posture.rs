//! `sra posture` against an applied organization: findings imported in several
//! accounts and both regions (some archived, resolved or suppressed) are counted
//! exactly, by severity and by account, from the home region through the finding
//! aggregator; the queue ranks them; a member removed from one service in one
//! region is a blind spot; `--fail-on` gates; `--compare` shows what changed; a
//! missing insight is planned as drift and named by posture, never a zero.

use crate::common::{Emulator, accounts};

const ST_EMAIL: &str = "aws+security-tooling@example.com";
const LA_EMAIL: &str = "aws+log-archive@example.com";

struct Org {
    emu: Emulator,
    plan: String,
    st: String,
    la: String,
    mgmt: String,
}

async fn applied() -> Org {
    let emu = Emulator::start();
    let plan = emu.applied_two_regions();
    let orgs = emu.orgs().await;
    let all = accounts(&orgs).await;
    let id = |email: &str| all.iter().find(|a| a.2 == email).unwrap().0.clone();
    let (st, la) = (id(ST_EMAIL), id(LA_EMAIL));
    let mgmt = orgs.describe_organization().send().await.unwrap();
    let mgmt = mgmt.organization().unwrap().master_account_id().unwrap().to_string();
    Org { emu, plan, st, la, mgmt }
}

/// Import findings, each in its own account and region (the management
/// account's with its own credentials): (account, region, id, severity, record
/// state, product, types, failed control).
/// (account, region, id, severity, record state, product, types, failed control).
type Imported<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str);

fn import(o: &Org, findings: &[Imported]) {
    let spec: Vec<serde_json::Value> = findings
        .iter()
        .map(|(account, region, id, label, record, product, types, control)| {
            serde_json::json!({
                "account": account, "own": *account == o.mgmt, "region": region, "id": id, "label": label,
                "record": record, "product": product, "types": types, "control": control,
            })
        })
        .collect();
    let code = format!(
        r#"
spec = json.loads('''{}''')
normalized = {{"CRITICAL": 90, "HIGH": 70, "MEDIUM": 40, "LOW": 1, "INFORMATIONAL": 0}}
groups = {{}}
for s in spec:
    acct, region = s["account"], s["region"]
    f = {{
        "SchemaVersion": "2018-10-08", "Id": s["id"],
        "ProductArn": f"arn:aws:securityhub:{{region}}:{{acct}}:product/{{acct}}/default",
        "GeneratorId": "sra-test", "AwsAccountId": acct, "Types": [s["types"]],
        "CreatedAt": "2026-11-20T00:00:00Z", "UpdatedAt": "2026-11-20T00:00:00Z",
        "FirstObservedAt": "2026-11-20T00:00:00Z",
        "Severity": {{"Label": s["label"], "Normalized": normalized[s["label"]]}},
        "Title": "finding " + s["id"], "Description": "imported by the test",
        "Resources": [{{"Type": "Other", "Id": "arn:aws:s3:::" + s["id"]}}],
        "RecordState": s["record"], "ProductName": s["product"],
    }}
    if s["control"]:
        f["Compliance"] = {{"Status": "FAILED", "SecurityControlId": s["control"]}}
    groups.setdefault((None if s["own"] else acct, region), []).append(f)
for (acct, region), fs in groups.items():
    out = client("securityhub", acct, region).batch_import_findings(Findings=fs)
    assert out["FailedCount"] == 0, out
"#,
        serde_json::to_string(&spec).unwrap()
    );
    o.emu.boto3(&code);
}

/// Security Tooling (the administrator) sets a finding's workflow status.
fn workflow(o: &Org, account: &str, region: &str, id: &str, status: &str) {
    o.emu.boto3(&format!(
        r#"
out = client("securityhub", "{st}", "{region}").batch_update_findings(
    FindingIdentifiers=[{{"Id": "{id}", "ProductArn": "arn:aws:securityhub:{region}:{account}:product/{account}/default"}}],
    Workflow={{"Status": "{status}"}})
assert not out["UnprocessedFindings"], out
"#,
        st = o.st
    ));
}

fn posture(o: &Org, extra: &[&str]) -> (crate::common::Run, serde_json::Value) {
    let mut args = vec!["posture", o.plan.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let run = o.emu.run(&args);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or(serde_json::Value::Null);
    if !doc.is_null() {
        // Every document matches docs/posture.schema.json.
        let schema = std::fs::read_to_string(crate::common::repo().join("docs/posture.schema.json")).unwrap();
        let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "schema violations: {errors:#?}");
    }
    (run, doc)
}

/// (service, region, covered, of) of each coverage report.
fn reports(doc: &serde_json::Value) -> Vec<(&str, &str, u64, u64)> {
    doc["coverage_reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["service"].as_str().unwrap(),
                r["region"].as_str().unwrap(),
                r["covered"].as_u64().unwrap(),
                r["of"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn counts(v: &serde_json::Value) -> Vec<(String, u64)> {
    v.as_object().unwrap().iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).collect()
}

fn labelled(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn posture_counts_active_findings_ranks_them_and_names_blind_spots() {
    let o = applied().await;
    let (mgmt, st, la) = (o.mgmt.as_str(), o.st.as_str(), o.la.as_str());
    let (e, w) = ("us-east-1", "us-west-2");
    let posture_type = "Software and Configuration Checks";
    let threat = "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce";
    import(
        &o,
        &[
            (mgmt, e, "f1", "CRITICAL", "ACTIVE", "Security Hub", posture_type, "S3.1"),
            (st, e, "f2", "HIGH", "ACTIVE", "GuardDuty", threat, ""),
            // In the linked region: counted from the home region.
            (la, w, "f3", "HIGH", "ACTIVE", "Security Hub", posture_type, "IAM.6"),
            (la, w, "f4", "MEDIUM", "ARCHIVED", "Security Hub", posture_type, ""),
            (mgmt, w, "f5", "LOW", "ACTIVE", "Security Hub", posture_type, ""),
            (st, e, "f6", "CRITICAL", "ACTIVE", "Security Hub", posture_type, ""),
            (la, e, "f7", "MEDIUM", "ACTIVE", "Security Hub", posture_type, ""),
            (mgmt, e, "f8", "INFORMATIONAL", "ACTIVE", "Security Hub", posture_type, ""),
        ],
    );
    workflow(&o, st, e, "f6", "RESOLVED");
    workflow(&o, la, e, "f7", "SUPPRESSED");

    let (run, doc) = posture(&o, &[]);
    run.expect_code(0);
    assert_eq!(doc["format_version"], 1);
    assert_eq!(
        counts(&doc["by_severity"]),
        labelled(&[("CRITICAL", 1), ("HIGH", 2), ("MEDIUM", 0), ("LOW", 1), ("INFORMATIONAL", 1)])
    );
    assert_eq!(counts(&doc["by_account"][mgmt]), labelled(&[("CRITICAL", 1), ("LOW", 1), ("INFORMATIONAL", 1)]));
    assert_eq!(counts(&doc["by_account"][st]), labelled(&[("HIGH", 1)]));
    assert_eq!(counts(&doc["by_account"][la]), labelled(&[("HIGH", 1)]));
    assert_eq!(doc["by_account"].as_object().unwrap().len(), 3, "{}", doc["by_account"]);
    // Severity first, then a threat before a posture finding of the same severity.
    let top: Vec<&str> = doc["top"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(top, ["f1", "f2", "f3", "f5", "f8"]);
    assert_eq!(doc["top"][1]["kind"], "threat");
    assert_eq!(doc["top"][2]["region"], w);
    let controls: Vec<(&str, u64)> = doc["failing_controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["failed"].as_u64().unwrap()))
        .collect();
    assert_eq!(controls, [("IAM.6", 1), ("S3.1", 1)]);
    assert_eq!(doc["blind_spots"], serde_json::json!([]), "an applied organization is watched everywhere");
    assert!(doc.get("notes").is_none(), "{}", doc["notes"]);
    // What the services report of themselves agrees: GuardDuty's statistics
    // count the two members in each Region, Inspector covers no resource yet,
    // the aggregator has every account's resources.
    assert_eq!(
        reports(&doc),
        [
            ("config", e, 3, 3),
            ("config", w, 3, 3),
            ("guardduty", e, 2, 2),
            ("guardduty", w, 2, 2),
            ("inspector", e, 0, 0),
            ("inspector", w, 0, 0)
        ]
    );
    // IAM.6, a global resource's control, fails in Log Archive only, and
    // outside the home Region: noise, with where; S3.1 is not.
    let failing = &doc["failing_controls"];
    assert_eq!(
        (failing[0]["accounts_affected"].as_u64(), failing[0]["accounts_exact"].as_bool()),
        (Some(1), Some(true))
    );
    assert!(failing[0]["noise"].as_str().unwrap().contains("(us-west-2)"), "{failing}");
    assert!(failing[1].get("noise").is_none(), "{failing}");

    // The gate: a critical finding is active.
    let (gate, _) = posture(&o, &["--fail-on", "critical"]);
    gate.expect_code(2);
    let before = std::path::Path::new(&o.plan).with_file_name("posture-before.json");
    std::fs::write(&before, serde_json::to_string(&doc).unwrap()).unwrap();

    // GuardDuty no longer watches Log Archive in us-west-2; the critical finding
    // is resolved.
    o.emu.boto3(&format!(
        r#"
gd = client("guardduty", "{st}", "{w}")
detector = gd.list_detectors()["DetectorIds"][0]
# GuardDuty keeps every account while auto-enable is ALL (API_DeleteMembers).
gd.update_organization_configuration(DetectorId=detector, AutoEnableOrganizationMembers="NEW")
gd.delete_members(DetectorId=detector, AccountIds=["{la}"])
# The management account stops recording in us-west-2.
# Log Archive runs an instance Systems Manager does not manage: Inspector cannot
# scan it.
ec2 = client("ec2", "{la}", "{e}")
ec2.run_instances(ImageId=ec2.describe_images()["Images"][0]["ImageId"], MinCount=1, MaxCount=1)
cfg = client("config", None, "{w}")
for r in cfg.describe_configuration_recorders()["ConfigurationRecorders"]:
    cfg.stop_configuration_recorder(ConfigurationRecorderName=r["name"])
"#
    ));
    workflow(&o, mgmt, e, "f1", "RESOLVED");
    let (run, doc) = posture(&o, &["--fail-on", "critical", "--compare", before.to_str().unwrap()]);
    run.expect_code(0);
    let spots: Vec<(&str, &str, &str)> = doc["blind_spots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["service"].as_str().unwrap(), s["region"].as_str().unwrap(), s["account_id"].as_str().unwrap()))
        .collect();
    // GuardDuty's from its members; Config's from the organization aggregator;
    // Inspector's from its own coverage.
    assert_eq!(spots, [("config", w, mgmt), ("guardduty", w, la), ("inspector", e, la)]);
    let unscanned = &doc["blind_spots"][2]["reason"];
    assert!(unscanned.as_str().unwrap().contains("1 of its resource not scanned"), "{unscanned}");
    assert!(unscanned.as_str().unwrap().contains("UNMANAGED_EC2_INSTANCE 1"), "{unscanned}");
    let now: Vec<(String, String, u64, u64)> = reports(&doc)
        .into_iter()
        .filter(|r| r.2 != r.3)
        .map(|(s, r, c, n)| (s.to_string(), r.to_string(), c, n))
        .collect();
    assert_eq!(
        now,
        [
            ("config".to_string(), w.to_string(), 2, 3),
            ("guardduty".to_string(), w.to_string(), 1, 2),
            ("inspector".to_string(), e.to_string(), 0, 1)
        ]
    );
    assert_eq!(doc["by_severity"]["CRITICAL"], 0);
    assert_eq!(doc["since"]["by_severity"]["CRITICAL"], -1);
    assert_eq!(doc["since"]["gone_from_top"], serde_json::json!(["f1"]));
    assert_eq!(doc["since"]["new_blind_spots"].as_array().unwrap().len(), 3);

    // The page, rendered in headless Chromium, shows the JSON's numbers.
    rendered_page_matches(&o, &doc);

    // The other renderings show the same sections, in words.
    for format in ["human", "markdown"] {
        let run = o.emu.run(&["posture", &o.plan, "--format", format]);
        run.expect_code(0);
        for needle in ["lind spots", "guardduty", "us-west-2", "IAM.6"] {
            assert!(run.stdout.contains(needle), "{format}: {needle}\n{}", run.stdout);
        }
        assert_eq!(sra::render::debug_text(&run.stdout), None, "{}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_insight_is_drift_and_posture_names_it() {
    let o = applied().await;
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
    o.emu.boto3(&format!(
        r#"
sh = client("securityhub", "{st}", "us-east-1")
for i in sh.get_insights()["Insights"]:
    if i["Name"] == "sra posture: failed controls":
        sh.delete_insight(InsightArn=i["InsightArn"])
# Config can no longer assume the aggregator's role: its sources fail.
iam = client("iam", "{st}", "us-east-1")
for name in iam.list_role_policies(RoleName="sra-config-aggregator")["PolicyNames"]:
    iam.delete_role_policy(RoleName="sra-config-aggregator", PolicyName=name)
for p in iam.list_attached_role_policies(RoleName="sra-config-aggregator")["AttachedPolicies"]:
    iam.detach_role_policy(RoleName="sra-config-aggregator", PolicyArn=p["PolicyArn"])
iam.delete_role(RoleName="sra-config-aggregator")
"#,
        st = o.st
    ));
    let (run, doc) = posture(&o, &[]);
    run.expect_code(0);
    let notes = doc["notes"].to_string();
    assert!(notes.contains("sra posture: failed controls") && notes.contains("sra apply"), "{notes}");
    // Config's own report: every account's data in both Regions is not up to date.
    let spots = doc["blind_spots"].as_array().unwrap();
    assert_eq!(spots.len(), 6, "{spots:#?}");
    for s in spots {
        assert_eq!(s["service"], "config");
        assert!(s["reason"].as_str().unwrap().contains("organization's source is FAILED"), "{s}");
    }
    let plan = o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(plan.stdout.contains("Plan: 0 to create, 2 to update"), "{}", plan.stdout);
    assert!(plan.stdout.contains("sra-config-aggregator"), "{}", plan.stdout);
    assert!(plan.stdout.contains("insight.\"sra posture: failed controls\""), "{}", plan.stdout);
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
    o.emu.run(&["plan", &o.plan, "--detailed-exitcode"]).expect_code(0);
    let (_, doc) = posture(&o, &[]);
    assert!(doc.get("notes").is_none(), "{}", doc["notes"]);
    assert_eq!(doc["blind_spots"], serde_json::json!([]));
    // Without the lock file, Security Tooling is found by reading the
    // organization first: the same document.
    std::fs::remove_file(std::path::Path::new(&o.plan).with_extension("lock")).unwrap();
    let (run, again) = posture(&o, &[]);
    run.expect_code(0);
    assert_eq!(again["by_severity"], doc["by_severity"]);
    assert_eq!(again["blind_spots"], doc["blind_spots"]);
    assert_eq!(again["accounts"], doc["accounts"]);
    // The same organization, for the ranking by critical OUs.
    accounts_under_critical_ous_rank_first(&o);
    a_known_exploit_behind_a_page_of_posture_findings_still_ranks_first(&o);
}

/// 101 critical posture findings, then one critical vulnerability with a known
/// exploit: the page of the most severe findings holds 100 posture findings, and
/// the exploit's own page still brings it to the head of the queue.
fn a_known_exploit_behind_a_page_of_posture_findings_still_ranks_first(o: &Org) {
    o.emu.boto3(&format!(
        r#"
def finding(i, **extra):
    f = {{
        "SchemaVersion": "2018-10-08", "Id": f"bulk-{{i}}",
        "ProductArn": "arn:aws:securityhub:us-east-1:{la}:product/{la}/default",
        "GeneratorId": "sra-test", "AwsAccountId": "{la}", "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-20T00:00:00Z", "UpdatedAt": "2026-11-20T00:00:00Z",
        "Severity": {{"Label": "CRITICAL", "Normalized": 90}}, "Title": f"bulk {{i}}",
        "Description": "imported by the test", "Resources": [{{"Type": "Other", "Id": f"r-{{i}}"}}],
    }}
    f.update(extra)
    return f
sh = client("securityhub", "{la}", "us-east-1")
for start in (0, 100):
    out = sh.batch_import_findings(Findings=[finding(i) for i in range(start, min(start + 100, 101))])
    assert out["FailedCount"] == 0, out
out = sh.batch_import_findings(Findings=[finding("exploit", ProductName="Inspector", Title="CVE with a known exploit",
    Vulnerabilities=[{{"Id": "CVE-2026-0001", "ExploitAvailable": "YES"}}])])
assert out["FailedCount"] == 0, out
"#,
        la = o.la
    ));
    let (run, doc) = posture(o, &[]);
    run.expect_code(0);
    assert_eq!(doc["by_severity"]["CRITICAL"], 102);
    assert_eq!(doc["top"][0]["id"], "bulk-exploit", "{}", doc["top"][0]);
    assert_eq!(doc["top"][0]["kind"], "known exploit");
}

/// Render `sra posture --format html` in headless Chromium (Debian's package,
/// which .ci/run installs) and read the counts back from the rendered DOM.
fn rendered_page_matches(o: &Org, doc: &serde_json::Value) {
    let dir = std::path::Path::new(&o.plan).parent().unwrap().to_path_buf();
    let page = dir.join("posture.html");
    o.emu.run(&["posture", &o.plan, "--format", "html", "--out", page.to_str().unwrap()]).expect_code(0);
    let chromium = std::env::var("SRA_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let profile = dir.join("chromium-profile");
    let out = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            &format!("file://{}", page.display()),
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {chromium} ({e}): install Debian's chromium (.ci/run does)"));
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("</html>"), "chromium rendered nothing: {}", String::from_utf8_lossy(&out.stderr));
    // The number right after an element's attributes, as rendered.
    let shown = |attrs: &str| -> Option<u64> {
        let at = dom.find(attrs)? + attrs.len();
        let rest = &dom[at..];
        let rest = &rest[rest.find('>')? + 1..];
        rest[..rest.find('<')?].trim().parse().ok()
    };
    for (label, n) in doc["by_severity"].as_object().unwrap() {
        assert_eq!(shown(&format!("<b data-severity=\"{label}\"")), n.as_u64(), "{label}");
    }
    for (account, counts) in doc["by_account"].as_object().unwrap() {
        for (label, n) in counts.as_object().unwrap() {
            let cell = format!("data-account=\"{account}\" data-severity=\"{label}\"");
            assert_eq!(shown(&cell), n.as_u64(), "{account} {label}");
        }
    }
    assert_eq!(shown("<span data-blind-spots"), Some(doc["blind_spots"].as_array().unwrap().len() as u64));
    for (service, region, covered, of) in reports(doc) {
        let cell = format!("data-report=\"{service}/{region}\" data-covered=\"{covered}\" data-of=\"{of}\"");
        assert!(dom.contains(&cell), "{cell}");
    }
    for e in doc["top"].as_array().unwrap() {
        assert!(dom.contains(&format!("data-finding=\"{}\"", e["id"].as_str().unwrap())), "{e}");
    }
}

/// `[posture] critical_ous`: an account under one ranks before an account that
/// is not, among findings of the same severity and kind, however old (on an
/// organization `applied()` set up, its lock file gone).
fn accounts_under_critical_ous_rank_first(o: &Org) {
    // Two workload accounts: one in the OU Payments, one left under the root.
    let ids = o.emu.boto3(
        r#"
import time
orgs = client("organizations")
root = orgs.list_roots()["Roots"][0]["Id"]
ou = orgs.create_organizational_unit(ParentId=root, Name="Payments")["OrganizationalUnit"]["Id"]
made = []
for name in ["payments", "sandbox"]:
    r = orgs.create_account(AccountName=name, Email=f"aws+{name}@example.com")["CreateAccountStatus"]
    for _ in range(50):
        s = orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]
        if s["State"] == "SUCCEEDED":
            break
        time.sleep(0.1)
    made.append(s["AccountId"])
orgs.move_account(AccountId=made[0], SourceParentId=root, DestinationParentId=ou)
print(" ".join(made))
"#,
    );
    let (payments, sandbox) = ids.trim().split_once(' ').unwrap();
    o.emu.run(&["apply", &o.plan, "--auto-approve"]).expect_code(0);
    let posture_type = "Software and Configuration Checks";
    import(
        o,
        &[
            (payments, "us-east-1", "recent", "HIGH", "ACTIVE", "Security Hub", posture_type, ""),
            (sandbox, "us-east-1", "old", "HIGH", "ACTIVE", "Security Hub", posture_type, ""),
        ],
    );
    // Without critical OUs the older finding comes first ...
    o.emu.boto3(&format!(
        r#"
sh = client("securityhub", "{sandbox}", "us-east-1")
arn = "arn:aws:securityhub:us-east-1:{sandbox}:product/{sandbox}/default"
f = sh.get_findings(Filters={{"Id": [{{"Value": "old", "Comparison": "EQUALS"}}]}})["Findings"][0]
f["FirstObservedAt"] = "2026-10-01T00:00:00Z"
sh.batch_import_findings(Findings=[f])
"#
    ));
    let order = |doc: &serde_json::Value| -> Vec<String> {
        doc["top"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
    };
    let (run, doc) = posture(o, &[]);
    run.expect_code(0);
    assert_eq!(order(&doc), ["old", "recent"]);
    // ... with Payments critical, its account's comes first.
    let text = std::fs::read_to_string(&o.plan).unwrap() + "\n[posture]\ncritical_ous = [\"Payments\"]\n";
    std::fs::write(&o.plan, text).unwrap();
    let (run, doc) = posture(o, &[]);
    run.expect_code(0);
    assert_eq!(order(&doc), ["recent", "old"]);
    let entry = doc["accounts"].as_array().unwrap().iter().find(|a| a["id"] == payments).unwrap().clone();
    assert_eq!((entry["ou"].as_str(), entry["critical"].as_bool()), (Some("Payments"), Some(true)));
    let other = doc["accounts"].as_array().unwrap().iter().find(|a| a["id"] == sandbox).unwrap().clone();
    assert_eq!(other["critical"].as_bool(), Some(false));
}
