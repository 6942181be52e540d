//! Step order: one declared rule, applied by sorting.
//!
//! AWS enforces: organization (all features) → OUs, parents before children →
//! accounts exist → accounts placed in their OU and tagged. Later stages (trusted
//! access, delegation, service settings) are variants of [`Stage`], in order.

use super::plan::{Address, Change};
use crate::services::log_archive::BucketKind;

/// The stages in the order apply must run them; a change's stage comes from its
/// address kind ([`stage`]). The variants' order is the order: `Ord` is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Organization,
    Ou,
    Account,
    PlanRole,
    TrustedAccess,
    KmsKey,
    AccountPublicAccessBlock,
    AccessLogBucket,
    LogBucket,
    TrailLogGroup,
    TrailLogsRole,
    Trail,
    ConfigRecorder,
    DelegatedAdmin,
    ServiceSettings,
    Coverage,
    Baseline,
    ScpPolicyType,
    Guardrail,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 19] = [
        Stage::Organization,
        Stage::Ou,
        Stage::Account,
        Stage::PlanRole,
        Stage::TrustedAccess,
        Stage::KmsKey,
        Stage::AccountPublicAccessBlock,
        Stage::AccessLogBucket,
        Stage::LogBucket,
        Stage::TrailLogGroup,
        Stage::TrailLogsRole,
        Stage::Trail,
        Stage::ConfigRecorder,
        Stage::DelegatedAdmin,
        Stage::ServiceSettings,
        Stage::Coverage,
        Stage::Baseline,
        Stage::ScpPolicyType,
        Stage::Guardrail,
    ];

    /// Why the stage comes where it does: what it needs from the stages before it.
    #[rustfmt::skip]
    pub fn why(self) -> &'static str {
        match self {
            Stage::Organization => "the organization must exist with all features before anything in it",
            Stage::Ou => "an OU needs its parent (the root or the OU above it)",
            Stage::Account => "an account is created, then moved into its OU, which must exist",
            Stage::PlanRole => "the plan role lives in Security Tooling and Log Archive, which must exist",
            Stage::TrustedAccess => "a service needs trusted access before it can act for the organization",
            Stage::KmsKey => "the trail's key lives in Log Archive, which must exist; bucket and trail name it",
            Stage::AccountPublicAccessBlock => "set in Log Archive before any bucket is made there",
            Stage::AccessLogBucket => "the log bucket sends its access logs here, so it must exist first",
            Stage::LogBucket => "CloudTrail checks that the bucket exists and its policy lets it write",
            Stage::TrailLogGroup => "the trail delivers to this log group, so it must exist first",
            Stage::TrailLogsRole => "CloudTrail writes to the log group with this role, which must exist first",
            Stage::Trail => "the organization trail writes to the log bucket, encrypted with the key",
            Stage::ConfigRecorder => "Config delivers to the log bucket with the key, so both must exist (and its policy let it)",
            Stage::DelegatedAdmin => "a service is delegated once the admin account exists and the service has trusted access",
            Stage::ServiceSettings => "organization settings are made from inside the admin account, once it is the admin",
            Stage::Coverage => "accounts are enrolled by the admin once its organization settings exist",
            Stage::Baseline => "every account's baselines come once the accounts and trusted access exist",
            Stage::ScpPolicyType => "SCPs and RCPs must be enabled on the root before one is attached",
            Stage::Guardrail => "guardrails protect what the stages above set up, so they come last",
        }
    }
}

/// The stage a change to `address` runs in.
pub fn stage(address: &Address) -> Stage {
    match address {
        Address::Organization => Stage::Organization,
        Address::Ou(_) => Stage::Ou,
        Address::Account(_) => Stage::Account,
        Address::KmsKey => Stage::KmsKey,
        Address::AccountPublicAccessBlock => Stage::AccountPublicAccessBlock,
        Address::Bucket(BucketKind::AccessLog) => Stage::AccessLogBucket,
        Address::Bucket(BucketKind::Log) => Stage::LogBucket,
        Address::Trail => Stage::Trail,
        Address::TrailLogGroup => Stage::TrailLogGroup,
        Address::TrailLogsRole => Stage::TrailLogsRole,
        Address::TrustedAccess(_) => Stage::TrustedAccess,
        Address::ScpPolicyType | Address::RcpPolicyType => Stage::ScpPolicyType,
        Address::Guardrail(_) => Stage::Guardrail,
        Address::DelegatedAdmin { .. } => Stage::DelegatedAdmin,
        Address::ServiceSettings { .. } => Stage::ServiceSettings,
        Address::Coverage { .. } => Stage::Coverage,
        Address::ConfigRecorder { .. } => Stage::ConfigRecorder,
        Address::PlanRole(_) => Stage::PlanRole,
        Address::Baseline { .. } => Stage::Baseline,
    }
}

fn depth(address: &Address) -> usize {
    match address {
        Address::Ou(p) => p.depth(),
        _ => 0,
    }
}

/// Services that need another service of the same stage to go first. Amazon
/// Detective's behavior graph ingests GuardDuty's findings, so GuardDuty is
/// delegated (and set up) before it. (Older API references asked for GuardDuty
/// to be enabled 48 hours before Detective; the current prerequisites page,
/// <https://docs.aws.amazon.com/detective/latest/userguide/detective-prerequisites.html>,
/// no longer does, so nothing waits for it.)
fn after_prerequisites(address: &Address) -> u8 {
    match address {
        Address::DelegatedAdmin { service, .. }
        | Address::ServiceSettings { service, .. }
        | Address::Coverage { service, .. }
            if *service == "detective" =>
        {
            1
        }
        _ => 0,
    }
}

/// Sort changes so that every change comes after the ones it depends on; ties
/// keep a stable, readable order (by address).
pub fn sort(changes: &mut [Change]) {
    let key = |a: &Address| (stage(a), depth(a), after_prerequisites(a));
    changes.sort_by(|a, b| (key(&a.address), &a.address).cmp(&(key(&b.address), &b.address)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::Action;
    use crate::model::{AccountRole, OuPath};

    fn change(address: Address) -> Change {
        Change {
            manual: vec![],
            address,
            action: Action::Create,
            id: None,
            properties: vec![],
            reason: String::new(),
            steps: vec![],
        }
    }

    #[test]
    fn every_address_kind_has_a_stage() {
        use crate::services::log_archive::BucketKind;
        let all = [
            Address::Organization,
            Address::Ou(OuPath::parse("A").unwrap()),
            Address::Account(AccountRole::LogArchive),
            Address::TrustedAccess("cloudtrail.amazonaws.com".into()),
            Address::KmsKey,
            Address::AccountPublicAccessBlock,
            Address::Bucket(BucketKind::AccessLog),
            Address::Bucket(BucketKind::Log),
            Address::TrailLogGroup,
            Address::TrailLogsRole,
            Address::Trail,
            Address::DelegatedAdmin { service: "guardduty", region: "us-east-1".into() },
            Address::ServiceSettings { service: "guardduty", region: "us-east-1".into() },
            Address::Coverage { service: "guardduty", region: "us-east-1".into() },
            Address::ScpPolicyType,
            Address::Guardrail("x".into()),
        ];
        let stages: Vec<Stage> = all.iter().map(stage).collect();
        let mut sorted = stages.clone();
        sorted.sort();
        assert_eq!(stages, sorted, "listed in dependency order");
    }

    #[test]
    fn all_stages_listed_once_in_order() {
        assert!(Stage::ALL.windows(2).all(|w| w[0] < w[1]), "Stage::ALL is in declaration order, each once");
        assert!(Stage::ALL.iter().all(|s| !s.why().is_empty()));
    }

    /// Detective is delegated after GuardDuty in every stage (its prerequisite),
    /// though its name sorts first; the other services keep their name order.
    #[test]
    fn detective_comes_after_guardduty() {
        let r = || "us-east-1".to_string();
        let mut changes = vec![
            change(Address::DelegatedAdmin { service: "detective", region: r() }),
            change(Address::DelegatedAdmin { service: "macie", region: r() }),
            change(Address::DelegatedAdmin { service: "guardduty", region: r() }),
            change(Address::ServiceSettings { service: "detective", region: r() }),
            change(Address::ServiceSettings { service: "guardduty", region: r() }),
        ];
        sort(&mut changes);
        let order: Vec<String> = changes.iter().map(|c| c.address.to_string()).collect();
        let pos = |s: &str| order.iter().position(|a| a == s).unwrap();
        assert!(
            pos("guardduty[\"us-east-1\"].delegated_admin") < pos("detective[\"us-east-1\"].delegated_admin"),
            "{order:?}"
        );
        assert!(
            pos("guardduty[\"us-east-1\"].delegated_admin") < pos("macie[\"us-east-1\"].delegated_admin"),
            "{order:?}"
        );
        assert!(pos("guardduty[\"us-east-1\"].settings") < pos("detective[\"us-east-1\"].settings"), "{order:?}");
    }

    #[test]
    fn parents_before_children_and_stages_in_order() {
        let ou = |s: &str| Address::Ou(OuPath::parse(s).unwrap());
        let mut changes = vec![
            change(Address::Account(AccountRole::LogArchive)),
            change(ou("Infra/Security")),
            change(Address::Account(AccountRole::SecurityTooling)),
            change(ou("Infra")),
            change(Address::Organization),
            change(ou("Audit")),
        ];
        sort(&mut changes);
        let order: Vec<String> = changes.iter().map(|c| c.address.to_string()).collect();
        assert_eq!(
            order,
            [
                "organization",
                "ou[\"Audit\"]",
                "ou[\"Infra\"]",
                "ou[\"Infra/Security\"]",
                "account.security_tooling",
                "account.log_archive"
            ]
        );
    }
}
