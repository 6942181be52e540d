//! The plan as a versioned document: the one public shape of a plan, for JSON
//! output, saved plans and `sra show`. Hand-written output types, not the
//! internal model serialized: the engine can change without breaking readers.
//! docs/plan.schema.json is generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::plan::{Action, Change, Plan, Step};
use crate::model::Desired;

/// The version of this document's format. Readers refuse other versions.
pub const FORMAT_VERSION: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanDocument {
    /// 4 for this format (2 added `destructive` to each change and words for steps;
    /// 3 added `plan_file.contents`; 4 added `guardrail_proof`).
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
    /// The attack catalog (docs/guardrails.md) evaluated against the policies this
    /// plan writes: each case, its outcome and the statements that decided. None
    /// when the plan sets up neither guardrails nor the Log Archive.
    pub guardrail_proof: Option<crate::services::guardrails::proof::Proof>,
    /// What sra leaves as it is on purpose, and says so: neither a change nor a
    /// manual step (e.g. Control Tower's Config recorders).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanFileRef {
    /// The plan file: in a saved plan (`sra plan --out`), relative to the saved
    /// plan's directory, so it applies from any working directory; otherwise as
    /// given on the command line.
    pub path: String,
    /// SHA-256 of the validated plan (not of the file's bytes: comments and
    /// formatting do not count): of `contents` in canonical form.
    pub digest: String,
    /// The validated plan file, every value apply sends: applying a saved plan
    /// uses these, not the file at `path`, which may have changed since.
    pub contents: serde_json::Value,
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
    /// The change undoes someone else's set-up (it replaces another delegated
    /// administrator): `sra apply` refuses it unless `--allow-admin-change` is given.
    pub destructive: bool,
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
    let json = |v: &Option<String>| serde_json::to_string(v).expect("strings serialize");
    let mut text = format!("{}\n{}\n", c.address, json(&c.id));
    for p in &c.properties {
        text.push_str(&format!("{}={}\n", p.name, json(&p.before)));
    }
    sha256(&text)
}

/// A step as the plan lists it: an instruction in words ("create the bucket").
pub fn step_text(s: &Step) -> String {
    s.phrase().instruction()
}

/// The document for a plan.
pub fn document(plan: &Plan, plan_path: &str, desired: &Desired, applied_before: Option<bool>) -> PlanDocument {
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
            destructive: plan.is_destructive(&c.address),
        })
        .collect();
    let fingerprint = sha256(&changes.iter().map(|c| format!("{}:{}\n", c.address, c.fingerprint)).collect::<String>());
    PlanDocument {
        format_version: FORMAT_VERSION,
        sra_version: env!("CARGO_PKG_VERSION").to_string(),
        plan_file: PlanFileRef {
            path: plan_path.to_string(),
            digest: desired.digest(),
            contents: serde_json::to_value(desired).expect("the desired model serializes"),
        },
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
        guardrail_proof: plan.proof.clone(),
        notes: plan.notes.clone(),
    }
}

impl PlanDocument {
    /// The plan file's values the plan was computed from, checked against the
    /// digest: a saved plan edited by hand is refused, not half-applied.
    pub fn desired(&self) -> Result<Desired, String> {
        let desired: Desired = serde_json::from_value(self.plan_file.contents.clone())
            .map_err(|e| format!("its plan file contents cannot be read: {e}"))?;
        if desired.digest() != self.plan_file.digest {
            return Err("its plan file contents do not match their digest (the saved plan was edited)".into());
        }
        Ok(desired)
    }

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

    #[test]
    fn debug_text_is_recognized() {
        use crate::render::{debug_text, identifier_text};
        for debug in ["PutRecorder { name: \"default\" }", "Some(\"x\")", "Account(LogArchive)", "x: None"] {
            assert!(debug_text(debug).is_some(), "{debug}");
        }
        for words in [
            "set recorder \"default\" in Security Tooling in us-east-1 (global resources: yes)",
            "delegate GuardDuty to Security Tooling in us-east-1",
            "CreateAccount may not have reached AWS (attempt 1)",
            "SCPs are not enabled on the root",
        ] {
            assert_eq!(debug_text(words), None, "{words}");
        }
        assert_eq!(identifier_text("EnableAdmin in us-east-1").as_deref(), Some("EnableAdmin"));
        assert_eq!(identifier_text("delegate GuardDuty to Security Tooling"), None);
    }

    /// Every step, each operation of every service included, reads as words in
    /// both voices (the plan's and apply's progress).
    #[test]
    fn every_step_reads_as_words() {
        use crate::engine::plan::IdRef;
        use crate::model::{AccountRole, OuPath};
        use crate::services::{
            config::CfOp, delegation::DelegationOp, detective::DtOp, guardduty::GdOp, guardrails::GuardrailOp,
            inspector::InOp, log_archive, macie::MaOp, regional, securityhub::ShOp,
        };
        let r = || "us-east-1".to_string();
        let members = || vec![("111111111111".to_string(), "a@example.com".to_string())];
        let regions = || vec!["us-east-1".to_string(), "us-west-2".to_string()];
        let other = || "222222222222".to_string();
        let mut steps = vec![
            Step::CreateOrganization,
            Step::CreateOu { path: OuPath::parse("Security").unwrap(), parent: IdRef::Root },
            Step::CreateAccount {
                role: AccountRole::LogArchive,
                name: "Log Archive".into(),
                email: "a@example.com".into(),
                access_role: "OrganizationAccountAccessRole".into(),
                tags: [("sra:account".to_string(), "log-archive".to_string())].into(),
            },
            Step::AwaitAccount {
                role: AccountRole::LogArchive,
                request_id: "car-1".into(),
                email: "a@example.com".into(),
            },
            Step::MoveAccount { account: IdRef::Account(AccountRole::LogArchive), from: IdRef::Root, to: IdRef::Root },
            Step::TagAccount { account: IdRef::Known("1".into()), tags: [("k".to_string(), "v".to_string())].into() },
            Step::EnableServiceAccess { principal: "guardduty.amazonaws.com".into() },
            Step::AccessAnalyzer { region: r() },
        ];
        for op in [
            GuardrailOp::EnablePolicyType { root: IdRef::Root, kind: crate::services::guardrails::PolicyKind::Scp },
            GuardrailOp::EnablePolicyType { root: IdRef::Root, kind: crate::services::guardrails::PolicyKind::Rcp },
            GuardrailOp::Create,
            GuardrailOp::Update,
            GuardrailOp::Attach { target: IdRef::Root, label: "the root".into() },
            GuardrailOp::Detach { target: "ou-1".into() },
        ] {
            steps.push(Step::Guardrail { policy: "sra-guardrails".into(), op });
        }
        for op in [DelegationOp::Register, DelegationOp::Deregister { account: other() }] {
            steps.push(Step::Delegate { service: "config", principal: "config.amazonaws.com", op });
        }
        use log_archive::Op;
        for op in [
            Op::CreateKey,
            Op::PutKeyPolicy,
            Op::EnableKeyRotation,
            Op::EnableKey,
            Op::PutAccountPublicAccessBlock,
            Op::CreateBucket,
            Op::PutPublicAccessBlock,
            Op::PutOwnership,
            Op::PutVersioning,
            Op::PutEncryption,
            Op::PutLifecycle,
            Op::PutLogging,
            Op::PutObjectLock,
            Op::PutBucketPolicy,
            Op::CreateLogGroup,
            Op::PutRetentionPolicy,
            Op::CreateLogsRole,
            Op::PutLogsRolePolicies,
            Op::CreateTrail,
            Op::UpdateTrail,
            Op::PutEventSelectors,
            Op::StartLogging,
        ] {
            steps.push(Step::LogArchive { target: log_archive::Target::Trail, op });
        }
        fn shared<O>(other: String, members: Vec<(String, String)>) -> Vec<regional::Op<O>> {
            use regional::Op;
            vec![
                Op::EnableAdmin,
                Op::DisableAdmin { account: other },
                Op::Enroll { accounts: members, with: vec![] },
                Op::EnrollAll { with: vec![] },
            ]
        }
        let own = |op| regional::Op::Own(op);
        for op in shared(other(), members()).into_iter().chain([
            own(GdOp::EnsureDetector),
            own(GdOp::UpdateOrganizationConfiguration {
                auto_enable_members: "ALL".into(),
                features: [("S3_DATA_EVENTS".to_string(), "ALL".to_string())].into(),
            }),
        ]) {
            steps.push(Step::GuardDuty { region: r(), op });
        }
        for op in shared(other(), members()).into_iter().chain(
            [
                ShOp::EnableHub,
                ShOp::StartCentralConfiguration,
                ShOp::CreateConfigurationPolicy { name: "sra-organization".into(), standards: vec!["fsbp".into()] },
                ShOp::UpdateConfigurationPolicy { id: "p-1".into(), standards: vec!["fsbp".into()] },
                ShOp::AssociateWithRoot { root: IdRef::Root, policy: "sra-organization".into() },
                ShOp::CreateFindingAggregator { regions: regions() },
                ShOp::UpdateFindingAggregator { arn: "arn:aws:securityhub:x".into(), regions: regions() },
            ]
            .map(regional::Op::Own),
        ) {
            steps.push(Step::SecurityHub { region: r(), op });
        }
        for op in
            shared(other(), members()).into_iter().chain([regional::Op::Own(InOp::UpdateOrganizationConfiguration {
                auto_enable: [("ec2".to_string(), true)].into(),
            })])
        {
            steps.push(Step::Inspector { region: r(), op });
        }
        for op in shared(other(), members()).into_iter().chain(
            [MaOp::EnableMacie, MaOp::UpdateOrganizationConfiguration { auto_enable: true }].map(regional::Op::Own),
        ) {
            steps.push(Step::Macie { region: r(), op });
        }
        for op in shared(other(), members())
            .into_iter()
            .chain([regional::Op::Own(DtOp::UpdateOrganizationConfiguration { auto_enable: true })])
        {
            steps.push(Step::Detective { region: r(), op });
        }
        for op in [
            CfOp::PutRecorder { name: "default".into(), include_global: true },
            CfOp::PutDeliveryChannel { name: "default".into() },
            CfOp::StartRecorder { name: "default".into() },
            CfOp::PutAggregatorRole,
            CfOp::PutAggregator { regions: regions() },
        ] {
            steps.push(Step::Config { account: AccountRole::SecurityTooling, region: r(), op });
        }
        {
            use crate::services::baselines::{Op as BlOp, PasswordPolicy};
            let contact = crate::model::SecurityContact {
                name: "Sec".into(),
                title: "Security".into(),
                email: "s@example.com".into(),
                phone: "+1-555-0100".into(),
            };
            for op in [
                BlOp::EnableEbsEncryption { region: r() },
                BlOp::PutPublicAccessBlock,
                BlOp::UpdatePasswordPolicy { policy: PasswordPolicy::wanted(None) },
                BlOp::PutSecurityContact { contact },
            ] {
                steps.push(Step::Baseline { account: IdRef::Known("1".into()), label: "111111111111".into(), op });
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &steps {
            assert!(seen.insert(step_text(s)), "two steps read the same: {}", step_text(s));
        }
        for s in &steps {
            let (plan, progress) = (s.phrase().instruction(), s.phrase().progress());
            for text in [&plan, &progress] {
                assert_eq!(crate::render::debug_text(text), None, "{text}");
                assert_eq!(crate::render::identifier_text(text), None, "{text}");
                assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
            }
            assert_ne!(plan, progress);
        }
        assert_eq!(
            step_text(&Step::Config {
                account: AccountRole::SecurityTooling,
                region: r(),
                op: CfOp::PutRecorder { name: "default".into(), include_global: true }
            }),
            "set recorder \"default\" in Security Tooling in us-east-1 (every supported resource, global resources: yes)"
        );
    }

    /// docs/plan.schema.json is what readers of `--format json` rely on: it must
    /// match the types. Regenerate with `SRA_UPDATE_SCHEMA=1 cargo test`.
    #[test]
    fn checked_in_schema_is_fresh() {
        crate::render::assert_schema_fresh("plan.schema.json", &schema());
    }

    /// A saved plan carries the plan file's every value: read back, they are the
    /// same model (so apply needs no file); edited, they are refused.
    #[test]
    fn the_plan_file_contents_round_trip_and_are_checked() {
        let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../plans/example.toml"));
        let desired = crate::plan_file::parse(&example.unwrap()).unwrap();
        let plan = Plan {
            ids: Default::default(),
            organization_id: None,
            caller_account: "111111111111".into(),
            changes: vec![],
            blockers: vec![],
            destructive: vec![],
            proof: None,
            notes: vec![],
        };
        let doc = document(&plan, "plans/example.toml", &desired, None);
        let text = serde_json::to_string(&doc).unwrap();
        let back: PlanDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(back.desired().unwrap(), desired);
        let mut edited = back.clone();
        edited.plan_file.contents["access_role"] = serde_json::Value::from("Other");
        assert!(edited.desired().unwrap_err().contains("do not match their digest"));
        let mut broken = back;
        broken.plan_file.contents = serde_json::json!({"home_region": 1});
        assert!(broken.desired().unwrap_err().contains("cannot be read"));
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
            destructive: false,
        };
        let doc = |changes| PlanDocument {
            format_version: FORMAT_VERSION,
            sra_version: "0".into(),
            plan_file: PlanFileRef { path: "p".into(), digest: "d".into(), contents: serde_json::Value::Null },
            organization_id: None,
            caller_account: "1".into(),
            plan_file_applied_before: None,
            summary: Summary::default(),
            fingerprint: String::new(),
            changes,
            blockers: vec![],
            guardrail_proof: None,
            notes: vec![],
        };
        assert!(doc(vec![mk("a")]).stale_against(&doc(vec![mk("a")])).is_empty());
        assert_eq!(doc(vec![mk("a")]).stale_against(&doc(vec![mk("b")])), ["trail"]);
        assert_eq!(doc(vec![]).stale_against(&doc(vec![mk("b")])), ["trail (new in the plan)"]);
    }
}
