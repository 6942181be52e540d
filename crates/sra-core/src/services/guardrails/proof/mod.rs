//! The proof at plan time: every case of `attacks.toml` evaluated against the
//! policies the plan would write (guardrail SCPs, the log buckets' policies, the
//! trail key's policy), by [`crate::evaluate`].
//!
//! An attack must be denied by each statement it names; a required request must be
//! allowed. A case that fails is a blocker naming it, so a plan that would open a
//! hole or lock out sra or a service never applies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{PolicyKind, Refs, desired};
use crate::evaluate::{self, Decision, Named, Organization, Policies, Principal, Request};
use crate::model::{GuardrailSpec, LogArchiveSpec, OuPath, ScpTarget};
use crate::services::log_archive::{BucketKind, Ids, UNKNOWN, documents};

const CATALOG: &str = include_str!("../attacks.toml");

/// Stand-ins for what does not exist yet, and for the two accounts every catalog
/// needs: a workload account under the guardrails and one outside the organization.
const WORKLOAD: &str = "100000000003";
const OUTSIDE: &str = "999999999999";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(rename = "as")]
    who: String,
    action: String,
    resource: String,
    #[serde(default)]
    context: BTreeMap<String, String>,
    #[serde(default)]
    denied_by: Vec<String>,
    #[serde(default)]
    needs: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    attack: Vec<Case>,
    required: Vec<Case>,
}

fn catalog() -> Catalog {
    toml::from_str(CATALOG).expect("attacks.toml is checked by a unit test")
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProofRow {
    /// `attack` (must be denied) or `required` (must be allowed).
    pub kind: String,
    pub name: String,
    /// `denied`, `allowed`, `failed`, `not guarded` (its guardrails are off by
    /// choice) or `not applicable` (what it tries is not set up by this plan).
    pub outcome: String,
    /// The statements that decided, as `layer policy Sid`.
    pub by: Vec<String>,
    /// For a failed or unguarded case: what was expected and what happened.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Proof {
    pub rows: Vec<ProofRow>,
}

impl Proof {
    pub fn count(&self, kind: &str, outcome: &str) -> usize {
        self.rows.iter().filter(|r| r.kind == kind && r.outcome == outcome).count()
    }
    pub fn failed(&self) -> impl Iterator<Item = &ProofRow> {
        self.rows.iter().filter(|r| r.outcome == "failed")
    }
    /// "guardrails: 43 attacks denied, 12 required requests allowed", plus what is
    /// not guarded or failed.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "guardrails: {} attacks denied, {} required requests allowed",
            self.count("attack", "denied"),
            self.count("required", "allowed")
        );
        let unguarded = self.count("attack", "not guarded");
        if unguarded > 0 {
            s.push_str(&format!(", {unguarded} not guarded by choice"));
        }
        let failed = self.failed().count();
        if failed > 0 {
            s.push_str(&format!(", {failed} failed"));
        }
        s
    }
}

/// What the proof needs from the plan.
pub struct World<'a> {
    pub guardrails: &'a GuardrailSpec,
    pub log_archive: &'a LogArchiveSpec,
    /// The plan's ids; what is not known yet gets a stand-in.
    pub ids: &'a Ids,
    pub security_tooling_ou: &'a OuPath,
    pub log_archive_ou: &'a OuPath,
    /// The account baselines the plan sets.
    pub baselines: crate::model::BaselineSpec,
}

fn filled(ids: &Ids) -> Ids {
    let mut ids = ids.clone();
    let known = |v: &Option<String>| v.as_deref().is_some_and(|s| s != UNKNOWN && !s.is_empty());
    if !known(&ids.org_id) {
        ids.org_id = Some("o-exampleorgid".into());
    }
    if ids.management_account.is_empty() || ids.management_account == UNKNOWN {
        ids.management_account = "100000000000".into();
    }
    if !known(&ids.security_tooling) {
        ids.security_tooling = Some("100000000001".into());
    }
    if !known(&ids.log_archive) {
        ids.log_archive = Some("100000000002".into());
    }
    if !known(&ids.key_arn) {
        ids.key_arn = Some(format!(
            "arn:{}:kms:{}:{}:key/00000000-0000-0000-0000-000000000000",
            ids.partition,
            ids.home_region,
            ids.la()
        ));
    }
    ids
}

/// Whether SCPs attached to `attach_to` reach an account in `ou`.
fn reaches(attach_to: &[ScpTarget], ou: &OuPath) -> bool {
    attach_to.iter().any(|t| match t {
        ScpTarget::Root => true,
        ScpTarget::Ou(p) => ou.prefixes().contains(p) || p == ou,
    })
}

/// The documents the proof runs against: what the plan would write.
#[derive(Debug, Clone)]
pub struct Documents {
    pub scps: Vec<super::Scp>,
    /// (bucket name, bucket policy)
    pub buckets: Vec<(String, Value)>,
    pub key: Option<Value>,
}

pub fn documents(world: &World) -> (Ids, Documents) {
    let ids = filled(world.ids);
    let la = world.log_archive;
    let scps = desired(world.guardrails, &Refs { ids: &ids, log_archive: la, baselines: &world.baselines });
    let buckets = if la.enabled {
        [BucketKind::Log, BucketKind::AccessLog]
            .into_iter()
            .map(|k| (ids.bucket_name(la, k), documents::bucket_policy(la, &ids, k)))
            .collect()
    } else {
        vec![]
    };
    let key = la.enabled.then(|| documents::key_policy(la, &ids));
    (ids, Documents { scps, buckets, key })
}

pub fn prove(world: &World) -> Proof {
    let (ids, docs) = documents(world);
    prove_against(world, &ids, &docs)
}

pub fn prove_against(world: &World, ids: &Ids, docs: &Documents) -> Proof {
    let spec = world.guardrails;
    let la = world.log_archive;
    let (scps, bucket_docs, key_doc) = (&docs.scps, &docs.buckets, &docs.key);
    let (log_bucket, access_log_bucket) =
        (ids.bucket_name(la, BucketKind::Log), ids.bucket_name(la, BucketKind::AccessLog));
    let (st, la_id, mgmt) =
        (ids.security_tooling.clone().unwrap_or_default(), ids.la().to_string(), ids.management_account.clone());
    // The first log reader's account is in the organization (a reader outside it
    // is the diff's blocker, where the real accounts are known).
    let readers = crate::services::log_archive::documents::readers(la, ids);
    let reader_account = readers.first().and_then(|arn| arn.split(':').nth(4)).unwrap_or(WORKLOAD).to_string();
    let mut accounts = vec![mgmt.as_str(), st.as_str(), la_id.as_str(), WORKLOAD];
    if !accounts.contains(&reader_account.as_str()) {
        accounts.push(&reader_account);
    }
    let org = Organization { id: ids.org(), management_account: &mgmt, accounts: &accounts };
    // Which accounts the SCPs reach; the workload account sits under the first target.
    let reached = |account: &str| -> bool {
        if !spec.enabled {
            return false;
        }
        if account == st {
            reaches(&spec.attach_to, world.security_tooling_ou)
        } else if account == la_id {
            reaches(&spec.attach_to, world.log_archive_ou)
        } else {
            // Any other account of the organization sits under the guardrails,
            // as the workload account does.
            account == WORKLOAD || account == reader_account
        }
    };
    let prefix = la.trail.s3_key_prefix.as_deref().map(|s| format!("{s}/")).unwrap_or_default();
    // The first log reader, as a case's `as`: an account grant is tried by one
    // of the account's roles.
    let reader = readers.first().and_then(|arn| {
        let (account, resource) =
            arn.splitn(6, ':').skip(4).collect::<Vec<_>>().split_first().map(|(a, r)| (a.to_string(), r.join(":")))?;
        Some(if resource == "root" {
            format!("{account}:role/SecurityAnalyst")
        } else {
            format!("{account}:{resource}")
        })
    });
    let vars: Vec<(&str, String)> = vec![
        ("{p}", ids.partition.clone()),
        ("{home}", ids.home_region.clone()),
        ("{management}", mgmt.clone()),
        ("{security_tooling}", st.clone()),
        ("{log_archive}", la_id.clone()),
        ("{workload}", WORKLOAD.into()),
        ("{outside}", OUTSIDE.into()),
        ("{org}", ids.org().to_string()),
        ("{access_role}", ids.access_role.clone()),
        ("{log_bucket}", log_bucket.clone()),
        ("{access_log_bucket}", access_log_bucket.clone()),
        ("{trail_arn}", ids.trail_arn(la)),
        ("{key_arn}", ids.key().to_string()),
        ("{prefix}", prefix),
    ];
    let fill = |s: &str| -> Option<String> {
        let mut out = s.to_string();
        for (k, v) in &vars {
            out = out.replace(k, v);
        }
        if out.contains("{break_glass}") {
            out = out.replace("{break_glass}", la.break_glass_role.as_deref()?);
        }
        if out.contains("{reader}") {
            out = out.replace("{reader}", reader.as_deref()?);
        }
        Some(out)
    };
    let cat = catalog();
    let mut rows = Vec::new();
    for (kind, cases) in [("attack", &cat.attack), ("required", &cat.required)] {
        for case in cases {
            let row = |outcome: &str, by: Vec<String>, note: String| ProofRow {
                kind: kind.into(),
                name: case.name.clone(),
                outcome: outcome.into(),
                by,
                note,
            };
            let b = &world.baselines;
            let needs_met = match case.needs.as_deref() {
                Some("config") => la.config_delivery,
                Some("baselines.ebs_default_encryption") => b.enabled && b.ebs_default_encryption,
                Some("baselines.s3_block_public_access") => b.enabled && b.s3_block_public_access,
                Some("baselines.password_policy") => b.enabled && b.password_policy,
                Some("baselines.security_contact") => b.enabled && b.security_contact.is_some(),
                Some("baselines.config_recorders") => b.enabled && b.config_recorders && la.config_delivery,
                Some("without baselines.config_recorders") => !(b.enabled && b.config_recorders && la.config_delivery),
                Some(other) => unreachable!("attacks.toml names an unknown need {other}: checked by a unit test"),
                None => true,
            };
            let touches_log_archive = ["{log_bucket}", "{access_log_bucket}", "{key_arn}", "{trail_arn}"]
                .iter()
                .any(|v| case.resource.contains(v) || case.context.values().any(|c| c.contains(v)));
            let (Some(who), Some(resource)) = (fill(&case.who), fill(&case.resource)) else {
                let missing = if case.who.contains("{reader}") { "log reader" } else { "break-glass role" };
                rows.push(row("not applicable", vec![], format!("the plan has no {missing}")));
                continue;
            };
            if !needs_met || (touches_log_archive && !la.enabled) {
                rows.push(row("not applicable", vec![], "the plan does not set this up".into()));
                continue;
            }
            let principal = match who.strip_prefix("service:") {
                Some(svc) => Principal::Service(svc.to_string()),
                None => {
                    let (account, rest) = who.split_once(':').unwrap_or((&who, ""));
                    let arn = if rest == "root" {
                        format!("arn:{}:iam::{account}:root", ids.partition)
                    } else {
                        format!("arn:{}:iam::{account}:{rest}", ids.partition)
                    };
                    Principal::Aws { arn, account: account.to_string() }
                }
            };
            let principal_account = match &principal {
                Principal::Aws { account, .. } => account.clone(),
                Principal::Service(_) => String::new(),
            };
            // Whose resource, and which resource policy governs it.
            let bucket = resource
                .strip_prefix(&format!("arn:{}:s3:::", ids.partition))
                .map(|r| r.split('/').next().unwrap_or(r));
            let bucket_doc = bucket.and_then(|b| bucket_docs.iter().find(|(name, _)| name == b));
            let is_key = resource == ids.key();
            let resource_account = if bucket_doc.is_some() || is_key {
                la_id.clone()
            } else {
                match resource.split(':').nth(4) {
                    Some(a) if !a.is_empty() => a.to_string(),
                    _ => principal_account.clone(),
                }
            };
            let named = |kind| {
                scps.iter()
                    .filter(|s| s.kind == kind)
                    .map(|s| Named { name: s.name.to_string(), document: &s.document })
                    .collect::<Vec<_>>()
            };
            let scp_named = if reached(&principal_account) { named(PolicyKind::Scp) } else { vec![] };
            // sra's RCP sits at the root: it reaches every member account's resources.
            let rcp_named = if spec.enabled { named(PolicyKind::Rcp) } else { vec![] };
            let resource_policy = if is_key {
                key_doc.as_ref().map(|d| Named { name: "trail key policy".into(), document: d })
            } else {
                bucket_doc.map(|(name, d)| Named { name: name.clone(), document: d })
            };
            let mut context: BTreeMap<String, Vec<String>> =
                BTreeMap::from([("aws:SecureTransport".into(), vec!["true".into()])]);
            for (k, v) in &case.context {
                context.insert(k.clone(), vec![fill(v).unwrap_or_default()]);
            }
            let request = Request { principal, action: case.action.clone(), resource, resource_account, context };
            let policies = Policies {
                scps: scp_named,
                rcps: rcp_named,
                resource: resource_policy,
                resource_is_key: is_key,
                identity: None,
            };
            let decision = match evaluate::evaluate(&org, &policies, &request) {
                Ok(d) => d,
                Err(e) => {
                    rows.push(row("failed", vec![], format!("the evaluator cannot read a policy: {e}")));
                    continue;
                }
            };
            let by: Vec<String> =
                decision.reasons.iter().map(|r| format!("{} {}", r.layer, r.detail).trim().to_string()).collect();
            if kind == "required" {
                if decision.allowed {
                    rows.push(row("allowed", by, String::new()));
                } else {
                    rows.push(row(
                        "failed",
                        by.clone(),
                        format!("must be allowed, but is denied by {}", by.join("; ")),
                    ));
                }
                continue;
            }
            // An attack: which of its expected denials this plan asks for.
            let mut expected = Vec::new();
            let mut dropped = Vec::new();
            for e in &case.denied_by {
                match e.split_once(':') {
                    Some(("scp", g)) => {
                        let planned = scps.iter().any(|s| s.kind == PolicyKind::Scp && s.guardrails.contains(&g))
                            && reached(&principal_account);
                        if planned { expected.push(e.clone()) } else { dropped.push(g.to_string()) }
                    }
                    Some(("rcp", g)) => {
                        let planned =
                            spec.enabled && scps.iter().any(|s| s.kind == PolicyKind::Rcp && s.guardrails.contains(&g));
                        if planned {
                            expected.push(e.clone())
                        } else {
                            dropped.push(format!("the resource control policy's {g}"))
                        }
                    }
                    _ => expected.push(e.clone()),
                }
            }
            if expected.is_empty() {
                let why =
                    format!("left unguarded by this plan: {} is disabled or not attached here", dropped.join(", "));
                let outcome = if decision.allowed { "not guarded" } else { "denied" };
                rows.push(row(outcome, by, if decision.allowed { why } else { String::new() }));
                continue;
            }
            let missing: Vec<&String> = expected.iter().filter(|e| !denied_as(&decision, e)).collect();
            if missing.is_empty() {
                rows.push(row("denied", by, String::new()));
            } else {
                let got = if decision.allowed {
                    "it is allowed".to_string()
                } else {
                    format!("it is denied only by {}", by.join("; "))
                };
                let names: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
                rows.push(row("failed", by, format!("must be denied by {}, but {got}", names.join(" and "))));
            }
        }
    }
    Proof { rows }
}

/// Whether the decision contains the expected denial (`scp:<Sid>`,
/// `bucket:<Sid>`, `key:<Sid>`, `bucket:implicit`, `key:implicit`).
fn denied_as(d: &Decision, expected: &str) -> bool {
    if d.allowed {
        return false;
    }
    let Some((layer, what)) = expected.split_once(':') else { return false };
    let layer = match layer {
        "scp" => "scp",
        "rcp" => "rcp",
        "bucket" => "bucket policy",
        "key" => "key policy",
        _ => return false,
    };
    if what == "implicit" {
        // The resource policy on its own would not allow it, whatever else denies.
        return d.resource_policy_allows == Some(false);
    }
    d.reasons.iter().any(|r| r.layer == layer && r.detail.split(' ').next_back() == Some(what))
}

#[cfg(test)]
mod tests;
