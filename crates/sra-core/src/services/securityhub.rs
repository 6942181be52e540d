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
    /// From the management account: Security Hub on there, which its
    /// administrator cannot do (API reference, CreateMembers: "Security Hub cannot
    /// be enabled automatically for the organization management account").
    EnableHubInManagement,
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
            Self::EnableHubInManagement => {
                Phrase::new(Enable, format!("Security Hub in the management account in {region} (default standards)"))
            }
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
    /// The organization uses central configuration (ConfigurationType CENTRAL):
    /// then AutoEnable "is set to false and can't be changed", and
    /// AutoEnableStandards to NONE (API reference, UpdateOrganizationConfiguration);
    /// configuration policies decide instead.
    pub central: bool,
}

/// What the plan says under central configuration, instead of failing on a call
/// AWS refuses.
pub const CENTRAL_NOTE: &str = "the organization uses Security Hub central configuration: auto-enable and default \
     standards are set by its configuration policies, not by sra; make sure a policy enables Security Hub (with the \
     standards of [services.securityhub]) for every account and Region";

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
        let readable = here.is_admin && have.hub && have.org_config.is_some();
        let mut manual = Vec::new();
        if have.central {
            manual.push(CENTRAL_NOTE.to_string());
        } else {
            props.push(prop("auto_enable", config_before.0, "true"));
            props.push(prop("auto_enable_standards", config_before.1, "DEFAULT"));
        }
        if !have.central && (!readable || props[1..].iter().any(Property::changed)) {
            ops.push(ShOp::UpdateOrganizationConfiguration {
                auto_enable: true,
                auto_enable_standards: "DEFAULT".into(),
            });
        }
        // The management account enables Security Hub itself, before its
        // administrator can enroll it (API reference, CreateMembers).
        // Unread (no organization yet): enabled by apply, which tolerates a hub
        // that is on already.
        let before = here.management_on.map(|on| if on { "enabled" } else { "(not enabled)" }.to_string());
        props.push(prop("management_account_hub", before, "enabled"));
        if here.management_on != Some(true) {
            ops.push(ShOp::EnableHubInManagement);
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
        // Linked Regions are a set: AWS may list them in any order.
        let set = |regions: &[String]| regions.iter().cloned().collect::<std::collections::BTreeSet<String>>();
        let linked: Vec<String> = set(here.org.regions).into_iter().filter(|r| r.as_str() != here.org.home).collect();
        if region == here.org.home && !linked.is_empty() {
            let want = format!("SPECIFIED_REGIONS: {}", linked.join(", "));
            let before = have
                .aggregator
                .as_ref()
                .map(|(_, r)| format!("SPECIFIED_REGIONS: {}", set(r).into_iter().collect::<Vec<_>>().join(", ")));
            match &have.aggregator {
                None => ops.push(ShOp::CreateFindingAggregator { regions: linked.clone() }),
                Some((arn, r)) if set(r) != set(&linked) => {
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
            manual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::regional::{Here, Org, Service};

    /// The finding aggregator's linked Regions compare as a set: AWS's order
    /// (or the plan file's) is no drift; a missing Region is.
    #[test]
    fn linked_regions_compare_as_a_set() {
        let regions = ["us-east-1".to_string(), "us-west-2".into(), "eu-west-1".into()];
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[] };
        let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on: Some(true) };
        let spec = SecurityHubSpec { enabled: true, standards: vec![] };
        let have = |linked: &[&str]| Settings {
            hub: true,
            org_config: Some((true, "DEFAULT".into())),
            standards: BTreeMap::new(),
            aggregator: Some(("arn:agg".into(), linked.iter().map(|r| r.to_string()).collect())),
            central: false,
        };
        let same = SecurityHub::settings(&spec, &here, &have(&["us-west-2", "eu-west-1"]));
        assert!(same.ops.is_empty(), "{:?}", same.ops);
        let missing = SecurityHub::settings(&spec, &here, &have(&["us-west-2"]));
        let missing: Vec<&ShOp> =
            missing.ops.iter().filter(|op| matches!(op, ShOp::UpdateFindingAggregator { .. })).collect();
        assert_eq!(
            missing,
            [&ShOp::UpdateFindingAggregator {
                arn: "arn:agg".into(),
                regions: vec!["eu-west-1".into(), "us-west-2".into()]
            }]
        );
    }

    /// The management account's hub is planned from the management account
    /// (its administrator cannot enable it, API reference CreateMembers), before
    /// coverage enrolls it; on already, nothing is planned.
    #[test]
    fn the_management_accounts_hub_is_enabled_from_the_management_account() {
        let regions = ["us-east-1".to_string()];
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[] };
        let spec = SecurityHubSpec { enabled: true, standards: vec![] };
        let have = Settings { hub: true, org_config: Some((true, "DEFAULT".into())), ..Default::default() };
        for (management_on, before, planned) in
            [(Some(true), Some("enabled"), false), (Some(false), Some("(not enabled)"), true), (None, None, true)]
        {
            let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on };
            let change = SecurityHub::settings(&spec, &here, &have);
            let p = change.properties.iter().find(|p| p.name == "management_account_hub").unwrap();
            assert_eq!((p.before.as_deref(), p.after.as_deref()), (before, Some("enabled")));
            assert_eq!(change.ops.contains(&ShOp::EnableHubInManagement), planned, "{management_on:?}");
            assert!(!change.ops.iter().any(|op| matches!(op, ShOp::UpdateOrganizationConfiguration { .. })));
        }
    }

    /// Under central configuration AutoEnable cannot be set: the plan says what a
    /// person must see to instead of sending a call AWS refuses.
    #[test]
    fn central_configuration_is_a_manual_item_not_a_refused_call() {
        let regions = ["us-east-1".to_string()];
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[] };
        let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on: Some(true) };
        let spec = SecurityHubSpec { enabled: true, standards: vec![] };
        let have = Settings {
            hub: true,
            org_config: Some((false, "NONE".into())),
            standards: BTreeMap::new(),
            aggregator: None,
            central: true,
        };
        let change = SecurityHub::settings(&spec, &here, &have);
        assert!(change.ops.is_empty(), "{:?}", change.ops);
        assert_eq!(change.manual, [CENTRAL_NOTE]);
        assert!(change.properties.iter().all(|p| !p.name.starts_with("auto_enable")));
    }
}
