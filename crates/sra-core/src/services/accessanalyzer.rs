//! IAM Access Analyzer: an organization analyzer in Security Tooling in every
//! governed region (delegation itself is organization-wide, in `delegation`). An
//! existing organization analyzer is adopted, whatever its name. `diff` is pure.

use std::collections::BTreeMap;

use crate::engine::plan::{Action, Address, Change, Property, Step};

pub const SERVICE: &str = "access_analyzer";
pub const ANALYZER_NAME: &str = "sra-organization-analyzer";

/// Organization analyzers per region: (name, status).
pub type ObservedAnalyzers = BTreeMap<String, Option<(String, String)>>;

pub fn diff(enabled: bool, regions: &[String], have: &ObservedAnalyzers) -> Vec<Change> {
    if !enabled {
        return vec![];
    }
    regions
        .iter()
        .map(|region| {
            let existing = have.get(region).cloned().flatten();
            let before = existing.as_ref().map(|(_, status)| format!("ORGANIZATION ({status})"));
            Change {
                address: Address::ServiceSettings { service: SERVICE, region: region.clone() },
                action: if existing.is_some() { Action::NoOp } else { Action::Create },
                id: existing.as_ref().map(|(name, _)| name.clone()),
                properties: vec![Property {
                    name: "organization_analyzer".into(),
                    before: before
                        .clone()
                        .map(|b| if b.contains("ACTIVE") { "ORGANIZATION (ACTIVE)".into() } else { b }),
                    after: Some("ORGANIZATION (ACTIVE)".into()),
                }],
                reason: if existing.is_some() {
                    String::new()
                } else {
                    "no organization analyzer in Security Tooling here".into()
                },
                steps: if existing.is_some() { vec![] } else { vec![Step::AccessAnalyzer { region: region.clone() }] },
                manual: vec![],
            }
        })
        .collect()
}
