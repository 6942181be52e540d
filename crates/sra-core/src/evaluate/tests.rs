use serde_json::json;

use super::*;

const ORG: Organization = Organization { id: "o-1", management_account: "111111111111", accounts: &ACCOUNTS };
const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

fn role(account: &str, name: &str) -> Principal {
    Principal::Aws { arn: format!("arn:aws:iam::{account}:role/{name}"), account: account.into() }
}

fn req(principal: Principal, action: &str, resource: &str, resource_account: &str) -> Request {
    Request {
        principal,
        action: action.into(),
        resource: resource.into(),
        resource_account: resource_account.into(),
        context: BTreeMap::from([("aws:SecureTransport".into(), vec!["true".into()])]),
    }
}

fn named(doc: &Value) -> Named<'_> {
    Named { name: "p".into(), document: doc }
}

#[test]
fn globs_and_arn_parts() {
    assert!(glob("s3:Put*", "s3:PutObject"));
    assert!(glob("a?c", "abc"));
    assert!(!glob("a?c", "abbc"));
    assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"));
    assert!(arn_like("arn:aws:iam::*:role/R", "arn:aws:iam::222222222222:role/R"));
    assert!(!arn_like("arn:aws:iam::*:role/R", "arn:aws:iam::222222222222:role/RX"));
    assert!(!arn_like("arn:aws:iam::222222222222:role/*", "arn:aws:iam::333333333333:role/R"));
}

#[test]
fn an_scp_deny_binds_members_but_never_the_management_account() {
    let scp = json!({"Statement": [{"Sid": "NoLeave", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/Access"]}}}]});
    let p = Policies { scps: vec![named(&scp)], ..Default::default() };
    let member = req(role("222222222222", "Admin"), "organizations:LeaveOrganization", "*", "222222222222");
    let d = evaluate(&ORG, &p, &member).unwrap();
    assert!(!d.allowed);
    assert_eq!(d.reasons, [Reason { layer: "scp".into(), detail: "p NoLeave".into() }]);
    let exempt = req(role("222222222222", "Access"), "organizations:LeaveOrganization", "*", "222222222222");
    assert!(evaluate(&ORG, &p, &exempt).unwrap().allowed);
    let management = req(role("111111111111", "Admin"), "organizations:LeaveOrganization", "*", "111111111111");
    assert!(evaluate(&ORG, &p, &management).unwrap().allowed);
}

#[test]
fn a_missing_key_fails_positive_operators_and_satisfies_negated_ones() {
    let bucket = json!({"Statement": [
        {"Sid": "Outside", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}, "Bool": {"aws:PrincipalIsAWSService": "false"}}},
        {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}}
    ]});
    let p = Policies { resource: Some(named(&bucket)), ..Default::default() };
    // Outside the organization: aws:PrincipalOrgID is absent, so StringNotEquals holds.
    let outsider = req(role("999999999999", "X"), "s3:GetObject", "arn:aws:s3:::b/k", "222222222222");
    let d = evaluate(&ORG, &p, &outsider).unwrap();
    assert_eq!(d.reasons[0].detail, "p Outside");
    // A service principal: no aws:SourceAccount in the context, so the Allow does not match.
    let mut svc =
        req(Principal::Service("logging.s3.amazonaws.com".into()), "s3:PutObject", "arn:aws:s3:::b/k", "222222222222");
    assert!(!evaluate(&ORG, &p, &svc).unwrap().allowed);
    svc.context.insert("aws:SourceAccount".into(), vec!["222222222222".into()]);
    assert!(evaluate(&ORG, &p, &svc).unwrap().allowed);
    // IfExists: a missing key satisfies it.
    let doc = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "1"}}}]});
    let p = Policies { scps: vec![named(&doc)], ..Default::default() };
    assert!(!evaluate(&ORG, &p, &req(role("222222222222", "A"), "s3:GetObject", "*", "222222222222")).unwrap().allowed);
}

#[test]
fn across_accounts_the_resource_policy_must_allow_and_a_key_policy_always() {
    let bucket = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    let p = Policies { resource: Some(named(&bucket)), ..Default::default() };
    assert!(
        evaluate(&ORG, &p, &req(role("333333333333", "R"), "s3:GetObject", "arn:aws:s3:::b/k", "222222222222"))
            .unwrap()
            .allowed
    );
    let d = evaluate(&ORG, &p, &req(role("111111111111", "R"), "s3:GetObject", "arn:aws:s3:::b/k", "222222222222"))
        .unwrap();
    assert!(!d.allowed && d.reasons[0].detail.contains("implicit"), "{d:?}");
    // Same account: the administrator's identity policy is enough for S3, never for KMS.
    assert!(
        evaluate(&ORG, &p, &req(role("222222222222", "R"), "s3:DeleteObject", "arn:aws:s3:::b/k", "222222222222"))
            .unwrap()
            .allowed
    );
    let key = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "kms:*", "Resource": "*"}]});
    let k = Policies { resource: Some(named(&key)), resource_is_key: true, ..Default::default() };
    let arn = "arn:aws:kms:us-east-1:222222222222:key/k";
    assert!(evaluate(&ORG, &k, &req(role("222222222222", "R"), "kms:Decrypt", arn, "222222222222")).unwrap().allowed);
    assert!(!evaluate(&ORG, &k, &req(role("333333333333", "R"), "kms:Decrypt", arn, "222222222222")).unwrap().allowed);
}

#[test]
fn what_is_not_modelled_is_an_error_not_a_guess() {
    let doc = json!({"Statement": [{"Sid": "X", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}]});
    let p = Policies { scps: vec![named(&doc)], ..Default::default() };
    let e = evaluate(&ORG, &p, &req(role("222222222222", "A"), "s3:GetObject", "*", "222222222222")).unwrap_err();
    assert_eq!(e, "X: operator DateGreaterThan is not modelled");
}

/// A key policy that names only the account hands the decision to the account's
/// identity policies; one that names the role decides itself.
#[test]
fn a_key_policy_naming_only_the_account_needs_an_identity_allow() {
    let key = json!({"Statement": [
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/Reader"}, "Action": "kms:Decrypt", "Resource": "*"}
    ]});
    let nothing = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
    let arn = "arn:aws:kms:us-east-1:222222222222:key/k";
    let no_kms = Policies {
        resource: Some(named(&key)),
        resource_is_key: true,
        identity: Some(vec![named(&nothing)]),
        ..Default::default()
    };
    let admin = Policies { resource: Some(named(&key)), resource_is_key: true, ..Default::default() };
    assert!(
        !evaluate(&ORG, &no_kms, &req(role("222222222222", "Other"), "kms:Decrypt", arn, "222222222222"))
            .unwrap()
            .allowed
    );
    assert!(
        evaluate(&ORG, &no_kms, &req(role("222222222222", "Reader"), "kms:Decrypt", arn, "222222222222"))
            .unwrap()
            .allowed
    );
    assert!(
        evaluate(&ORG, &admin, &req(role("222222222222", "Other"), "kms:Decrypt", arn, "222222222222"))
            .unwrap()
            .allowed
    );
}

#[test]
fn set_operators_on_a_missing_key() {
    let all = json!({"Statement": [{"Sid": "All", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}}]});
    let any = json!({"Statement": [{"Sid": "Any", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}}]});
    let r = req(role("222222222222", "A"), "s3:GetObject", "*", "222222222222");
    let p = Policies { scps: vec![named(&all)], ..Default::default() };
    assert!(!evaluate(&ORG, &p, &r).unwrap().allowed, "ForAllValues holds when the key is missing");
    let p = Policies { scps: vec![named(&any)], ..Default::default() };
    assert!(evaluate(&ORG, &p, &r).unwrap().allowed, "ForAnyValue does not hold when the key is missing");
}
