//! Amazon Inspector: delegated administration to Security Tooling in every
//! governed region, the organization configuration (scans auto-enabled for
//! accounts that join later) and coverage: every account, Security Tooling and
//! the management account included, associated and scanning each chosen
//! resource type (auto-enable covers only new members, and associating starts
//! no scan). The per-region
//! loop, delegation and coverage are `regional::diff`'s.

use std::collections::BTreeMap;

use crate::engine::plan::{Phrase, Property, Step, Verb};
use crate::model::{INSPECTOR_SCANS, InspectorSpec};
use crate::services::regional::{self, prop};

/// ListMembers' largest page (50).
pub const MEMBERS_PAGE: i32 = 50;
pub const SERVICE: &str = "inspector";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InOp {
    /// Exactly these values: each scan type's auto-enable.
    UpdateOrganizationConfiguration { auto_enable: BTreeMap<String, bool> },
}

impl regional::OwnOp for InOp {
    fn phrase(&self, region: &str) -> Phrase {
        use Verb::*;
        match self {
            Self::UpdateOrganizationConfiguration { auto_enable } => Phrase::new(
                Set,
                format!(
                    "Inspector's organization configuration in {region} (auto-enabled scans: {})",
                    auto_enable.iter().filter(|(_, on)| **on).map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }
}

/// Inspector's settings in Security Tooling in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// Scan type → auto-enabled, read only when Security Tooling is the admin.
    pub auto_enable: Option<BTreeMap<String, bool>>,
}

pub type RegionState = regional::RegionState<Settings>;
pub type ObservedInspector = regional::Observed<Settings>;

/// Inspector, for the shared regional diff.
pub struct Inspector;

impl regional::Service for Inspector {
    const KEY: &'static str = SERVICE;
    const NAME: &'static str = "Inspector";
    const ENROLL_EXISTING: bool = true;
    /// Scanning is turned on in every account, Security Tooling's own included.
    const COVERS_ADMIN: bool = true;
    type Spec = InspectorSpec;
    type Settings = Settings;
    type Op = InOp;

    fn enabled(spec: &InspectorSpec) -> bool {
        spec.enabled
    }

    fn step(region: &str, op: regional::Op<InOp>) -> Step {
        Step::Inspector { region: region.to_string(), op }
    }

    /// Associating a member does not start its scans: `Enable` does, for these
    /// resource types (API reference, Enable; AssociateMember only associates).
    fn enrolment(spec: &InspectorSpec) -> Vec<String> {
        spec.scans.clone()
    }

    fn settings(spec: &InspectorSpec, here: &regional::Here, have: &Settings) -> regional::SettingsChange<InOp> {
        let readable = here.is_admin && have.auto_enable.is_some();
        let want: BTreeMap<String, bool> =
            INSPECTOR_SCANS.iter().map(|scan| (scan.to_string(), spec.scans.iter().any(|s| s == scan))).collect();
        let mut props = Vec::new();
        for (scan, on) in &want {
            // Unreadable (Security Tooling is not the administrator yet): unknown,
            // never a guess.
            let before = match &have.auto_enable {
                Some(m) if readable => Some(m.get(scan).copied().unwrap_or(false).to_string()),
                _ => None,
            };
            props.push(prop(&format!("auto_enable.{scan}"), before, &on.to_string()));
        }
        let changed = props.iter().any(Property::changed);
        regional::SettingsChange {
            // Unreadable until Security Tooling is the administrator: apply sets them
            // as new then.
            action: regional::action(readable, &props),
            id: None,
            properties: props,
            reason: if readable { String::new() } else { regional::REAPPLIED.into() },
            ops: if changed || !readable {
                vec![InOp::UpdateOrganizationConfiguration { auto_enable: want }]
            } else {
                vec![]
            },
            members_readable: here.is_admin,
            manual: vec![],
        }
    }
}
