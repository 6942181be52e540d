//! One slice per AWS service: its pure half (state, operations, diff) comes from
//! the core crate (`sra_core::services`); here is how to observe it and how to run
//! its operations.

pub use sra_core::services::{TRUSTED_ACCESS, service_of_principal};

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
pub mod organizations;
pub mod plan_role;
pub mod regional;
pub mod securityhub;
