//! Amazon Macie: delegated administration to Security Tooling in every governed
//! region, Macie on in Security Tooling, new accounts auto-enabled, and member
//! coverage (existing accounts added). The per-region loop, delegation and
//! coverage are `regional::diff`'s.

use crate::engine::plan::{Phrase, Step, Verb};
use crate::services::regional::{self, prop};

/// ListMembers' largest page (25).
pub const MEMBERS_PAGE: i32 = 25;
pub const SERVICE: &str = "macie";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaOp {
    EnableMacie,
    /// Exactly this value: autoEnable.
    UpdateOrganizationConfiguration {
        auto_enable: bool,
    },
}

impl regional::OwnOp for MaOp {
    fn phrase(&self, region: &str) -> Phrase {
        use Verb::*;
        match self {
            Self::EnableMacie => Phrase::new(Enable, format!("Macie in Security Tooling in {region}")),
            Self::UpdateOrganizationConfiguration { auto_enable } => {
                Phrase::new(Set, format!("Macie's organization configuration in {region} (auto-enable: {auto_enable})"))
            }
        }
    }
}

/// Macie's settings in Security Tooling in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub enabled: bool,
    /// Read only when Security Tooling is the admin and Macie is on.
    pub auto_enable: Option<bool>,
}

pub type RegionState = regional::RegionState<Settings>;
pub type ObservedMacie = regional::Observed<Settings>;

/// Macie, for the shared regional diff.
pub struct Macie;

impl regional::Service for Macie {
    const KEY: &'static str = SERVICE;
    const NAME: &'static str = "Macie";
    const ENROLL_EXISTING: bool = true;
    /// `[services.macie] enabled`.
    type Spec = bool;
    type Settings = Settings;
    type Op = MaOp;

    fn enabled(spec: &bool) -> bool {
        *spec
    }

    fn step(region: &str, op: regional::Op<MaOp>) -> Step {
        Step::Macie { region: region.to_string(), op }
    }

    fn settings(_: &bool, here: &regional::Here, have: &Settings) -> regional::SettingsChange<MaOp> {
        let readable = here.is_admin && have.enabled && have.auto_enable.is_some();
        let auto_before = if readable { have.auto_enable.map(|b| b.to_string()) } else { None };
        let props = vec![
            prop("macie", have.enabled.then(|| "enabled".into()), "enabled"),
            prop("auto_enable", auto_before, "true"),
        ];
        let mut ops = Vec::new();
        if !have.enabled {
            ops.push(MaOp::EnableMacie);
        }
        if !readable || props[1].changed() {
            ops.push(MaOp::UpdateOrganizationConfiguration { auto_enable: true });
        }
        regional::SettingsChange {
            action: regional::action(have.enabled, &props),
            id: None,
            properties: props,
            reason: if readable || !have.enabled { String::new() } else { regional::REAPPLIED.into() },
            ops,
            members_readable: readable,
            manual: vec![],
        }
    }
}
