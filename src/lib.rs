//! sra-bootstrap: turn an AWS organization into the AWS Security Reference
//! Architecture layout from one reviewed plan file.
//!
//! Functional core, imperative shell:
//! - [`plan_file`] reads TOML into the pure [`model::Desired`], collecting every
//!   problem with its location;
//! - [`services`] observe live state into [`model::Observed`] (the only reads);
//! - [`engine::diff`] computes a [`engine::plan::Plan`], ordered by the one rule
//!   table in [`engine::order`]; [`render`] turns it into text;
//! - [`engine::apply`] executes the plan's steps and decides nothing.
//!
//! `model`, `engine::diff`, `engine::order`, `engine::plan` and `render` do no I/O.
//! [`aws`] is the only place SDK clients are configured.

pub mod aws;
pub mod cli;
pub mod diag;
pub mod engine;
pub mod init;
pub mod lock;
pub mod model;
pub mod pace;
pub mod permissions;
pub mod plan_file;
pub mod policy;
pub mod render;
pub mod report;
pub mod services;
