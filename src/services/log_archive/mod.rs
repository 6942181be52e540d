//! Log Archive: the organization trail, its KMS key and its two locked-down buckets.
//!
//! `desired` and `diff` here are pure: the desired state is the same struct as the
//! observed one, built from the plan file and the ids known so far; the diff
//! compares them property by property and maps each changed property to the step
//! that sets it. `observe` and `run` touch AWS.

pub use sra_core::services::log_archive::*;

pub(crate) mod observe;
mod run;

pub use observe::observe;
pub(crate) use observe::observe_account_pab;
pub use run::run;
