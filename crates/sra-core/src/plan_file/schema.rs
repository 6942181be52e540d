//! The plan file's JSON Schema (`sra schema`, `docs/plan-file.schema.json`), for
//! editors (Taplo / Even Better TOML) to complete and check keys. Built from the
//! tables and defaults the loader itself uses; a test checks that the shipped
//! example, with every option, validates, and that the schema names no key the
//! example lacks.

use serde_json::{Value, json};

use super::log_archive::{DATA_EVENTS, STORAGE_CLASSES};
use crate::model::{
    GUARDDUTY_AGENTS, GUARDDUTY_FEATURES, GuardDutySpec, INSPECTOR_SCANS, InspectorSpec, LogArchiveSpec,
    SECURITYHUB_STANDARDS, SecurityHubSpec,
};

fn strings(description: &str, values: &[&str], default: Vec<String>) -> Value {
    json!({
        "type": "array",
        "description": description,
        "items": {"type": "string", "enum": values},
        "uniqueItems": true,
        "default": default,
    })
}

fn enabled(description: &str) -> Value {
    json!({"type": "boolean", "default": true, "description": description})
}

fn table(description: &str, properties: Value) -> Value {
    json!({"type": "object", "description": description, "additionalProperties": false, "properties": properties})
}

fn service(description: &str) -> Value {
    table(description, json!({"enabled": enabled("false: sra leaves the service alone (never tears it down)")}))
}

fn account(description: &str) -> Value {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": false,
        "required": ["name", "email"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 50, "description": "Account name: 1-50 printable ASCII characters"},
            "email": {"type": "string", "format": "email", "maxLength": 64, "description": "Root email; unique across AWS. An existing account with it is adopted"},
            "ou": {"type": "string", "default": "Security", "description": "OU path under the root, e.g. \"Infra/Security\""},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Extra tags; sra adds sra:account itself"},
            "role_tag": {"type": "boolean", "default": true, "description": "Tag the account sra:account = its SRA role (false: leave an adopted account's tags as they are)"}
        }
    })
}

/// The schema, as a JSON value.
pub fn schema() -> Value {
    let la = LogArchiveSpec::default();
    let services: Vec<(&str, Value)> = vec![
        (
            "guardduty",
            table(
                "GuardDuty, delegated to Security Tooling in every governed region",
                json!({
                    "enabled": enabled("false: sra leaves GuardDuty alone"),
                    "features": strings("Protection features auto-enabled for every member", GUARDDUTY_FEATURES, GuardDutySpec::default().features),
                    "runtime_monitoring_agents": strings("With RUNTIME_MONITORING: the agents GuardDuty deploys and manages (EKS add-on, ECS Fargate, EC2); a kind left out is set to NONE", GUARDDUTY_AGENTS, GuardDutySpec::default().runtime_agents),
                }),
            ),
        ),
        (
            "securityhub",
            table(
                "Security Hub, delegated to Security Tooling in every governed region, findings aggregated in the home region",
                json!({
                    "enabled": enabled("false: sra leaves Security Hub alone"),
                    "standards": strings("Standards of every account in every governed region, accounts that join later included (one central configuration policy on the root)", SECURITYHUB_STANDARDS, SecurityHubSpec::default().standards),
                }),
            ),
        ),
        ("macie", service("Macie, delegated to Security Tooling in every governed region")),
        (
            "inspector",
            table(
                "Inspector, delegated to Security Tooling in every governed region",
                json!({
                    "enabled": enabled("false: sra leaves Inspector alone"),
                    "scans": strings("Scan types auto-enabled for every member", INSPECTOR_SCANS, InspectorSpec::default().scans),
                }),
            ),
        ),
        ("detective", service("Detective: investigates GuardDuty's findings, so keep GuardDuty on")),
        ("config", service("AWS Config: recorders in Security Tooling and Log Archive, organization aggregator")),
        ("cloudtrail", service("CloudTrail delegated administration to Security Tooling")),
        ("access_analyzer", service("IAM Access Analyzer: an organization analyzer in every governed region")),
        (
            "trusted_advisor",
            service(
                "Trusted Advisor delegated administration to Security Tooling, once its organizational view is on (a manual step in its console, which plan lists)",
            ),
        ),
    ];
    let guardrail_names: Vec<&str> = crate::services::guardrails::catalog::CATALOG.iter().map(|g| g.name).collect();
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/sra-bootstrap/sra-bootstrap/docs/plan-file.schema.json",
        "title": "sra plan file",
        "description": "One organization's AWS Security Reference Architecture layout. Check with `sra validate FILE`.",
        "type": "object",
        "additionalProperties": false,
        "required": ["version", "organization", "accounts"],
        "properties": {
            "version": {"const": 1, "description": "Plan-file format version"},
            "organization": {
                "type": "object",
                "additionalProperties": false,
                "required": ["home_region"],
                "properties": {
                    "home_region": {"type": "string", "enum": super::regions::KNOWN, "description": "Where the organization trail and the aggregators live"},
                    "governed_regions": {"type": "array", "items": {"type": "string", "enum": super::regions::KNOWN}, "minItems": 1, "uniqueItems": true, "description": "Regions whose security services sra governs; must include home_region. Default: [home_region]"},
                    "access_role": {"type": "string", "default": "OrganizationAccountAccessRole", "description": "Role sra assumes in member accounts (AWSControlTowerExecution under Control Tower)"},
                    "plan_role": {"type": "string", "description": "Read-only role sra apply makes in Security Tooling and Log Archive, trusted by the management account; sra plan reads member accounts through it (`sra permissions plan PLAN` then grants assuming only it)"}
                }
            },
            "accounts": {
                "type": "object",
                "additionalProperties": false,
                "required": ["security_tooling", "log_archive"],
                "properties": {
                    "security_tooling": account("The Security Tooling account: delegated administrator of every security service"),
                    "log_archive": account("The Log Archive account: holds the organization trail's logs")
                }
            },
            "log_bucket": table("The log bucket in Log Archive and its access-log bucket; {account_id} and {region} are replaced", json!({
                "name": {"type": "string", "default": la.bucket},
                "access_log_bucket": {"type": "string", "default": la.access_log_bucket},
                "break_glass_role": {"type": "string", "description": "A role in Log Archive that may change the buckets' protections or delete logs"},
                "readers": {"type": "array", "items": {"type": "string", "pattern": "^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$"}, "description": "Principals (IAM ARNs) that may read and decrypt the log files, trail and Config alike, over TLS from inside the organization. Default: the Security Tooling account (its IAM policies decide who); [] for nobody. Each must exist, in an account of the organization, before apply: S3 and KMS refuse a policy naming a principal that does not exist"},
                "transition_days": {"type": "integer", "minimum": 1, "default": la.lifecycle.transition_days},
                "transition_storage_class": {"type": "string", "enum": STORAGE_CLASSES, "default": la.lifecycle.transition_storage_class},
                "noncurrent_expiration_days": {"type": "integer", "minimum": 1, "default": la.lifecycle.noncurrent_expiration_days},
                "retention_days": {"type": "integer", "minimum": 1, "description": "Expire logs after this many days (default: keep forever)"},
                "object_lock_mode": {"type": "string", "enum": ["GOVERNANCE", "COMPLIANCE"], "description": "Write-once retention of the log bucket; on an existing bucket it is enabled in place, for good, and the objects already there stay unlocked. AWS Config does not deliver to such a bucket: needs [services.config] off"},
                "object_lock_days": {"type": "integer", "minimum": 1}
            })),
            "trail": table("The organization trail, in the management account's home region", json!({
                "enabled": enabled("false: sra leaves the trail and the buckets alone"),
                "name": {"type": "string", "default": la.trail.name},
                "s3_key_prefix": {"type": "string"},
                "kms_key_alias": {"type": "string", "pattern": "^alias/", "default": la.trail.kms_key_alias},
                "data_events": strings("Data events to log; the log buckets are never logged", DATA_EVENTS, vec![]),
                "cloudwatch_log_group": {"type": "string", "description": "Also deliver the trail to this CloudWatch Logs group"},
                "cloudwatch_retention_days": {"type": "integer", "minimum": 1}
            })),
            "guardrails": table("Service control policies that keep member accounts from switching off what sra set up", json!({
                "enabled": enabled("false: no guardrails"),
                "attach_to": {"type": "array", "items": {"type": "string"}, "default": ["Root"], "description": "\"Root\" and/or existing OU paths"},
                "exempt_roles": {"type": "array", "items": {"type": "string"}, "description": "Roles the guardrails never deny; must include organization.access_role"},
                "disabled": strings("Guardrails to leave out", &guardrail_names, vec![]),
                "resource_control_policies": {"type": "boolean", "default": true, "description": "The resource control policy (RCP) that keeps the log buckets and the trail key for the organization and its AWS services, against requests from outside too"}
            })),
            "posture": table("How `sra posture` ranks the findings to look at first", json!({
                "critical_ous": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "default": [], "description": "OU paths (from the root, e.g. \"Workloads/Prod\") whose accounts, at any depth, rank first among findings of the same severity and kind, like the management account, Security Tooling and Log Archive"}
            })),
            "baselines": table("What every active account of the organization gets (the management account included, the excluded OUs' accounts not); a missing table means on with these defaults", json!({
                "enabled": enabled("false: no account baselines"),
                "ebs_default_encryption": enabled("EBS encryption by default in every account and governed region"),
                "s3_block_public_access": enabled("The S3 account-level public access block (all four settings) in every account (Log Archive's is the log archive's)"),
                "config_recorders": enabled("AWS Config recording every supported resource in every account and governed region (global resources in the home region), delivering to the log bucket; with [services.config]"),
                "password_policy": enabled("The IAM account password policy at CIS values or stricter (length 14, all character classes, no reuse of the last 24) in every account"),
                "exclude_ous": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "default": [], "description": "OU paths (from the root, e.g. \"Sandbox\") whose accounts, at any depth, are left alone"},
                "security_contact": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "title", "email", "phone"],
                    "description": "Every account's SECURITY alternate contact (AWS's abuse and incident notices); set from the management account with trusted access for account.amazonaws.com",
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 64},
                        "title": {"type": "string", "minLength": 1, "maxLength": 50},
                        "email": {"type": "string", "format": "email", "maxLength": 254},
                        "phone": {"type": "string", "pattern": "^[\\s0-9()+-]+$", "maxLength": 25}
                    }
                }
            })),
            "services": {
                "type": "object",
                "description": "Security services delegated to Security Tooling; a missing table means on with the SRA baseline",
                "additionalProperties": false,
                "properties": services.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<serde_json::Map<String, Value>>()
            }
        }
    })
}

/// `docs/plan-file.md`: the plan-file reference, one row per key, from the schema.
pub fn reference() -> String {
    let mut out = String::from(
        "# Plan-file reference\n\n\
         Generated from the plan file's JSON Schema (`sra schema`, [plan-file.schema.json](plan-file.schema.json));\n\
         a test fails when this page is stale. `plans/example.toml` shows every key in context.\n\n\
         | key | type | default | description |\n|---|---|---|---|\n",
    );
    rows("", &schema(), &mut out);
    out
}

fn rows(path: &str, node: &Value, out: &mut String) {
    let Some(props) = node.get("properties").and_then(Value::as_object) else { return };
    let required: Vec<&str> =
        node.get("required").and_then(Value::as_array).map_or(vec![], |r| r.iter().filter_map(Value::as_str).collect());
    for (key, child) in props {
        let full = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        let kind = match child.get("type").and_then(Value::as_str) {
            Some("array") => {
                let item = child.pointer("/items/enum").and_then(Value::as_array);
                match item {
                    Some(values) if values.len() <= 8 => format!(
                        "array of {}",
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|v| format!("`{v}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => "array of strings".to_string(),
                }
            }
            Some("object") if child.get("properties").is_some() => "table".to_string(),
            Some("object") => "inline table of strings".to_string(),
            Some(t) => match child.get("enum").and_then(Value::as_array) {
                Some(values) if values.len() <= 8 => {
                    values.iter().filter_map(Value::as_str).map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" or ")
                }
                Some(_) => format!("{t} (a known region)"),
                None => t.to_string(),
            },
            None => child.get("const").map_or("".into(), |c| format!("`{c}`")),
        };
        let default = match child.get("default") {
            Some(d) => format!("`{d}`"),
            None if required.contains(&key.as_str()) => "required".to_string(),
            None => String::new(),
        };
        let description = child.get("description").and_then(Value::as_str).unwrap_or("").replace('|', "\\|");
        out.push_str(&format!("| `{full}` | {kind} | {default} | {description} |\n"));
        rows(&full, child, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// plans/example.toml with its commented-out options switched on.
    fn example_with_every_option() -> String {
        let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../plans/example.toml")).unwrap();
        src.lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.split_once(" = ").is_some_and(|(k, _)| !k.contains(' ')) => rest.to_string(),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn keys(path: &str, v: &Value, out: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (k, child) in props {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                out.push(p.clone());
                keys(&p, child, out);
            }
        }
    }

    #[test]
    fn the_example_with_every_option_validates_and_loads() {
        // Object Lock (switched on here) needs Config off: AWS Config does not
        // deliver to an Object Lock bucket.
        let every = example_with_every_option();
        let src = every.replace("[services.config]\nenabled = true", "[services.config]\nenabled = false");
        assert_ne!(src, every, "the example's [services.config] is where the test expects it");
        crate::plan_file::parse(&src).expect("the example with every option loads");
        assert!(crate::plan_file::parse(&every).is_err(), "Object Lock with Config is refused");
        let value: Value = serde_json::to_value(toml::from_str::<toml::Table>(&src).unwrap()).unwrap();
        let schema = schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn every_key_in_the_schema_is_shown_in_the_example() {
        let src = example_with_every_option();
        let value: Value = serde_json::to_value(toml::from_str::<toml::Table>(&src).unwrap()).unwrap();
        let mut all = Vec::new();
        keys("", &schema(), &mut all);
        let missing: Vec<&String> = all
            .iter()
            .filter(|k| !k.ends_with(".tags"))
            .filter(|k| k.split('.').try_fold(&value, |v, part| v.get(part)).is_none())
            .collect();
        assert!(missing.is_empty(), "keys the example does not show: {missing:?}");
    }

    #[test]
    fn a_misspelt_key_is_rejected_by_the_schema_too() {
        let src = example_with_every_option().replace("home_region =", "home_regoin =");
        let value: Value = serde_json::to_value(toml::from_str::<toml::Table>(&src).unwrap()).unwrap();
        assert!(!jsonschema::validator_for(&schema()).unwrap().is_valid(&value));
    }

    #[test]
    fn checked_in_reference_is_fresh() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/plan-file.md");
        if std::env::var_os("SRA_UPDATE_SCHEMA").is_some() {
            std::fs::write(path, reference()).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == reference(),
            "docs/plan-file.md is stale: run SRA_UPDATE_SCHEMA=1 cargo test -p sra-core checked_in_reference_is_fresh"
        );
    }

    #[test]
    fn checked_in_schema_is_fresh() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/plan-file.schema.json");
        let text = serde_json::to_string_pretty(&schema()).unwrap() + "\n";
        if std::env::var_os("SRA_UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == text,
            "docs/plan-file.schema.json is stale: run SRA_UPDATE_SCHEMA=1 cargo test -p sra-core checked_in_schema_is_fresh"
        );
    }
}
