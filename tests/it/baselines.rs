//! Account baselines in every active account, the management account included,
//! in every governed region: EBS encryption by default, the S3 account public
//! access block, the IAM password policy, the SECURITY contact and a Config
//! recorder delivering to the log bucket. An excluded
//! OU's account and a closed account are left alone; drift of one account's
//! baseline is exactly that; an account created later shows as baselines to
//! create. Read inside each account, as its owner would.

use crate::common::{Emulator, two_regions};

const SETUP: &str = r#"
import time
orgs = client("organizations")
orgs.create_organization(FeatureSet="ALL")
root = orgs.list_roots()["Roots"][0]["Id"]
sandbox = orgs.create_organizational_unit(ParentId=root, Name="Sandbox")["OrganizationalUnit"]["Id"]
nested = orgs.create_organizational_unit(ParentId=sandbox, Name="Experiments")["OrganizationalUnit"]["Id"]
ids = {}
for name, email in [("Workload", "app@corp.example"), ("Sandbox", "play@corp.example"), ("Retired", "old@corp.example")]:
    req = orgs.create_account(AccountName=name, Email=email)["CreateAccountStatus"]["Id"]
    time.sleep(0.1)
    ids[name] = orgs.describe_create_account_status(CreateAccountRequestId=req)["CreateAccountStatus"]["AccountId"]
orgs.move_account(AccountId=ids["Sandbox"], SourceParentId=root, DestinationParentId=nested)
orgs.close_account(AccountId=ids["Retired"])
ids["management"] = orgs.describe_organization()["Organization"]["MasterAccountId"]
print(json.dumps(ids))
"#;

/// Each account's baselines as it reads them itself (the contacts as the
/// management account reads them): {account: {region or "account": ...}}.
const INSIDE: &str = r#"
out = {}
management = MANAGEMENT
for account in ACCOUNTS:
    me = None if account == management else account
    seen = {}
    for region in ["us-east-1", "us-west-2"]:
        seen[region] = client("ec2", me, region).get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
        cfg = client("config", me, region)
        status = cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        channels = cfg.describe_delivery_channels()["DeliveryChannels"]
        recorders = cfg.describe_configuration_recorders()["ConfigurationRecorders"]
        seen[region + " config"] = {
            "recording": [s["recording"] for s in status],
            "bucket": [c["s3BucketName"] for c in channels],
            "global": [r["recordingGroup"]["includeGlobalResourceTypes"] for r in recorders],
        }
    try:
        pab = client("s3control", me).get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"]
        seen["s3"] = all(pab.values()) and len(pab) == 4
    except Exception as e:
        assert "NoSuchPublicAccessBlockConfiguration" in str(e), e
        seen["s3"] = None
    try:
        seen["password"] = client("iam", me).get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"]
    except Exception as e:
        assert "NoSuchEntity" in str(e), e
        seen["password"] = None
    contacts = client("account")
    try:
        kw = {} if me is None else {"AccountId": account}
        seen["contact"] = contacts.get_alternate_contact(AlternateContactType="SECURITY", **kw)["AlternateContact"]["EmailAddress"]
    except Exception as e:
        assert "ResourceNotFoundException" in str(e), e
        seen["contact"] = None
    out[account] = seen
print(json.dumps(out))
"#;

const BASELINES: &str = r#"
[baselines]
exclude_ous = ["Sandbox"]

[baselines.security_contact]
name = "Security Operations"
title = "Security team"
email = "security@example.com"
phone = "+1-555-0100"
"#;

fn inside(emu: &Emulator, ids: &serde_json::Value, accounts: &[&str]) -> serde_json::Value {
    let list = accounts.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    let code = INSIDE
        .replace("ACCOUNTS", &format!("[{list}]"))
        .replace("MANAGEMENT", &format!("\"{}\"", ids["management"].as_str().unwrap()));
    serde_json::from_str(emu.boto3(&code).trim()).unwrap()
}

#[test]
fn every_active_account_gets_its_baselines_drift_is_exact_and_a_new_account_is_planned() {
    let emu = Emulator::start();
    let ids: serde_json::Value = serde_json::from_str(emu.boto3(SETUP).trim()).unwrap();
    let id = |name: &str| ids[name].as_str().unwrap().to_string();
    let plan = emu.plan_file(&format!("{}{BASELINES}", two_regions()));
    let plan = plan.to_str().unwrap();
    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    let clean = emu.run(&["plan", plan, "--detailed-exitcode"]);
    clean.expect_code(0);
    assert!(!clean.stdout.contains(&id("Retired")), "a closed account is left out:\n{}", clean.stdout);
    assert!(!clean.stdout.contains(&id("Sandbox")), "an excluded OU's account is left out:\n{}", clean.stdout);

    let lock = std::fs::read_to_string(std::path::Path::new(plan).with_extension("lock")).unwrap();
    let of =
        |key: &str| lock.lines().find_map(|l| l.strip_prefix(&format!("{key} = \""))).unwrap().trim_end_matches('"');
    let (st, la) = (of("security_tooling").to_string(), of("log_archive").to_string());
    let covered = [id("management"), id("Workload"), st, la];
    let sandbox_id = id("Sandbox");
    let names: Vec<&str> = covered.iter().map(String::as_str).chain([sandbox_id.as_str()]).collect();
    let seen = inside(&emu, &ids, &names);
    for account in &covered {
        let s = &seen[account.as_str()];
        assert_eq!(s["us-east-1"], true, "{account}: {s}");
        assert_eq!(s["us-west-2"], true, "{account}: {s}");
        assert_eq!(s["s3"], true, "{account}: {s}");
        assert_eq!(s["password"], 14, "{account}: {s}");
        assert_eq!(s["contact"], "security@example.com", "{account}: {s}");
        for (region, global) in [("us-east-1", true), ("us-west-2", false)] {
            let config = &s[format!("{region} config").as_str()];
            assert_eq!(config["recording"], serde_json::json!([true]), "{account} {region}: {s}");
            assert_eq!(config["global"], serde_json::json!([global]), "{account} {region}: {s}");
            let bucket = config["bucket"][0].as_str().unwrap_or_default();
            assert!(bucket.starts_with("sra-org-trail-logs-"), "{account} {region} delivers to the log bucket: {s}");
        }
    }
    let sandbox = &seen[id("Sandbox").as_str()];
    assert_eq!(sandbox["us-east-1"], false, "{sandbox}");
    assert_eq!((&sandbox["password"], &sandbox["contact"]), (&serde_json::Value::Null, &serde_json::Value::Null));
    assert_eq!(sandbox["us-east-1 config"]["recording"], serde_json::json!([]), "{sandbox}");

    // Drift: the workload account turns EBS encryption by default off in one
    // region, deletes its password policy and stops its Config recorder in the
    // other region.
    let workload = id("Workload");
    emu.boto3(&format!(
        "client('ec2', '{workload}', 'us-west-2').disable_ebs_encryption_by_default()\n\
         client('iam', '{workload}').delete_account_password_policy()\n\
         client('config', '{workload}', 'us-east-1').stop_configuration_recorder(ConfigurationRecorderName='default')"
    ));
    let run = emu.run(&["plan", plan, "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(run.stdout.contains("Plan: 1 to create, 2 to update"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("~ baseline[\"{workload}\"].config_recorder")), "{}", run.stdout);
    let recorder_lines: Vec<&str> = run.stdout.lines().filter(|l| l.contains(".recording ")).collect();
    assert_eq!(recorder_lines.len(), 1, "exactly the stopped recorder:\n{}", run.stdout);
    assert!(recorder_lines[0].contains("us-east-1.recording"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("~ baseline[\"{workload}\"].ebs_default_encryption")), "{}", run.stdout);
    assert!(run.stdout.contains("~ us-west-2 = false -> true"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("+ baseline[\"{workload}\"].password_policy")), "{}", run.stdout);
    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", plan, "--detailed-exitcode"]).expect_code(0);

    // A workload account created afterwards: its baselines are planned.
    let new = emu.boto3(
        "import time\norgs = client('organizations')\n\
         req = orgs.create_account(AccountName='Later', Email='later@corp.example')['CreateAccountStatus']['Id']\n\
         time.sleep(0.1)\n\
         print(orgs.describe_create_account_status(CreateAccountRequestId=req)['CreateAccountStatus']['AccountId'])",
    );
    let new = new.trim();
    let run = emu.run(&["plan", plan, "--detailed-exitcode"]);
    run.expect_code(2);
    for kind in
        ["ebs_default_encryption", "s3_block_public_access", "password_policy", "security_contact", "config_recorder"]
    {
        assert!(run.stdout.contains(&format!("+ baseline[\"{new}\"].{kind}")), "{kind}:\n{}", run.stdout);
    }
    // (The services' coverage lists it too: the emulator does not auto-enable a
    // new account in each service, as AWS does asynchronously.)
    assert!(run.stdout.contains("Plan: 5 to create,"), "{}", run.stdout);
    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    emu.run(&["plan", plan, "--detailed-exitcode"]).expect_code(0);
}
