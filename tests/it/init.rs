//! `sra init` against an organization set up by hand (boto3, not sra): existing
//! accounts in an OU, a GuardDuty detector, and an organization trail writing to
//! another bucket. The file it writes validates, `sra plan` with it shows no
//! changes, and opting in to one suggestion makes exactly that area plan.

use crate::common;
use crate::common::Emulator;

const SETUP: &str = r#"
import time
kw = dict(endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
orgs = boto3.client("organizations", **kw)
orgs.create_organization(FeatureSet="ALL")
root = orgs.list_roots()["Roots"][0]["Id"]
security = orgs.create_organizational_unit(ParentId=root, Name="Security")["OrganizationalUnit"]["Id"]
ids = {}
for name, email in [("Security Tooling", "sec@corp.example"), ("Log Archive", "logs@corp.example"), ("Workload", "app@corp.example")]:
    req = orgs.create_account(AccountName=name, Email=email)["CreateAccountStatus"]["Id"]
    time.sleep(0.1)
    ids[name] = orgs.describe_create_account_status(CreateAccountRequestId=req)["CreateAccountStatus"]["AccountId"]
for name in ("Security Tooling", "Log Archive"):
    orgs.move_account(AccountId=ids[name], SourceParentId=root, DestinationParentId=security)
client("guardduty", ids["Security Tooling"]).create_detector(Enable=True)
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="corp-trail-bucket")
ct = boto3.client("cloudtrail", **kw)
ct.create_trail(Name="corp-trail", S3BucketName="corp-trail-bucket", IsOrganizationTrail=True, IsMultiRegionTrail=True)
print(json.dumps(ids))
"#;

#[test]
fn init_describes_a_hand_built_organization_so_that_plan_shows_no_changes() {
    let emu = Emulator::start();
    let ids: serde_json::Value = serde_json::from_str(emu.boto3(SETUP).trim()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    let p = path.to_str().unwrap();
    let run = emu.run(&["init", "--out", p, "--governed-regions", "us-east-1,us-west-2"]);
    run.expect_code(0);
    let text = std::fs::read_to_string(&path).unwrap();
    let st = ids["Security Tooling"].as_str().unwrap();
    assert!(text.contains(&format!("# The existing account {st} (\"Security Tooling\"), adopted by email.")), "{text}");
    assert!(text.contains("email = \"sec@corp.example\"\nou = \"Security\""), "{text}");
    assert!(
        text.contains("# Found: organization trail \"corp-trail\" writing to bucket \"corp-trail-bucket\"."),
        "{text}"
    );
    assert!(text.contains("# Warning: opting in makes a second organization trail"), "{text}");
    assert!(text.contains("[services.guardduty]\n# Not the SRA baseline yet. Suggestion: enabled = true"), "{text}");
    // The #:schema line names the schema written beside the plan file: the one `sra schema` prints.
    assert!(text.starts_with("#:schema sra-plan.schema.json\n"), "{text}");
    let schema = std::fs::read_to_string(dir.path().join("sra-plan.schema.json")).unwrap();
    assert_eq!(schema, emu.run(&["schema"]).stdout);
    assert!(text.contains("#   would create guardduty[\"us-west-2\"].delegated_admin"), "{text}");

    assert!(run.stderr.contains("recorded the account ids in"), "{}", run.stderr);
    let lock = std::fs::read_to_string(dir.path().join("plan.lock")).unwrap();
    let la = ids["Log Archive"].as_str().unwrap();
    assert!(lock.contains(&format!("security_tooling = \"{st}\"\nlog_archive = \"{la}\"")), "{lock}");

    emu.run(&["validate", p]).expect_code(0);
    let plan = emu.run(&["plan", p, "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);

    // Never overwrites.
    let again = emu.run(&["init", "--out", p]);
    again.expect_code(1);
    assert!(again.stderr.contains("never overwrites"), "{}", again.stderr);

    // Opting in to one suggestion plans exactly that service.
    let at = text.find("[services.macie]").unwrap();
    let opted = format!("{}{}", &text[..at], text[at..].replacen("enabled = false", "enabled = true", 1));
    std::fs::write(&path, opted).unwrap();
    let plan = emu.run(&["plan", p, "--detailed-exitcode", "--format", "json"]);
    plan.expect_code(2);
    let doc = common::valid_plan_json(&plan.stdout);
    let changed = common::changed_addresses(&doc);
    assert!(!changed.is_empty());
    assert!(changed.iter().all(|a| a.contains("macie")), "{changed:#?}");
}
