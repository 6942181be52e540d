//! One slice per AWS service: how to observe it and how to run its steps.

pub mod accessanalyzer;
pub mod config;
pub mod delegation;
pub mod detective;
pub mod guardduty;
pub mod guardrails;
pub mod inspector;
pub mod log_archive;
pub mod macie;
pub mod organizations;
pub mod regional;
pub mod securityhub;
