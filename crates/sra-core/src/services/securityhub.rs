//! Security Hub: delegated administration to Security Tooling in every governed
//! region; in Security Tooling the hub, and in the home region the finding
//! aggregator linking the other governed regions and central configuration (one
//! configuration policy on the root: Security Hub and the plan's standards in
//! every account and governed region, accounts that join later included); and
//! member coverage. The per-region loop, delegation and coverage are
//! `regional::diff`'s; this file holds Security Hub's operations and settings.

use crate::engine::plan::{IdRef, Phrase, Property, Step, Verb};
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
    /// UpdateOrganizationConfiguration with ConfigurationType CENTRAL, AutoEnable
    /// false and AutoEnableStandards NONE (the only values central configuration
    /// allows), in the home region.
    StartCentralConfiguration,
    /// CreateConfigurationPolicy: Security Hub on, exactly these standards.
    CreateConfigurationPolicy {
        name: String,
        standards: Vec<String>,
    },
    /// UpdateConfigurationPolicy of the policy `id`: Security Hub on, exactly
    /// these standards.
    UpdateConfigurationPolicy {
        id: String,
        standards: Vec<String>,
    },
    /// StartConfigurationPolicyAssociation of the policy named `policy` with the
    /// organization's root: every account, those that join later included.
    AssociateWithRoot {
        root: IdRef,
        policy: String,
    },
    CreateFindingAggregator {
        regions: Vec<String>,
    },
    UpdateFindingAggregator {
        arn: String,
        regions: Vec<String>,
    },
    /// CreateInsight in Security Tooling in the home region: one of the
    /// insights `sra posture` reads its counts from ([`posture_insights`]);
    /// apply adopts one of the same name that exists already.
    CreateInsight {
        insight: Insight,
    },
    /// UpdateInsight of the insight `arn`: exactly this filter and grouping.
    UpdateInsight {
        arn: String,
        insight: Insight,
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
            Self::StartCentralConfiguration => Phrase::new(
                Start,
                format!("Security Hub's central configuration from {region} (auto-enable off: policies decide)"),
            ),
            Self::CreateConfigurationPolicy { name, standards } => Phrase::new(
                Create,
                format!("configuration policy \"{name}\" (Security Hub on, standards {})", standards.join(", ")),
            ),
            Self::UpdateConfigurationPolicy { standards, .. } => Phrase::new(
                Update,
                format!("configuration policy \"{POLICY}\" (Security Hub on, standards {})", standards.join(", ")),
            ),
            Self::AssociateWithRoot { root, policy } => {
                Phrase::new(Set, format!("configuration policy \"{policy}\" on the organization's root ({root})"))
            }
            Self::CreateFindingAggregator { regions } if regions.is_empty() => {
                Phrase::new(Create, format!("the finding aggregator in {region}, linking no other region"))
            }
            Self::CreateFindingAggregator { regions } => {
                Phrase::new(Create, format!("the finding aggregator in {region}, linking {}", regions.join(", ")))
            }
            Self::UpdateFindingAggregator { regions, .. } => {
                Phrase::new(Update, format!("the finding aggregator in {region} to link {}", regions.join(", ")))
            }
            Self::CreateInsight { insight } => {
                Phrase::new(Create, format!("the insight \"{}\" ({})", insight.name, insight.shown()))
            }
            Self::UpdateInsight { insight, .. } => {
                Phrase::new(Update, format!("the insight \"{}\" to {}", insight.name, insight.shown()))
            }
        }
    }
}

/// A Security Hub insight: findings matching every filter (each field's values
/// EQUALS, any of them), counted by one attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Insight {
    pub name: String,
    /// The attribute the findings are counted by (`SeverityLabel`, `AwsAccountId`).
    pub group_by: String,
    /// (field, values): `("WorkflowStatus", ["NEW", "NOTIFIED"])`, fields in order.
    pub filters: Vec<(String, Vec<String>)>,
}

impl Insight {
    /// In words, as the plan shows it: `by severity where record state is ACTIVE, ...`.
    pub fn shown(&self) -> String {
        let filters: Vec<String> =
            self.filters.iter().map(|(field, values)| format!("{} is {}", words(field), values.join(" or "))).collect();
        format!("by {} where {}", words(&self.group_by), filters.join(", "))
    }
}

/// A finding field in words (one the insights use; any other as AWS names it).
fn words(field: &str) -> &str {
    match field {
        "SeverityLabel" => "severity",
        "AwsAccountId" => "account",
        "ComplianceSecurityControlId" => "control",
        "ComplianceStatus" => "compliance status",
        "RecordState" => "record state",
        "WorkflowStatus" => "workflow status",
        "ProductName" => "product",
        "Region" => "Region",
        other => other,
    }
}

/// Active findings, as `sra posture` counts them: record state ACTIVE, workflow
/// NEW or NOTIFIED (neither resolved nor suppressed).
pub fn active_filters() -> Vec<(String, Vec<String>)> {
    vec![
        ("RecordState".into(), vec!["ACTIVE".into()]),
        ("WorkflowStatus".into(), vec!["NEW".into(), "NOTIFIED".into()]),
    ]
}

/// The names of `sra posture`'s insights.
pub const INSIGHT_BY_SEVERITY: &str = "sra posture: active findings by severity";
pub const INSIGHT_FAILED_CONTROLS: &str = "sra posture: failed controls";
pub fn insight_by_account(severity: &str) -> String {
    format!("sra posture: active {severity} findings by account")
}

/// The insights `sra posture` reads its counts from, in the home region, where
/// the finding aggregator brings every linked region's findings: one call each,
/// never a page of findings. Active findings by severity label; by account, one
/// insight per severity label (an insight groups by one attribute); and failed
/// controls by control id.
pub fn posture_insights() -> Vec<Insight> {
    let mut out =
        vec![Insight { name: INSIGHT_BY_SEVERITY.into(), group_by: "SeverityLabel".into(), filters: active_filters() }];
    for severity in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] {
        let mut filters = active_filters();
        filters.push(("SeverityLabel".into(), vec![severity.into()]));
        out.push(Insight { name: insight_by_account(severity), group_by: "AwsAccountId".into(), filters });
    }
    let mut filters = active_filters();
    filters.push(("ComplianceStatus".into(), vec!["FAILED".into()]));
    out.push(Insight { name: INSIGHT_FAILED_CONTROLS.into(), group_by: "ComplianceSecurityControlId".into(), filters });
    out
}

/// sra's configuration policy.
pub const POLICY: &str = "sra-organization";
/// What a target that manages its own Security Hub is associated with.
pub const SELF_MANAGED: &str = "SELF_MANAGED_SECURITY_HUB";

/// A configuration policy as GetConfigurationPolicy reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub id: String,
    pub service_enabled: bool,
    /// Enabled standards, as `<name>/v/<version>`.
    pub standards: Vec<String>,
}

/// Security Hub's settings in Security Tooling in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub hub: bool,
    /// Whether the organization's configuration was read (only the administrator
    /// can read it, once its hub is on).
    pub org_read: bool,
    /// (ARN, linked regions) of the finding aggregator.
    pub aggregator: Option<(String, Vec<String>)>,
    /// The organization uses central configuration (ConfigurationType CENTRAL).
    pub central: bool,
    /// Under central configuration, in the home region: sra's policy (by name).
    pub policy: Option<Policy>,
    /// Under central configuration, in the home region: the policy applied to the
    /// root (an id, or SELF_MANAGED); None: none.
    pub root_policy: Option<String>,
    /// In the home region: Security Tooling's custom insights, (ARN, insight).
    pub insights: Vec<(String, Insight)>,
}

/// The plan's reason when an organization moves from local to central configuration.
pub const TO_CENTRAL: &str = "Security Hub moves from local to central configuration: the configuration policy \
     sra-organization, on the organization's root, turns Security Hub and the plan's standards on in every account \
     and governed Region, accounts that join later included, and members cannot turn them off; auto-enable is then \
     off, as central configuration requires (the policy replaces it)";

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

    /// The hub in Security Tooling and the management account; in the home
    /// region, the finding aggregator (linking the other governed regions) and
    /// central configuration: one policy on the root with the plan's standards,
    /// which every account and governed region gets.
    fn settings(spec: &SecurityHubSpec, here: &regional::Here, have: &Settings) -> regional::SettingsChange<ShOp> {
        let region = here.region;
        let mut props = vec![prop("hub", have.hub.then(|| "enabled".to_string()), "enabled")];
        let mut ops = Vec::new();
        if !have.hub {
            ops.push(ShOp::EnableHub);
        }
        let readable = here.is_admin && have.hub && have.org_read;
        // The management account enables Security Hub itself, before its
        // administrator can enroll it (API reference, CreateMembers).
        // Unread (no organization yet): enabled by apply, which tolerates a hub
        // that is on already.
        let before = here.management_on.map(|on| if on { "enabled" } else { "(not enabled)" }.to_string());
        props.push(prop("management_account_hub", before, "enabled"));
        if here.management_on != Some(true) {
            ops.push(ShOp::EnableHubInManagement);
        }
        let mut reason = if readable || !have.hub { String::new() } else { regional::REAPPLIED.into() };
        if region == here.org.home {
            // Linked Regions are a set: AWS may list them in any order. Central
            // configuration needs the aggregator, with or without linked Regions.
            let set = |regions: &[String]| regions.iter().cloned().collect::<std::collections::BTreeSet<String>>();
            let linked: Vec<String> =
                set(here.org.regions).into_iter().filter(|r| r.as_str() != here.org.home).collect();
            let shown = |regions: &std::collections::BTreeSet<String>| {
                if regions.is_empty() {
                    "NO_REGIONS".to_string()
                } else {
                    format!("SPECIFIED_REGIONS: {}", regions.iter().cloned().collect::<Vec<_>>().join(", "))
                }
            };
            let before = have.aggregator.as_ref().map(|(_, r)| shown(&set(r)));
            match &have.aggregator {
                None => ops.push(ShOp::CreateFindingAggregator { regions: linked.clone() }),
                Some((arn, r)) if set(r) != set(&linked) => {
                    ops.push(ShOp::UpdateFindingAggregator { arn: arn.clone(), regions: linked.clone() })
                }
                Some(_) => {}
            }
            props.push(prop("finding_aggregator", before, &shown(&set(&linked))));
            central(spec, here, have, readable, &mut props, &mut ops, &mut reason);
            insights(have, readable, &mut props, &mut ops);
        }
        regional::SettingsChange {
            action: regional::action(have.hub, &props),
            id: have
                .hub
                .then(|| format!("arn:aws:securityhub:{region}:{}:hub/default", here.org.admin.unwrap_or_default())),
            properties: props,
            reason,
            ops,
            members_readable: here.is_admin && have.hub,
            manual: vec![],
        }
    }
}

/// Central configuration in the home region: the organization's configuration
/// type, sra's policy (Security Hub on, the plan's standards) and the root's
/// association with it. Unread (not the administrator yet, or its hub off):
/// planned as to create; apply adopts what it finds.
fn central(
    spec: &SecurityHubSpec,
    here: &regional::Here,
    have: &Settings,
    readable: bool,
    props: &mut Vec<Property>,
    ops: &mut Vec<ShOp>,
    reason: &mut String,
) {
    let configuration = readable.then(|| if have.central { "CENTRAL" } else { "LOCAL" }.to_string());
    props.push(prop("configuration", configuration, "CENTRAL"));
    if !(readable && have.central) {
        ops.push(ShOp::StartCentralConfiguration);
        if readable && reason.is_empty() {
            *reason = TO_CENTRAL.to_string();
        }
    }
    let want: std::collections::BTreeSet<&String> = spec.standards.iter().collect();
    let policy = have.policy.as_ref().filter(|_| readable);
    let shown = |standards: &[String]| {
        let mut s: Vec<&str> = standards.iter().map(String::as_str).collect();
        s.sort();
        if s.is_empty() { "(none)".to_string() } else { s.join(", ") }
    };
    props.push(prop(
        &format!("policy.{POLICY}.security_hub"),
        policy.map(|p| if p.service_enabled { "enabled" } else { "disabled" }.to_string()),
        "enabled",
    ));
    props.push(prop(
        &format!("policy.{POLICY}.standards"),
        policy.map(|p| shown(&p.standards)),
        &shown(&spec.standards),
    ));
    match policy {
        None => ops.push(ShOp::CreateConfigurationPolicy { name: POLICY.into(), standards: spec.standards.clone() }),
        Some(p) if !p.service_enabled || p.standards.iter().collect::<std::collections::BTreeSet<_>>() != want => {
            ops.push(ShOp::UpdateConfigurationPolicy { id: p.id.clone(), standards: spec.standards.clone() })
        }
        Some(_) => {}
    }
    let root_before = readable.then(|| match (&have.root_policy, policy) {
        (None, _) => "(none)".to_string(),
        (Some(id), Some(p)) if *id == p.id => POLICY.to_string(),
        (Some(other), _) => other.clone(),
    });
    props.push(prop("root_policy", root_before, POLICY));
    if props.last().is_some_and(Property::changed) || !readable {
        // No organization yet: the root apply creates.
        let root = here.org.root.map_or(IdRef::Root, |r| IdRef::Known(r.to_string()));
        ops.push(ShOp::AssociateWithRoot { root, policy: POLICY.into() });
    }
}

/// `sra posture`'s insights in the home region, each a property: created when
/// missing (or unread), updated when its filter or grouping differs.
fn insights(have: &Settings, readable: bool, props: &mut Vec<Property>, ops: &mut Vec<ShOp>) {
    for want in posture_insights() {
        let found = have.insights.iter().find(|(_, i)| i.name == want.name).filter(|_| readable);
        let before = readable.then(|| found.map_or_else(|| "(none)".to_string(), |(_, i)| i.shown()));
        props.push(prop(&format!("insight.\"{}\"", want.name), before, &want.shown()));
        match found {
            None => ops.push(ShOp::CreateInsight { insight: want }),
            Some((arn, have)) if *have != want => ops.push(ShOp::UpdateInsight { arn: arn.clone(), insight: want }),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::regional::{Here, Org, Service};

    fn converged(linked: &[&str]) -> Settings {
        Settings {
            hub: true,
            org_read: true,
            aggregator: Some(("arn:agg".into(), linked.iter().map(|r| r.to_string()).collect())),
            central: true,
            policy: Some(Policy { id: "p-1".into(), service_enabled: true, standards: spec().standards }),
            root_policy: Some("p-1".into()),
            insights: posture_insights()
                .into_iter()
                .enumerate()
                .map(|(i, x)| (format!("arn:insight/{i}"), x))
                .collect(),
        }
    }

    #[test]
    fn posture_insights_are_created_and_each_drift_is_its_own() {
        let regions = ["us-east-1".to_string()];
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[], root: Some("r-1") };
        let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on: Some(true) };
        let mut have = converged(&[]);
        assert!(SecurityHub::settings(&spec(), &here, &have).ops.is_empty());
        assert_eq!(posture_insights().len(), 7);
        // One missing, one with another filter.
        have.insights.remove(0);
        have.insights[0].1.filters.pop();
        let change = SecurityHub::settings(&spec(), &here, &have);
        let want = posture_insights();
        assert_eq!(
            change.ops,
            [
                ShOp::CreateInsight { insight: want[0].clone() },
                ShOp::UpdateInsight { arn: "arn:insight/1".into(), insight: want[1].clone() }
            ]
        );
        let changed: Vec<&str> = change.properties.iter().filter(|p| p.changed()).map(|p| p.name.as_str()).collect();
        assert_eq!(
            changed,
            [
                "insight.\"sra posture: active findings by severity\"",
                "insight.\"sra posture: active CRITICAL findings by account\""
            ]
        );
        let text = want[1].shown();
        assert_eq!(
            text,
            "by account where record state is ACTIVE, workflow status is NEW or NOTIFIED, severity is CRITICAL"
        );
    }

    fn spec() -> SecurityHubSpec {
        SecurityHubSpec::default()
    }

    /// The finding aggregator's linked Regions compare as a set: AWS's order
    /// (or the plan file's) is no drift; a missing Region is.
    #[test]
    fn linked_regions_compare_as_a_set() {
        let regions = ["us-east-1".to_string(), "us-west-2".into(), "eu-west-1".into()];
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[], root: Some("r-1") };
        let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on: Some(true) };
        let same = SecurityHub::settings(&spec(), &here, &converged(&["us-west-2", "eu-west-1"]));
        assert!(same.ops.is_empty(), "{:?}", same.ops);
        let missing = SecurityHub::settings(&spec(), &here, &converged(&["us-west-2"]));
        assert_eq!(
            missing.ops,
            [ShOp::UpdateFindingAggregator {
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
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[], root: Some("r-1") };
        for (management_on, before, planned) in
            [(Some(true), Some("enabled"), false), (Some(false), Some("(not enabled)"), true), (None, None, true)]
        {
            let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on };
            let change = SecurityHub::settings(&spec(), &here, &converged(&[]));
            let p = change.properties.iter().find(|p| p.name == "management_account_hub").unwrap();
            assert_eq!((p.before.as_deref(), p.after.as_deref()), (before, Some("enabled")));
            assert_eq!(change.ops.contains(&ShOp::EnableHubInManagement), planned, "{management_on:?}");
        }
    }

    /// An organization on local configuration moves to central configuration, a
    /// reviewed change with its reason: the aggregator, the switch, sra's policy
    /// with the plan's standards, and the root's association, in that order.
    #[test]
    fn local_configuration_moves_to_central_with_a_reason() {
        let regions = ["us-east-1".to_string(), "us-west-2".into()];
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[], root: Some("r-1") };
        let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on: Some(true) };
        let local = Settings { hub: true, org_read: true, insights: converged(&[]).insights, ..Default::default() };
        let change = SecurityHub::settings(&spec(), &here, &local);
        assert_eq!(change.reason, TO_CENTRAL);
        assert_eq!(
            change.ops,
            [
                ShOp::CreateFindingAggregator { regions: vec!["us-west-2".into()] },
                ShOp::StartCentralConfiguration,
                ShOp::CreateConfigurationPolicy { name: POLICY.into(), standards: spec().standards },
                ShOp::AssociateWithRoot { root: IdRef::Known("r-1".into()), policy: POLICY.into() },
            ]
        );
        let p = change.properties.iter().find(|p| p.name == "configuration").unwrap();
        assert_eq!((p.before.as_deref(), p.after.as_deref()), (Some("LOCAL"), Some("CENTRAL")));
        // Other regions have no organization-wide settings: the policy covers them.
        let west = Here { region: "us-west-2", org: &org, is_admin: true, management_on: Some(true) };
        assert!(SecurityHub::settings(&spec(), &west, &local).ops.is_empty());
    }

    /// Adopted central configuration: converged is a no-op; standards that differ
    /// update sra's policy in place; a root left to another policy, or
    /// self-managed, is associated with sra's again.
    #[test]
    fn central_configuration_is_adopted_and_each_drift_is_its_own() {
        let regions = ["us-east-1".to_string()];
        let org = Org { regions: &regions, home: "us-east-1", admin: Some("2"), accounts: &[], root: Some("r-1") };
        let here = Here { region: "us-east-1", org: &org, is_admin: true, management_on: Some(true) };
        let change = SecurityHub::settings(&spec(), &here, &converged(&[]));
        assert!(change.ops.is_empty() && change.reason.is_empty(), "{:?} {}", change.ops, change.reason);
        assert_eq!(
            change.properties.iter().find(|p| p.name == "finding_aggregator").unwrap().after.as_deref(),
            Some("NO_REGIONS")
        );

        let mut fewer = converged(&[]);
        fewer.policy.as_mut().unwrap().standards.pop();
        let change = SecurityHub::settings(&spec(), &here, &fewer);
        assert_eq!(change.ops, [ShOp::UpdateConfigurationPolicy { id: "p-1".into(), standards: spec().standards }]);

        let mut self_managed = converged(&[]);
        self_managed.root_policy = Some(SELF_MANAGED.into());
        let change = SecurityHub::settings(&spec(), &here, &self_managed);
        assert_eq!(change.ops, [ShOp::AssociateWithRoot { root: IdRef::Known("r-1".into()), policy: POLICY.into() }]);
        let root = change.properties.iter().find(|p| p.name == "root_policy").unwrap();
        assert_eq!((root.before.as_deref(), root.after.as_deref()), (Some(SELF_MANAGED), Some(POLICY)));
    }
}
