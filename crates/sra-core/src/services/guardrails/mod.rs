//! Guardrails: service control policies that keep member accounts, their admins
//! included, from switching off what sra set up.
//!
//! Each guardrail is a named Deny statement. They are grouped into three SCPs so
//! that, with AWS's FullAWSAccess, a target holds four of its five allowed
//! policies. Every Deny exempts the roles in `[guardrails].exempt_roles` (by
//! default the access role sra uses, and the break-glass role). SCPs never
//! apply to the management account.

pub mod catalog;
pub mod perimeter;
pub mod proof;

use std::collections::{BTreeMap, BTreeSet};

pub use catalog::{CATALOG, Guardrail, POLICIES};
use serde_json::{Value, json};

use crate::engine::plan::{Action, Address, Change, IdRef, Phrase, Property, Step, Verb};
use crate::model::{GuardrailSpec, LogArchiveSpec, OuPath, ScpTarget};
use crate::policy;
use crate::services::log_archive::Ids;

/// AWS's limits on service control policies.
pub const MAX_SCP_CHARS: usize = 5120;
pub const MAX_SCPS_PER_TARGET: usize = 5;

/// The two kinds of organization policy sra writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// A service control policy: binds the principals of member accounts.
    Scp,
    /// A resource control policy: binds every request to member accounts' resources.
    Rcp,
}

impl PolicyKind {
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::Scp => "service control policies",
            PolicyKind::Rcp => "resource control policies",
        }
    }
}

/// One organization policy sra manages: its name, description, document, kind and
/// where it is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Scp {
    pub name: &'static str,
    pub description: &'static str,
    pub guardrails: Vec<&'static str>,
    pub document: Value,
    pub kind: PolicyKind,
    pub targets: Vec<ScpTarget>,
}

/// What the guardrail statements refer to.
pub struct Refs<'a> {
    pub ids: &'a Ids,
    pub log_archive: &'a LogArchiveSpec,
    /// The account baselines the plan sets (guarded in every account).
    pub baselines: &'a crate::model::BaselineSpec,
}

/// The SCPs the plan asks for, each with only its enabled guardrails.
pub fn desired(spec: &GuardrailSpec, refs: &Refs) -> Vec<Scp> {
    if !spec.enabled {
        return vec![];
    }
    let exempt = exempt_arns(spec, refs);
    POLICIES
        .iter()
        .filter_map(|(name, description)| {
            let members: Vec<&Guardrail> = CATALOG
                .iter()
                .filter(|g| g.policy == *name && !spec.disabled.iter().any(|d| d == g.name) && (g.applies)(refs))
                .collect();
            if members.is_empty() {
                return None;
            }
            let statements: Vec<Value> = members
                .iter()
                .map(|g| {
                    let deny = (g.statement)(refs, spec);
                    let mut condition = json!({"ArnNotLike": {"aws:PrincipalArn": exempt}});
                    if let Some(accounts) = deny.only_in {
                        condition["StringEquals"] = json!({"aws:PrincipalAccount": accounts});
                    }
                    json!({
                        "Sid": g.name,
                        "Effect": "Deny",
                        "Action": deny.actions,
                        "Resource": deny.resources,
                        "Condition": condition
                    })
                })
                .collect();
            Some(Scp {
                name,
                description,
                guardrails: members.iter().map(|g| g.name).collect(),
                document: json!({"Version": "2012-10-17", "Statement": statements}),
                kind: PolicyKind::Scp,
                targets: spec.attach_to.clone(),
            })
        })
        .chain((spec.resource_control_policies && refs.log_archive.enabled).then(|| Scp {
            name: perimeter::NAME,
            description: perimeter::DESCRIPTION,
            guardrails: perimeter::SIDS.to_vec(),
            document: perimeter::document(refs),
            kind: PolicyKind::Rcp,
            // At the root it reaches Log Archive wherever it sits; its statements
            // name only the Log Archive's buckets and key.
            targets: vec![ScpTarget::Root],
        }))
        .collect()
}

/// The principals every guardrail exempts. The access role in every account (sra
/// works in all of them; `ProtectAccessRole` keeps anyone from creating or
/// re-trusting a role of that name). The break-glass role only in Log Archive,
/// where it exists: a role of that name elsewhere is nobody's exemption.
pub fn exempt_arns(spec: &GuardrailSpec, refs: &Refs) -> Vec<String> {
    let p = &refs.ids.partition;
    spec.exempt_roles
        .iter()
        .map(|r| {
            if refs.log_archive.break_glass_role.as_deref() == Some(r.as_str()) && *r != refs.ids.access_role {
                format!("arn:{p}:iam::{}:role/{r}", refs.ids.la())
            } else {
                format!("arn:{p}:iam::*:role/{r}")
            }
        })
        .collect()
}

/// Minified size, as AWS counts it against the 5,120-character limit.
pub fn size(document: &Value) -> usize {
    document.to_string().chars().count()
}

/// Deny statements that do not exempt `role`: a set that would lock sra out.
pub fn missing_exemptions(scps: &[Scp], partition: &str, role: &str) -> Vec<String> {
    let wanted = format!("arn:{partition}:iam::*:role/{role}");
    let mut out = Vec::new();
    // RCPs never deny the organization's principals: nothing to exempt there.
    for scp in scps.iter().filter(|s| s.kind == PolicyKind::Scp) {
        let norm = policy::normalize(&scp.document);
        for st in norm["Statement"].as_array().into_iter().flatten() {
            if st["Effect"] != "Deny" {
                continue;
            }
            let exempt = st["Condition"]["ArnNotLike"]["aws:PrincipalArn"].as_array().cloned().unwrap_or_default();
            if !exempt.iter().any(|e| e.as_str() == Some(wanted.as_str())) {
                out.push(format!("{}:{}", scp.name, st["Sid"].as_str().unwrap_or("(no Sid)")));
            }
        }
    }
    out
}

/// An SCP as AWS has it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedScp {
    pub id: String,
    pub description: String,
    pub document: Option<Value>,
    /// Ids of the roots and OUs it is attached to.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedGuardrails {
    pub scp_type_enabled: bool,
    pub rcp_type_enabled: bool,
    /// sra's SCPs by name.
    pub policies: BTreeMap<String, ObservedScp>,
    /// How many SCPs each target (by id) holds, sra's included.
    pub attached_counts: BTreeMap<String, usize>,
    /// How many RCPs each target holds (RCPFullAWSAccess included).
    pub rcp_attached_counts: BTreeMap<String, usize>,
}

/// What `sra` does to a guardrail SCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardrailOp {
    EnablePolicyType { root: IdRef, kind: PolicyKind },
    Create,
    Update,
    Attach { target: IdRef, label: String },
    Detach { target: String },
}

impl GuardrailOp {
    /// The operation in words (plan and progress); the change's address names the policy.
    pub fn phrase(&self) -> Phrase {
        match self {
            GuardrailOp::EnablePolicyType { kind, .. } => {
                Phrase::new(Verb::Enable, format!("{} on the root", kind.label()))
            }
            GuardrailOp::Create => Phrase::new(Verb::Create, "the policy"),
            GuardrailOp::Update => Phrase::new(Verb::Update, "the policy's document"),
            GuardrailOp::Attach { label, .. } => Phrase::new(Verb::Attach, format!("the policy to {label}")),
            GuardrailOp::Detach { target } => Phrase::new(Verb::Detach, format!("the policy from {target}")),
        }
    }
}

/// Ids of the places guardrails attach to, as far as they exist.
pub struct Places<'a> {
    pub root: Option<&'a str>,
    pub ous: &'a BTreeMap<OuPath, String>,
}

impl Places<'_> {
    fn id_ref(&self, t: &ScpTarget) -> IdRef {
        match t {
            ScpTarget::Root => self.root.map_or(IdRef::Root, |r| IdRef::Known(r.to_string())),
            ScpTarget::Ou(p) => self.ous.get(p).map_or_else(|| IdRef::Ou(p.clone()), |id| IdRef::Known(id.clone())),
        }
    }
    fn label_of(&self, id: &str) -> String {
        if Some(id) == self.root {
            return "Root".into();
        }
        self.ous.iter().find(|(_, v)| v.as_str() == id).map_or_else(|| id.to_string(), |(p, _)| p.to_string())
    }
}

pub fn diff(spec: &GuardrailSpec, refs: &Refs, places: &Places, have: &ObservedGuardrails) -> Vec<Change> {
    let scps = desired(spec, refs);
    if scps.is_empty() {
        return vec![];
    }
    let mut out = Vec::new();
    let step = |policy: &str, op: GuardrailOp| Step::Guardrail { policy: policy.to_string(), op };
    for (kind, enabled, address, property, short) in [
        (PolicyKind::Scp, have.scp_type_enabled, Address::ScpPolicyType, "service_control_policies", "SCPs"),
        (PolicyKind::Rcp, have.rcp_type_enabled, Address::RcpPolicyType, "resource_control_policies", "RCPs"),
    ] {
        if !scps.iter().any(|s| s.kind == kind) {
            continue;
        }
        out.push(Change {
            address,
            action: if enabled { Action::NoOp } else { Action::Create },
            id: places.root.map(str::to_string),
            properties: vec![Property {
                name: property.into(),
                before: enabled.then(|| "enabled".into()),
                after: Some("enabled".into()),
            }],
            reason: if enabled { String::new() } else { format!("{short} are not enabled on the root") },
            steps: if enabled {
                vec![]
            } else {
                vec![step("", GuardrailOp::EnablePolicyType { root: places.id_ref(&ScpTarget::Root), kind })]
            },
            manual: vec![],
        });
    }
    for scp in scps {
        let want_labels: BTreeSet<String> = scp.targets.iter().map(|t| t.to_string()).collect();
        let want_policy = policy::pretty(&scp.document);
        let have_scp = have.policies.get(scp.name);
        let mut properties = vec![
            Property { name: "description".into(), before: None, after: Some(scp.description.to_string()) },
            Property { name: "guardrails".into(), before: None, after: Some(scp.guardrails.join(", ")) },
            Property { name: "policy".into(), before: None, after: Some(want_policy.clone()) },
            Property {
                name: "attached_to".into(),
                before: None,
                after: Some(want_labels.iter().cloned().collect::<Vec<_>>().join(", ")),
            },
        ];
        let mut steps = Vec::new();
        let mut notes = Vec::new();
        match scp.kind {
            PolicyKind::Rcp => notes.push(
                "a resource control policy at the root: it binds every request to the Log Archive's log buckets and \
                 trail key, from outside the organization too, and nothing else"
                    .to_string(),
            ),
            PolicyKind::Scp if scp.targets.contains(&ScpTarget::Root) => notes.push(
                "attached to the organization root: it applies to every member account (never to the management account)"
                    .to_string(),
            ),
            PolicyKind::Scp => notes.push("SCPs never restrict the management account".to_string()),
        }
        let action = match have_scp {
            None => {
                steps.push(step(scp.name, GuardrailOp::Create));
                for t in &scp.targets {
                    steps.push(step(scp.name, GuardrailOp::Attach { target: places.id_ref(t), label: t.to_string() }));
                }
                Action::Create
            }
            Some(h) => {
                let have_policy = h.document.as_ref().map_or_else(|| "(none)".into(), policy::pretty);
                let have_guardrails: Vec<String> = h
                    .document
                    .as_ref()
                    .and_then(|d| d["Statement"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| s["Sid"].as_str().map(str::to_string))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let mut sorted_want: Vec<&str> = scp.guardrails.clone();
                sorted_want.sort();
                properties[0].before = Some(h.description.clone());
                properties[1].before = Some(have_guardrails.join(", "));
                properties[1].after = Some(sorted_want.join(", "));
                properties[2].before = Some(have_policy.clone());
                let have_labels: BTreeSet<String> = h.targets.iter().map(|t| places.label_of(t)).collect();
                properties[3].before = Some(have_labels.iter().cloned().collect::<Vec<_>>().join(", "));
                if have_policy != want_policy || h.description != scp.description {
                    steps.push(step(scp.name, GuardrailOp::Update));
                }
                for t in &scp.targets {
                    if !have_labels.contains(&t.to_string()) {
                        steps.push(step(
                            scp.name,
                            GuardrailOp::Attach { target: places.id_ref(t), label: t.to_string() },
                        ));
                    }
                }
                for id in &h.targets {
                    if !want_labels.contains(&places.label_of(id)) {
                        steps.push(step(scp.name, GuardrailOp::Detach { target: id.clone() }));
                    }
                }
                if steps.is_empty() { Action::NoOp } else { Action::Update }
            }
        };
        out.push(Change {
            address: Address::Guardrail(scp.name.to_string()),
            action,
            id: have_scp.map(|h| h.id.clone()),
            properties,
            reason: notes.join("; "),
            steps,
            manual: vec![],
        });
    }
    out
}

/// Targets that would hold more SCPs or RCPs than AWS allows once sra's are attached.
pub fn over_limit(spec: &GuardrailSpec, refs: &Refs, places: &Places, have: &ObservedGuardrails) -> Vec<String> {
    let scps = desired(spec, refs);
    let mut out = Vec::new();
    for (kind, counts, short) in
        [(PolicyKind::Scp, &have.attached_counts, "SCPs"), (PolicyKind::Rcp, &have.rcp_attached_counts, "RCPs")]
    {
        let ours: Vec<&Scp> = scps.iter().filter(|s| s.kind == kind).collect();
        let targets: BTreeSet<&ScpTarget> = ours.iter().flat_map(|s| &s.targets).collect();
        for t in targets {
            let IdRef::Known(id) = places.id_ref(t) else { continue };
            let now = counts.get(&id).copied().unwrap_or(0);
            let ours_missing = ours
                .iter()
                .filter(|s| {
                    s.targets.contains(t) && !have.policies.get(s.name).is_some_and(|h| h.targets.contains(&id))
                })
                .count();
            if now + ours_missing > MAX_SCPS_PER_TARGET {
                out.push(format!("{t} holds {now} {short}; sra's would make {}", now + ours_missing));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
