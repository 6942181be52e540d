//! One slice per AWS service, its pure half: desired and observed state, the
//! operations apply can run, and the diff between the two. How to observe them and
//! how to run the operations lives in the shell crate (`sra::services`).

pub mod accessanalyzer;
pub mod baselines;
pub mod config;
pub mod delegation;
pub mod detective;
pub mod guardduty;
pub mod guardrails;
pub mod inspector;
pub mod log_archive;
pub mod macie;
pub mod plan_role;
pub mod regional;
pub mod securityhub;

/// The trusted access each plan-file service table needs: (its key under
/// `[services]`, the service principals). One table for the plan (which
/// principals to enable) and for `sra init` (which table a principal belongs to).
pub const TRUSTED_ACCESS: &[(&str, &[&str])] = &[
    ("cloudtrail", &["cloudtrail.amazonaws.com"]),
    ("guardduty", &["guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com"]),
    ("securityhub", &["securityhub.amazonaws.com"]),
    ("inspector", &["inspector2.amazonaws.com"]),
    ("macie", &["macie.amazonaws.com"]),
    ("detective", &["detective.amazonaws.com"]),
    ("config", &["config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"]),
    ("access_analyzer", &["access-analyzer.amazonaws.com"]),
    ("trusted_advisor", &["reporting.trustedadvisor.amazonaws.com"]),
];

/// The Account Management API's principal: trusted access lets the management
/// account set member accounts' alternate contacts (`[baselines.security_contact]`).
pub const ACCOUNT_MANAGEMENT: &str = "account.amazonaws.com";

/// The `[services]` table whose trusted access `principal` is.
pub fn service_of_principal(principal: &str) -> Option<&'static str> {
    TRUSTED_ACCESS.iter().find(|(_, principals)| principals.contains(&principal)).map(|(key, _)| *key)
}
