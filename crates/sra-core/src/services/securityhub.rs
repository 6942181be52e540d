//! Security Hub: delegated administration to Security Tooling in every governed
//! region; in Security Tooling the hub, the organization configuration
//! (auto-enable new accounts, default standards), the chosen standards, and a
//! finding aggregator in the home region linking the other governed regions; and
//! member coverage. The per-region loop, delegation and coverage are
//! `regional::diff`'s; this file holds Security Hub's operations and settings.

use std::collections::BTreeMap;

use crate::engine::plan::{Phrase, Property, Step, Verb};
use crate::model::SecurityHubSpec;
use crate::services::regional::{self, prop};

/// ListMembers' largest page (50).
pub const MEMBERS_PAGE: i32 = 50;
pub const SERVICE: &str = "securityhub";
pub const MEMBERS_PER_CALL: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShOp {
    EnableHub,
    /// Exactly these values: AutoEnable, AutoEnableStandards.
    UpdateOrganizationConfiguration {
        auto_enable: bool,
        auto_enable_standards: String,
    },
    EnableStandards {
        standards: Vec<String>,
    },
    CreateFindingAggregator {
        regions: Vec<String>,
    },
    UpdateFindingAggregator {
        arn: String,
        regions: Vec<String>,
    },
}

impl regional::OwnOp for ShOp {
    fn phrase(&self, region: &str) -> Phrase {
        use Verb::*;
        match self {
            Self::EnableHub => Phrase::new(Enable, format!("Security Hub in Security Tooling in {region}")),
            Self::UpdateOrganizationConfiguration { auto_enable, auto_enable_standards } => Phrase::new(
                Set,
                format!(
                    "Security Hub's organization configuration in {region} (auto-enable: {auto_enable}, default standards: {auto_enable_standards})"
                ),
            ),
            Self::EnableStandards { standards } => {
                Phrase::new(Enable, format!("standards {} in {region}", standards.join(", ")))
            }
            Self::CreateFindingAggregator { regions } => {
                Phrase::new(Create, format!("the finding aggregator in {region}, linking {}", regions.join(", ")))
            }
            Self::UpdateFindingAggregator { regions, .. } => {
                Phrase::new(Update, format!("the finding aggregator in {region} to link {}", regions.join(", ")))
            }
        }
    }
}

/// Security Hub's settings in Security Tooling in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub hub: bool,
    /// (AutoEnable, AutoEnableStandards), read only when Security Tooling is the admin.
    pub org_config: Option<(bool, String)>,
    /// Enabled standards (as `<name>/v/<version>`) with their status.
    pub standards: BTreeMap<String, String>,
    /// (ARN, linked regions) of the finding aggregator.
    pub aggregator: Option<(String, Vec<String>)>,
}

pub type RegionState = regional::RegionState<Settings>;
pub type ObservedSecurityHub = regional::Observed<Settings>;

/// Security Hub, for the shared regional diff.
pub struct SecurityHub;

impl regional::Service for SecurityHub {
    const KEY: &'static str = SERVICE;
    const NAME: &'static str = "Security Hub";
    const ENROLL_EXISTING: bool = true;
    type Spec = SecurityHubSpec;
    type Settings = Settings;
    type Op = ShOp;

    fn enabled(spec: &SecurityHubSpec) -> bool {
        spec.enabled
    }

    fn step(region: &str, op: regional::Op<ShOp>) -> Step {
        Step::SecurityHub { region: region.to_string(), op }
    }

    /// The hub and its settings in Security Tooling; the finding aggregator in the
    /// home region, linking the other governed regions.
    fn settings(spec: &SecurityHubSpec, here: &regional::Here, have: &Settings) -> regional::SettingsChange<ShOp> {
        let region = here.region;
        let mut props = vec![prop("hub", have.hub.then(|| "enabled".to_string()), "enabled")];
        let mut ops = Vec::new();
        if !have.hub {
            ops.push(ShOp::EnableHub);
        }
        let config_before = match (&have.org_config, here.is_admin && have.hub) {
            (Some((auto, standards)), true) => (Some(auto.to_string()), Some(standards.clone())),
            // Only the administrator can read them: re-asserted after delegating.
            _ => (Some("true".to_string()), Some("DEFAULT".to_string())),
        };
        props.push(prop("auto_enable", config_before.0, "true"));
        props.push(prop("auto_enable_standards", config_before.1, "DEFAULT"));
        let readable = here.is_admin && have.hub && have.org_config.is_some();
        if !readable || props[1..].iter().any(Property::changed) {
            ops.push(ShOp::UpdateOrganizationConfiguration {
                auto_enable: true,
                auto_enable_standards: "DEFAULT".into(),
            });
        }
        let mut missing = Vec::new();
        for s in &spec.standards {
            let before = have.standards.get(s).cloned();
            if before.as_deref() != Some("READY") && before.as_deref() != Some("PENDING") {
                missing.push(s.clone());
            }
            props.push(prop(&format!("standards.{s}"), before.or_else(|| Some("(not enabled)".into())), "READY"));
            if let Some(p) = props.last_mut()
                && p.before.as_deref() == Some("PENDING")
            {
                p.before = Some("READY".into());
            }
        }
        if !missing.is_empty() {
            ops.push(ShOp::EnableStandards { standards: missing });
        }
        let linked: Vec<String> = here.org.regions.iter().filter(|r| *r != here.org.home).cloned().collect();
        if region == here.org.home && !linked.is_empty() {
            let want = format!("SPECIFIED_REGIONS: {}", linked.join(", "));
            let before = have.aggregator.as_ref().map(|(_, r)| format!("SPECIFIED_REGIONS: {}", r.join(", ")));
            match &have.aggregator {
                None => ops.push(ShOp::CreateFindingAggregator { regions: linked.clone() }),
                Some((arn, r)) if *r != linked => {
                    ops.push(ShOp::UpdateFindingAggregator { arn: arn.clone(), regions: linked.clone() })
                }
                Some(_) => {}
            }
            props.push(prop("finding_aggregator", before, &want));
        }
        regional::SettingsChange {
            action: regional::action(have.hub, &props),
            id: have
                .hub
                .then(|| format!("arn:aws:securityhub:{region}:{}:hub/default", here.org.admin.unwrap_or_default())),
            properties: props,
            reason: if readable || !have.hub { String::new() } else { regional::REAPPLIED.into() },
            ops,
            members_readable: here.is_admin && have.hub,
        }
    }
}
