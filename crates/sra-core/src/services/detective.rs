//! Amazon Detective: delegated administration to Security Tooling in every
//! governed region, the organization behavior graph there with new accounts
//! auto-enabled, and existing accounts enabled as members. The per-region loop,
//! delegation and coverage are `regional::diff`'s.
//!
//! Detective builds its graph from GuardDuty findings among other sources: the
//! plan says so when it turns Detective on, and warns when GuardDuty is off.
//! (Older API references asked for 48 hours of GuardDuty before enabling
//! Detective; the current prerequisites page does not, so nothing waits for it.)

use crate::engine::plan::{Phrase, Property, Step, Verb};
use crate::services::regional::{self, prop};

/// ListMembers' largest page (200).
pub const MEMBERS_PAGE: i32 = 200;
pub const SERVICE: &str = "detective";
/// CreateMembers takes at most this many accounts.
pub const MEMBERS_PER_CALL: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtOp {
    /// Create the behavior graph if Security Tooling has none, then set exactly
    /// this value: AutoEnable.
    UpdateOrganizationConfiguration { auto_enable: bool },
}

impl regional::OwnOp for DtOp {
    /// accounts-remove-admin-overview.html.
    fn removal_note() -> &'static str {
        " (AWS deletes its organization behavior graph there; deregistered in Organizations once removed in every \
         Region)"
    }

    fn phrase(&self, region: &str) -> Phrase {
        use Verb::*;
        match self {
            Self::UpdateOrganizationConfiguration { auto_enable } => Phrase::new(
                Set,
                format!(
                    "Detective's behavior graph and organization configuration in {region} (auto-enable: {auto_enable})"
                ),
            ),
        }
    }
}

/// Detective's settings in Security Tooling in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// Security Tooling's behavior graph, when it has one.
    pub graph: Option<String>,
    /// Read only when Security Tooling is the admin and has a graph.
    pub auto_enable: Option<bool>,
}

pub type RegionState = regional::RegionState<Settings>;
pub type ObservedDetective = regional::Observed<Settings>;

/// What the plan asks of Detective, and whether GuardDuty (its main source) is on.
pub struct DetectiveSpec {
    pub enabled: bool,
    pub guardduty_enabled: bool,
}

pub fn guardduty_note(guardduty_enabled: bool) -> &'static str {
    if guardduty_enabled {
        "Detective investigates GuardDuty's findings, among other sources (GuardDuty is delegated first)"
    } else {
        "WARNING: [services.guardduty] is off; Detective then has no GuardDuty findings to investigate"
    }
}

/// Detective, for the shared regional diff.
pub struct Detective;

impl regional::Service for Detective {
    const KEY: &'static str = SERVICE;
    const NAME: &'static str = "Detective";
    const ENROLL_EXISTING: bool = true;
    type Spec = DetectiveSpec;
    type Settings = Settings;
    type Op = DtOp;

    fn enabled(spec: &DetectiveSpec) -> bool {
        spec.enabled
    }

    fn step(region: &str, op: regional::Op<DtOp>) -> Step {
        Step::Detective { region: region.to_string(), op }
    }

    fn settings(spec: &DetectiveSpec, here: &regional::Here, have: &Settings) -> regional::SettingsChange<DtOp> {
        let readable = here.is_admin && have.graph.is_some() && have.auto_enable.is_some();
        let auto_before = if readable { have.auto_enable.map(|b| b.to_string()) } else { None };
        let props = vec![
            Property {
                name: "behavior_graph".into(),
                before: have.graph.clone(),
                after: Some(have.graph.clone().unwrap_or_else(|| "(created with the delegation)".into())),
            },
            prop("auto_enable", auto_before, "true"),
        ];
        let changed = props.iter().any(Property::changed);
        let reason = if have.graph.is_none() || !spec.guardduty_enabled {
            guardduty_note(spec.guardduty_enabled).to_string()
        } else if !readable {
            regional::REAPPLIED.into()
        } else {
            String::new()
        };
        regional::SettingsChange {
            action: regional::action(have.graph.is_some(), &props),
            id: have.graph.clone(),
            properties: props,
            reason,
            ops: if changed { vec![DtOp::UpdateOrganizationConfiguration { auto_enable: true }] } else { vec![] },
            members_readable: readable,
            manual: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{Action, Address, Change};
    use crate::services::regional::Org;

    fn diff(
        enabled: bool,
        guardduty_enabled: bool,
        regions: &[String],
        admin: Option<&str>,
        accounts: &[(String, String)],
        have: &ObservedDetective,
    ) -> (Vec<Change>, Vec<crate::engine::plan::Destructive>) {
        let org = Org { regions, home: &regions[0], admin, accounts, root: None };
        regional::diff::<Detective>(&DetectiveSpec { enabled, guardduty_enabled }, &org, have)
    }

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    #[test]
    fn fresh_organization_delegates_creates_and_enrolls_in_every_region() {
        let accounts = vec![("111111111111".to_string(), "st@x.io".to_string())];
        let (changes, destructive) =
            diff(true, true, &regions(), Some("111111111111"), &accounts, &ObservedDetective::default());
        assert!(destructive.is_empty());
        assert_eq!(changes.len(), 6);
        let settings: Vec<&Change> =
            changes.iter().filter(|c| matches!(c.address, Address::ServiceSettings { .. })).collect();
        assert!(settings.iter().all(|c| c.action == Action::Create && c.reason.contains("GuardDuty's findings")));
    }

    #[test]
    fn converged_region_is_a_no_op_and_drift_is_exact() {
        let st = "111111111111";
        let accounts = vec![(st.to_string(), "st@x.io".to_string()), ("2".into(), "b@x.io".into())];
        let state = RegionState {
            admins: vec![st.into()],
            settings: Settings { graph: Some("arn:graph".into()), auto_enable: Some(true) },
            members: Some(["2".to_string()].into()),
            management_on: None,
        };
        let have = ObservedDetective { regions: regions().into_iter().map(|r| (r, state.clone())).collect() };
        let (changes, _) = diff(true, true, &regions(), Some(st), &accounts, &have);
        assert!(changes.iter().all(|c| c.action == Action::NoOp), "{changes:#?}");

        let mut drifted = have.clone();
        drifted.regions.get_mut("eu-west-1").unwrap().settings.auto_enable = Some(false);
        let (changes, _) = diff(true, true, &regions(), Some(st), &accounts, &drifted);
        let changed: Vec<String> =
            changes.iter().filter(|c| c.action != Action::NoOp).map(|c| c.address.to_string()).collect();
        assert_eq!(changed, ["detective[\"eu-west-1\"].settings"]);
    }

    #[test]
    fn guardduty_off_is_warned_about() {
        let (changes, _) = diff(true, false, &regions(), Some("1"), &[], &ObservedDetective::default());
        assert!(changes.iter().any(|c| c.reason.starts_with("WARNING")));
        assert!(diff(false, true, &regions(), Some("1"), &[], &ObservedDetective::default()).0.is_empty());
    }
}
