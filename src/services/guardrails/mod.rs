//! Guardrails: service control policies that keep member accounts, their admins
//! included, from switching off what sra set up.
//!
//! Each guardrail is a named Deny statement. They are grouped into three SCPs so
//! that, with AWS's FullAWSAccess, a target holds four of its five allowed
//! policies. Every Deny exempts the roles in `[guardrails].exempt_roles` (by
//! default the access role sra uses, and the break-glass role). SCPs never
//! apply to the management account.

pub use sra_core::services::guardrails::*;

mod observe;
mod run;

pub use observe::observe;
pub use run::run;
