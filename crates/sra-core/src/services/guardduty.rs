//! GuardDuty: delegated administration to Security Tooling in every governed
//! region, the admin's detector and organization configuration (every member
//! auto-enabled, every protection feature), and member coverage.
//!
//! The per-region loop, delegation and coverage are `regional::diff`'s; this
//! file holds GuardDuty's operations and settings.

use std::collections::BTreeMap;

use crate::engine::plan::{Phrase, Property, Step, Verb};
use crate::model::{GUARDDUTY_AGENT_CONFIG, GuardDutySpec};
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
    /// and each feature's AutoEnable; `FEATURE.ADDITIONAL` keys are a feature's
    /// additional configuration, Runtime Monitoring's agents).
    UpdateOrganizationConfiguration { auto_enable_members: String, features: BTreeMap<String, String> },
    /// In Security Tooling: its own detector's features (ENABLED or DISABLED;
    /// `FEATURE.ADDITIONAL` as above). Auto-enable covers members, and the
    /// administrator is not its own member.
    UpdateDetector { features: BTreeMap<String, String> },
}

/// The feature whose additional configuration names Runtime Monitoring's agents
/// ("Additional configuration applies to only GuardDuty Runtime Monitoring
/// protection plan", API reference, OrganizationAdditionalConfigurationResult).
pub const RUNTIME_MONITORING: &str = "RUNTIME_MONITORING";

/// A feature's values, its additional configuration flattened in as
/// `FEATURE.ADDITIONAL` keys: `on`/`off` are AutoEnable (ALL/NONE) for the
/// organization, or status (ENABLED/DISABLED) for a detector.
fn wanted(spec: &GuardDutySpec, on: &str, off: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = spec.features.iter().map(|f| (f.clone(), on.to_string())).collect();
    if spec.features.iter().any(|f| f == RUNTIME_MONITORING) {
        for (agent, name) in GUARDDUTY_AGENT_CONFIG {
            let value = if spec.runtime_agents.iter().any(|a| a == agent) { on } else { off };
            out.insert(format!("{RUNTIME_MONITORING}.{name}"), value.to_string());
        }
    }
    out
}

impl regional::OwnOp for GdOp {
    /// GuardDuty's documented sequence (change-guardduty-delegated-admin.html).
    fn removal_note() -> &'static str {
        " (first stopping its auto-enable and removing its members; deregistered in Organizations once removed in \
         every Region)"
    }

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
            Self::UpdateDetector { features } => Phrase::new(
                Set,
                format!(
                    "the features of Security Tooling's own detector in {region} ({})",
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
    /// The organization's feature auto-enable values, additional configuration
    /// flattened in (`FEATURE.ADDITIONAL`).
    pub features: BTreeMap<String, String>,
    /// The admin's own detector's feature statuses, flattened the same way.
    pub detector_features: BTreeMap<String, String>,
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
        let features = wanted(spec, "ALL", "NONE");
        let own = wanted(spec, "ENABLED", "DISABLED");
        let update =
            GdOp::UpdateOrganizationConfiguration { auto_enable_members: "ALL".into(), features: features.clone() };
        // Only the administrator can read the organization settings: until
        // Security Tooling is it again, they are unknown; apply re-asserts them
        // right after delegating, which changes nothing when they are right.
        let readable = here.is_admin && have.detector.is_some();
        let mut org = vec![prop("auto_enable_organization_members", have.auto_enable_members.clone(), "ALL")];
        for (f, v) in &features {
            org.push(prop(&format!("features.{f}"), have.features.get(f).cloned(), v));
        }
        if have.detector.is_some() && !readable {
            // Unknown until Security Tooling is the administrator: never a guess.
            for p in org.iter_mut() {
                p.before = None;
            }
        }
        // The admin's own detector is its own to read, delegated or not.
        let detector = have.detector.as_ref().map(|_| "enabled".to_string());
        let mut props = vec![prop("detector", detector, "enabled")];
        let org_changed = org.iter().any(Property::changed);
        props.extend(org);
        let mut own_changed = have.detector.is_none();
        for (f, v) in &own {
            let before = have
                .detector
                .as_ref()
                .map(|_| have.detector_features.get(f).cloned().unwrap_or_else(|| "DISABLED".into()));
            let p = prop(&format!("detector.{f}"), before, v);
            own_changed |= p.changed();
            props.push(p);
        }
        let mut ops = Vec::new();
        if have.detector.is_none() {
            ops.push(GdOp::EnsureDetector);
        }
        let reapplied = have.detector.is_some() && !readable;
        if org_changed || reapplied {
            ops.push(update);
        }
        if own_changed {
            ops.push(GdOp::UpdateDetector { features: own });
        }
        let reason = if reapplied && !own_changed {
            regional::REAPPLIED.into()
        } else if ops.is_empty() {
            String::new()
        } else {
            "every member auto-enabled, every protection on (Runtime Monitoring with its agents), \
             Security Tooling's own detector too"
                .into()
        };
        regional::SettingsChange {
            action: regional::action(have.detector.is_some(), &props),
            id: have.detector.clone(),
            reason,
            properties: props,
            ops,
            members_readable: readable,
            manual: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::Action;
    use crate::services::regional::{Here, Org, Service};

    fn settings(spec: &GuardDutySpec, is_admin: bool, have: &Settings) -> regional::SettingsChange<GdOp> {
        let org = Org { regions: &[], home: "us-east-1", admin: Some("2"), accounts: &[], root: Some("r-1") };
        GuardDuty::settings(spec, &Here { region: "us-east-1", org: &org, is_admin, management_on: None }, have)
    }

    /// Runtime Monitoring is sent with its agents (those left out set to NONE),
    /// to the organization and to Security Tooling's own detector.
    #[test]
    fn runtime_monitoring_carries_its_agents_to_the_organization_and_the_admin() {
        let spec = GuardDutySpec {
            enabled: true,
            features: vec!["RUNTIME_MONITORING".into()],
            runtime_agents: vec!["eks".into()],
        };
        let change = settings(&spec, true, &Settings { detector: Some("d".into()), ..Default::default() });
        let org = BTreeMap::from([
            ("RUNTIME_MONITORING".to_string(), "ALL".to_string()),
            ("RUNTIME_MONITORING.EC2_AGENT_MANAGEMENT".into(), "NONE".into()),
            ("RUNTIME_MONITORING.ECS_FARGATE_AGENT_MANAGEMENT".into(), "NONE".into()),
            ("RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT".into(), "ALL".into()),
        ]);
        let own: BTreeMap<String, String> =
            org.iter().map(|(k, v)| (k.clone(), if v == "ALL" { "ENABLED" } else { "DISABLED" }.to_string())).collect();
        assert_eq!(
            change.ops,
            [
                GdOp::UpdateOrganizationConfiguration { auto_enable_members: "ALL".into(), features: org.clone() },
                GdOp::UpdateDetector { features: own.clone() },
            ]
        );
        // Converged: nothing to do.
        let have = Settings {
            detector: Some("d".into()),
            auto_enable_members: Some("ALL".into()),
            features: org,
            detector_features: own,
        };
        let converged = settings(&spec, true, &have);
        assert!(converged.ops.is_empty(), "{:?}", converged.ops);
        assert_eq!(converged.action, Action::NoOp);
        // The admin's own detector with an agent off is drift of that property alone.
        let mut drifted = have.clone();
        drifted.detector_features.insert("RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT".into(), "DISABLED".into());
        let change = settings(&spec, true, &drifted);
        let changed: Vec<&str> = change.properties.iter().filter(|p| p.changed()).map(|p| p.name.as_str()).collect();
        assert_eq!(changed, ["detector.RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT"]);
        assert!(matches!(change.ops.as_slice(), [GdOp::UpdateDetector { .. }]), "{:?}", change.ops);
    }

    /// Before delegation the detector is ensured (delegation makes it), then both
    /// configurations are set.
    #[test]
    fn without_a_detector_it_is_ensured_then_configured() {
        let change = settings(&GuardDutySpec::default(), false, &Settings::default());
        assert_eq!(change.action, Action::Create);
        assert_eq!(change.ops[0], GdOp::EnsureDetector);
        assert!(matches!(change.ops[1], GdOp::UpdateOrganizationConfiguration { .. }));
        assert!(matches!(change.ops[2], GdOp::UpdateDetector { .. }));
    }
}
