//! GuardDuty: delegated administration to Security Tooling in every governed
//! region, the admin's detector and organization configuration (every member
//! auto-enabled, every protection feature), and member coverage.
//!
//! The per-region loop, delegation and coverage are `regional::diff`'s; this
//! file holds GuardDuty's operations and settings.

use std::collections::BTreeMap;

use crate::engine::plan::{Action, Phrase, Step, Verb};
use crate::model::GuardDutySpec;
use crate::services::regional::{self, prop};

/// ListMembers' largest page (50).
pub const MEMBERS_PAGE: i32 = 50;
pub const SERVICE: &str = "guardduty";
/// GuardDuty's limit for CreateMembers.
pub const MEMBERS_PER_CALL: usize = 50;

/// What sra does to GuardDuty in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GdOp {
    /// In Security Tooling: make sure GuardDuty is on there. AWS's guide both
    /// says delegating enables GuardDuty in the new administrator's account
    /// ("GuardDuty gets enabled automatically only in the designated AWS Region",
    /// guardduty_organizations.html) and asks to enable it there
    /// (delegated-admin-designate-api.html); a detector is one per account and
    /// Region, so apply adopts the one there is and creates one only if none.
    EnsureDetector,
    /// In Security Tooling: exactly these values (AutoEnableOrganizationMembers,
    /// and each feature's AutoEnable).
    UpdateOrganizationConfiguration { auto_enable_members: String, features: BTreeMap<String, String> },
}

impl regional::OwnOp for GdOp {
    fn phrase(&self, region: &str) -> Phrase {
        use Verb::*;
        match self {
            Self::EnsureDetector => Phrase::new(
                Enable,
                format!(
                    "GuardDuty in Security Tooling in {region} \
                     (delegation turns it on; a detector is created only if none exists)"
                ),
            ),
            Self::UpdateOrganizationConfiguration { auto_enable_members, features } => Phrase::new(
                Set,
                format!(
                    "GuardDuty's organization configuration in {region} (members: {auto_enable_members}; {})",
                    features.iter().map(|(f, v)| format!("{f} {v}")).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }
}

/// GuardDuty's settings in Security Tooling in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// The admin account's detector, if it has one.
    pub detector: Option<String>,
    /// Read only when Security Tooling is the admin there.
    pub auto_enable_members: Option<String>,
    pub features: BTreeMap<String, String>,
}

pub type RegionState = regional::RegionState<Settings>;
pub type ObservedGuardDuty = regional::Observed<Settings>;

/// GuardDuty, for the shared regional diff.
pub struct GuardDuty;

impl regional::Service for GuardDuty {
    const KEY: &'static str = SERVICE;
    const NAME: &'static str = "GuardDuty";
    const ENROLL_EXISTING: bool = false;
    type Spec = GuardDutySpec;
    type Settings = Settings;
    type Op = GdOp;

    fn enabled(spec: &GuardDutySpec) -> bool {
        spec.enabled
    }

    fn step(region: &str, op: regional::Op<GdOp>) -> Step {
        Step::GuardDuty { region: region.to_string(), op }
    }

    fn settings(spec: &GuardDutySpec, here: &regional::Here, have: &Settings) -> regional::SettingsChange<GdOp> {
        let features: BTreeMap<String, String> = spec.features.iter().map(|f| (f.clone(), "ALL".to_string())).collect();
        let update =
            GdOp::UpdateOrganizationConfiguration { auto_enable_members: "ALL".into(), features: features.clone() };
        let mut props = vec![
            prop("detector", have.detector.as_ref().map(|_| "enabled".to_string()), "enabled"),
            prop("auto_enable_organization_members", have.auto_enable_members.clone(), "ALL"),
        ];
        for (f, v) in &features {
            props.push(prop(&format!("features.{f}"), have.features.get(f).cloned(), v));
        }
        let mut ops = Vec::new();
        if have.detector.is_none() {
            ops.push(GdOp::EnsureDetector);
        }
        // Only the administrator can read the organization settings: until
        // Security Tooling is it again, they are unknown; apply re-asserts them
        // right after delegating, which changes nothing when they are right.
        let readable = here.is_admin && have.detector.is_some();
        if have.detector.is_some() && !readable {
            for p in props.iter_mut().skip(1) {
                p.before = p.after.clone();
            }
            ops.push(update);
            return regional::SettingsChange {
                action: Action::NoOp,
                id: have.detector.clone(),
                properties: props,
                reason: regional::REAPPLIED.into(),
                ops,
                members_readable: false,
            };
        }
        if props.iter().skip(1).any(|p| p.changed()) {
            ops.push(update);
        }
        regional::SettingsChange {
            action: regional::action(have.detector.is_some(), &props),
            id: have.detector.clone(),
            reason: if ops.is_empty() {
                String::new()
            } else {
                "every member auto-enabled, every protection on".into()
            },
            properties: props,
            ops,
            members_readable: readable,
        }
    }
}
