//! The integration tests: the real `sra` binary against a fresh emulator per test
//! (tests/emulator/serve), over HTTP. One test binary with a module per area, so the
//! SDK is linked once rather than once per file.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/proxy.rs"]
mod proxy;
#[path = "../common/trace.rs"]
mod trace;

mod bad_input;
mod baselines;
mod cli;
mod closed_accounts;
mod config;
mod delegation;
mod detective;
mod faults;
mod guardduty;
mod guardrails;
mod iam_names;
mod init;
mod inspector;
mod lease;
mod log_archive;
mod macie;
mod performance;
mod plan_role;
mod posture;
mod review;
mod securityhub;
mod skeleton;
