//! The plan as a versioned document: the one public shape of a plan, for JSON
//! output, saved plans and `sra show`. Hand-written output types, not the
//! internal model serialized: the engine can change without breaking readers.
//! docs/plan.schema.json is generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::plan::{Action, Change, Plan, Step};

/// The version of this document's format. Readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanDocument {
    /// Always 1 for this format.
    pub format_version: u32,
    /// The sra version that made the plan.
    pub sra_version: String,
    pub plan_file: PlanFileRef,
    pub organization_id: Option<String>,
    /// The management account whose credentials made the plan.
    pub caller_account: String,
    /// Whether the plan file is the one last applied (per the organization root's
    /// `sra:applied-digest` tag): then every change is drift. None when sra cannot tell.
    pub plan_file_applied_before: Option<bool>,
    pub summary: Summary,
    /// Digest of the observed state of every resource in the plan.
    pub fingerprint: String,
    pub changes: Vec<ChangeDoc>,
    /// Problems that stop apply until they are fixed.
    pub blockers: Vec<BlockerDoc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanFileRef {
    /// As given on the command line.
    pub path: String,
    /// SHA-256 of the validated plan (not of the file's bytes: comments and
    /// formatting do not count).
    pub digest: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    /// Differences only a person can resolve.
    pub manual: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionDoc {
    Create,
    Update,
    NoOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeDoc {
    /// e.g. `account.log_archive`, `log_archive.log_bucket`, `guardrail["sra-guardrails-logging"]`.
    pub address: String,
    pub action: ActionDoc,
    /// The live id (account id, bucket name, ARN), when the resource exists.
    pub id: Option<String>,
    pub reason: String,
    pub properties: Vec<PropertyDoc>,
    /// What apply will do, in order.
    pub steps: Vec<String>,
    /// Differences apply cannot make, with what to do instead.
    pub manual: Vec<String>,
    /// Digest of this resource's observed state.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PropertyDoc {
    pub name: String,
    /// Live value; null when absent. Policies are normalized, pretty JSON.
    pub before: Option<String>,
    /// Planned value; `(known after apply)` inside it where an id does not exist yet.
    pub after: Option<String>,
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockerDoc {
    pub message: String,
    pub hint: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// A resource's observed state, as a digest: its address and every live value.
fn change_fingerprint(c: &Change) -> String {
    let mut text = format!("{}\n{:?}\n", c.address, c.id);
    for p in &c.properties {
        text.push_str(&format!("{}={:?}\n", p.name, p.before));
    }
    sha256(&text)
}

pub fn step_text(s: &Step) -> String {
    match s {
        Step::CreateOrganization => "CreateOrganization (all features)".into(),
        Step::CreateOu { path, .. } => format!("CreateOrganizationalUnit {path}"),
        Step::CreateAccount { name, email, .. } => format!("CreateAccount \"{name}\" <{email}>, wait until it exists"),
        Step::AwaitAccount { request_id, .. } => format!("wait for CreateAccount request {request_id}"),
        Step::MoveAccount { .. } => "MoveAccount into its OU".into(),
        Step::TagAccount { tags, .. } => format!("TagResource {}", tags.keys().cloned().collect::<Vec<_>>().join(", ")),
        Step::EnableServiceAccess { principal } => format!("EnableAWSServiceAccess {principal}"),
        Step::LogArchive { op, .. } => format!("{op:?}"),
        Step::Guardrail { op, .. } => format!("{op:?}"),
        Step::Delegate { principal, op, .. } => match op {
            crate::services::delegation::DelegationOp::Register => format!("register Security Tooling for {principal}"),
            crate::services::delegation::DelegationOp::Deregister { account } => {
                format!("deregister {account} for {principal}")
            }
        },
        Step::AccessAnalyzer { region } => format!("CreateAnalyzer (ORGANIZATION) in {region}"),
        Step::Macie { region, op } => match op {
            crate::services::macie::MaOp::CreateMembers { accounts } => {
                format!("CreateMember in {region}: {} accounts", accounts.len())
            }
            other => format!("{other:?} in {region}"),
        },
        Step::Config { region, op, .. } => match op {
            crate::services::config::CfOp::PutAggregator { regions } => {
                format!("PutConfigurationAggregator over {}", regions.join(", "))
            }
            other => format!("{other:?} in {region}"),
        },
        Step::Detective { region, op } => match op {
            crate::services::detective::DtOp::CreateMembers { accounts } => {
                format!("CreateMembers in {region}: {} accounts", accounts.len())
            }
            other => format!("{other:?} in {region}"),
        },
        Step::Inspector { region, op } => match op {
            crate::services::inspector::InOp::AssociateMembers { accounts } => {
                format!("AssociateMember in {region}: {} accounts", accounts.len())
            }
            other => format!("{other:?} in {region}"),
        },
        Step::SecurityHub { region, op } => match op {
            crate::services::securityhub::ShOp::CreateMembers { accounts } => {
                format!("CreateMembers in {region}: {} accounts", accounts.len())
            }
            other => format!("{other:?} in {region}"),
        },
        Step::GuardDuty { region, op } => match op {
            crate::services::guardduty::GdOp::CreateMembers { accounts } => {
                format!("CreateMembers in {region}: {} accounts", accounts.len())
            }
            other => format!("{other:?} in {region}"),
        },
    }
}

/// The document for a plan.
pub fn document(plan: &Plan, plan_path: &str, plan_digest: &str, applied_before: Option<bool>) -> PlanDocument {
    let s = plan.summary();
    let changes: Vec<ChangeDoc> = plan
        .changes
        .iter()
        .map(|c| ChangeDoc {
            address: c.address.to_string(),
            action: match c.action {
                Action::Create => ActionDoc::Create,
                Action::Update => ActionDoc::Update,
                Action::NoOp => ActionDoc::NoOp,
            },
            id: c.id.clone(),
            reason: c.reason.clone(),
            properties: c
                .properties
                .iter()
                .map(|p| PropertyDoc {
                    name: p.name.clone(),
                    before: p.before.clone(),
                    after: p.after.clone(),
                    changed: p.changed(),
                })
                .collect(),
            steps: c.steps.iter().map(step_text).collect(),
            manual: c.manual.clone(),
            fingerprint: change_fingerprint(c),
        })
        .collect();
    let fingerprint = sha256(&changes.iter().map(|c| format!("{}:{}\n", c.address, c.fingerprint)).collect::<String>());
    PlanDocument {
        format_version: FORMAT_VERSION,
        sra_version: env!("CARGO_PKG_VERSION").to_string(),
        plan_file: PlanFileRef { path: plan_path.to_string(), digest: plan_digest.to_string() },
        organization_id: plan.organization_id.clone(),
        caller_account: plan.caller_account.clone(),
        plan_file_applied_before: applied_before,
        summary: Summary {
            create: s.create,
            update: s.update,
            unchanged: s.unchanged,
            manual: plan.changes.iter().filter(|c| !c.manual.is_empty()).count(),
        },
        fingerprint,
        changes,
        blockers: plan
            .blockers
            .iter()
            .map(|b| BlockerDoc { message: b.message.clone(), hint: b.hint.clone() })
            .collect(),
    }
}

impl PlanDocument {
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != ActionDoc::NoOp)
    }

    pub fn has_manual(&self) -> bool {
        self.changes.iter().any(|c| !c.manual.is_empty())
    }

    /// Addresses whose observed state differs between two plans of the same file.
    pub fn stale_against(&self, now: &PlanDocument) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.changes {
            match now.changes.iter().find(|n| n.address == c.address) {
                Some(n) if n.fingerprint == c.fingerprint && n.action == c.action => {}
                Some(_) => out.push(c.address.clone()),
                None => out.push(format!("{} (no longer in the plan)", c.address)),
            }
        }
        for n in &now.changes {
            if !self.changes.iter().any(|c| c.address == n.address) {
                out.push(format!("{} (new in the plan)", n.address));
            }
        }
        out
    }
}

/// The JSON Schema of the document, for docs/plan.schema.json.
pub fn schema() -> String {
    let schema = schemars::schema_for!(PlanDocument);
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/plan.schema.json is what readers of `--format json` rely on: it must
    /// match the types. Regenerate with `SRA_UPDATE_SCHEMA=1 cargo test`.
    #[test]
    fn checked_in_schema_is_fresh() {
        let path = "docs/plan.schema.json";
        let now = schema();
        if std::env::var_os("SRA_UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &now).unwrap();
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == now,
            "{path} is stale: run `SRA_UPDATE_SCHEMA=1 cargo test --lib checked_in_schema_is_fresh`"
        );
    }

    #[test]
    fn stale_plans_name_what_changed() {
        let mk = |fp: &str| ChangeDoc {
            address: "trail".into(),
            action: ActionDoc::Update,
            id: None,
            reason: String::new(),
            properties: vec![],
            steps: vec![],
            manual: vec![],
            fingerprint: fp.into(),
        };
        let doc = |changes| PlanDocument {
            format_version: 1,
            sra_version: "0".into(),
            plan_file: PlanFileRef { path: "p".into(), digest: "d".into() },
            organization_id: None,
            caller_account: "1".into(),
            plan_file_applied_before: None,
            summary: Summary::default(),
            fingerprint: String::new(),
            changes,
            blockers: vec![],
        };
        assert!(doc(vec![mk("a")]).stale_against(&doc(vec![mk("a")])).is_empty());
        assert_eq!(doc(vec![mk("a")]).stale_against(&doc(vec![mk("b")])), ["trail"]);
        assert_eq!(doc(vec![]).stale_against(&doc(vec![mk("b")])), ["trail (new in the plan)"]);
    }
}
