//! A closed account stays in the organization as SUSPENDED for up to 90 days
//! (Organizations guide, orgs_manage_accounts_close.html), and no security
//! service can enable it as a member (the emulator answers as AWS does:
//! unprocessed, or refused). Apply enrolls the active accounts, leaves the
//! closed one out of every service, and plans clean after. Read inside each
//! account, as its owner would: every active account, the management account
//! included, has GuardDuty and Security Hub on and Inspector scanning EC2, ECR
//! and Lambda; the closed account has none of them.

use crate::common::Emulator;

const SETUP: &str = r#"
import time
kw = dict(endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
orgs = boto3.client("organizations", **kw)
orgs.create_organization(FeatureSet="ALL")
ids = {}
for name, email in [("Workload", "app@corp.example"), ("Retired", "old@corp.example")]:
    req = orgs.create_account(AccountName=name, Email=email)["CreateAccountStatus"]["Id"]
    time.sleep(0.1)
    ids[name] = orgs.describe_create_account_status(CreateAccountRequestId=req)["CreateAccountStatus"]["AccountId"]
orgs.close_account(AccountId=ids["Retired"])
status = {a["Id"]: a["Status"] for a in orgs.list_accounts()["Accounts"]}
assert status[ids["Retired"]] == "SUSPENDED", status
print(json.dumps(ids))
"#;

/// Each service's members as Security Tooling sees them in us-east-1.
const MEMBERS: &str = r#"
st = ST
out = {}
gd = client("guardduty", st)
detector = gd.list_detectors()["DetectorIds"][0]
out["guardduty"] = [m["AccountId"] for m in gd.list_members(DetectorId=detector, OnlyAssociated="false")["Members"]]
out["securityhub"] = [m["AccountId"] for m in client("securityhub", st).list_members(OnlyAssociated=False)["Members"]]
out["inspector"] = [m["accountId"] for m in client("inspector2", st).list_members(onlyAssociated=False)["members"]]
out["macie"] = [m["accountId"] for m in client("macie2", st).list_members(onlyAssociated="false")["members"]]
dt = client("detective", st)
graph = dt.list_graphs()["GraphList"][0]["Arn"]
out["detective"] = [m["AccountId"] for m in dt.list_members(GraphArn=graph)["MemberDetails"]]
print(json.dumps(out))
"#;

/// What each account (ids in ACCOUNTS, the management account as "management")
/// sees of itself in each governed region: GuardDuty detectors, the hub,
/// Inspector's scans.
const INSIDE: &str = r#"
out = {}
for account in ACCOUNTS:
    for region in ["us-east-1", "us-west-2"]:
        own = lambda s: client(s, None if account == "management" else account, region)
        detectors = own("guardduty").list_detectors()["DetectorIds"]
        try:
            own("securityhub").describe_hub()
            hub = True
        except Exception as e:
            assert "InvalidAccessException" in str(e), e
            hub = False
        state = own("inspector2").batch_get_account_status()["accounts"][0]["resourceState"]
        scans = sorted(k for k, v in state.items() if v["status"] == "ENABLED")
        out[f"{account} {region}"] = {"guardduty": len(detectors), "securityhub": hub, "inspector": scans}
print(json.dumps(out))
"#;

#[test]
fn a_closed_account_is_in_no_service_and_the_plan_is_clean() {
    let emu = Emulator::start();
    let ids: serde_json::Value = serde_json::from_str(emu.boto3(SETUP).trim()).unwrap();
    let (workload, retired) = (ids["Workload"].as_str().unwrap(), ids["Retired"].as_str().unwrap());
    let plan = emu.plan_file(&crate::common::two_regions());
    let plan = plan.to_str().unwrap();
    emu.run(&["apply", plan, "--auto-approve"]).expect_code(0);
    let after = emu.run(&["plan", plan, "--detailed-exitcode"]);
    after.expect_code(0);
    let st = emu.run(&["plan", plan, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let st_id = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "account.security_tooling")
        .and_then(|c| c["id"].as_str())
        .unwrap()
        .to_string();
    let members: serde_json::Value =
        serde_json::from_str(emu.boto3(&MEMBERS.replace("ST", &format!("\"{st_id}\""))).trim()).unwrap();
    for (service, list) in members.as_object().unwrap() {
        let list: Vec<&str> = list.as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        assert!(list.contains(&workload), "{service}: the active workload account is a member: {list:?}");
        assert!(!list.contains(&retired), "{service}: the closed account is not: {list:?}");
    }
    assert_eq!(members.as_object().unwrap().len(), 5);

    let all: Vec<String> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["address"].as_str().is_some_and(|a| a.starts_with("account.")))
        .filter_map(|c| c["id"].as_str().map(|s| format!("\"{s}\"")))
        .chain(["\"management\"".to_string(), format!("\"{workload}\""), format!("\"{retired}\"")])
        .collect();
    assert_eq!(all.len(), 5, "Security Tooling, Log Archive, management, workload, retired: {all:?}");
    let inside: serde_json::Value =
        serde_json::from_str(emu.boto3(&INSIDE.replace("ACCOUNTS", &format!("[{}]", all.join(", ")))).trim()).unwrap();
    assert_eq!(inside.as_object().unwrap().len(), 10, "five accounts in two regions: {inside}");
    for (account, seen) in inside.as_object().unwrap() {
        let scans: Vec<&str> = seen["inspector"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        if account.starts_with(retired) {
            assert_eq!(seen["guardduty"], 0, "the closed account has no detector: {seen}");
            assert_eq!(seen["securityhub"], false, "the closed account has no hub: {seen}");
            assert!(scans.is_empty(), "the closed account scans nothing: {seen}");
            continue;
        }
        assert_eq!(seen["guardduty"], 1, "{account}: GuardDuty on: {seen}");
        assert_eq!(seen["securityhub"], true, "{account}: Security Hub on: {seen}");
        for scan in ["ec2", "ecr", "lambda"] {
            assert!(scans.contains(&scan), "{account}: Inspector scans {scan}: {seen}");
        }
    }
}
