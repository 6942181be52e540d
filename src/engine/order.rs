//! Step order: one declared rule, applied by sorting.
//!
//! AWS enforces: organization (all features) → OUs, parents before children →
//! accounts exist → accounts placed in their OU and tagged. Later stages (trusted
//! access, delegation, service settings) get their own rows in `STAGES`.

use super::plan::{Address, Change};

/// The stages in the order apply must run them; a change's stage comes from its
/// address kind.
#[rustfmt::skip]
pub const STAGES: &[(&str, &str)] = &[
    ("organization", "the organization must exist with all features before anything in it"),
    ("ou", "an OU needs its parent (the root or the OU above it)"),
    ("account", "an account is created, then moved into its OU, which must exist"),
    ("trusted_access", "a service needs trusted access before it can act for the organization"),
    ("kms_key", "the trail's key lives in Log Archive, which must exist; bucket and trail name it"),
    ("account_public_access_block", "set in Log Archive before any bucket is made there"),
    ("access_log_bucket", "the log bucket sends its access logs here, so it must exist first"),
    ("log_bucket", "CloudTrail checks that the bucket exists and its policy lets it write"),
    ("trail_log_group", "the trail delivers to this log group, so it must exist first"),
    ("trail_logs_role", "CloudTrail writes to the log group with this role, which must exist first"),
    ("trail", "the organization trail writes to the log bucket, encrypted with the key"),
    ("config_recorder", "Config delivers to the log bucket with the key, so both must exist (and its policy let it)"),
    ("delegated_admin", "a service is delegated once the admin account exists and the service has trusted access"),
    ("service_settings", "organization settings are made from inside the admin account, once it is the admin"),
    ("coverage", "accounts are enrolled by the admin once its organization settings exist"),
    ("scp_policy_type", "SCPs must be enabled on the root before one is attached"),
    ("guardrail", "guardrails protect what the stages above set up, so they come last"),
];

pub(crate) fn stage(address: &Address) -> usize {
    let kind = match address {
        Address::Organization => "organization",
        Address::Ou(_) => "ou",
        Address::Account(_) => "account",
        Address::KmsKey => "kms_key",
        Address::AccountPublicAccessBlock => "account_public_access_block",
        Address::Bucket(k) => k.key(),
        Address::Trail => "trail",
        Address::TrailLogGroup => "trail_log_group",
        Address::TrailLogsRole => "trail_logs_role",
        Address::TrustedAccess(_) => "trusted_access",
        Address::ScpPolicyType => "scp_policy_type",
        Address::Guardrail(_) => "guardrail",
        Address::DelegatedAdmin { .. } => "delegated_admin",
        Address::ServiceSettings { .. } => "service_settings",
        Address::Coverage { .. } => "coverage",
        Address::ConfigRecorder { .. } => "config_recorder",
    };
    STAGES.iter().position(|(k, _)| *k == kind).expect("every address kind has a stage")
}

fn depth(address: &Address) -> usize {
    match address {
        Address::Ou(p) => p.depth(),
        _ => 0,
    }
}

/// Sort changes so that every change comes after the ones it depends on; ties
/// keep a stable, readable order (by address).
pub fn sort(changes: &mut [Change]) {
    changes.sort_by(|a, b| {
        (stage(&a.address), depth(&a.address), &a.address).cmp(&(stage(&b.address), depth(&b.address), &b.address))
    });
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
        let stages: Vec<usize> = all.iter().map(stage).collect();
        let mut sorted = stages.clone();
        sorted.sort();
        assert_eq!(stages, sorted, "listed in dependency order");
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
