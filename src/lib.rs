//! sra-bootstrap: turn an AWS organization into the AWS Security Reference
//! Architecture layout from one reviewed plan file.
//!
//! Functional core, imperative shell. The core is its own crate, `sra_core`, with
//! no SDK, async runtime or file system in its dependencies; it is re-exported here
//! under the same module names:
//! - [`plan_file`] reads TOML into the pure [`model::Desired`], collecting every
//!   problem with its location;
//! - [`engine::diff`] computes a [`engine::plan::Plan`], ordered by the one rule
//!   table in [`engine::order`]; [`render`] turns it into text.
//!
//! This crate is the shell:
//! - [`services`] observe live state into [`model::Observed`] (the only reads) and
//!   run each service's steps;
//! - [`engine::apply`] executes the plan's steps and decides nothing;
//! - [`aws`] is the only place SDK clients are configured;
//! - [`posture`] reads the findings and coverage `sra posture` joins (`sra_core::posture`).

pub use sra_core::{diag, model, plan_file, policy, render};

pub mod aws;
pub mod cli;
pub mod engine;
pub mod init;
pub mod lease;
pub mod live;
pub mod lock;
pub mod pace;
pub mod permissions;
pub mod posture;
pub mod report;
pub mod services;
