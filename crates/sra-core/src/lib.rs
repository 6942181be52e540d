//! The pure core of sra-bootstrap: plan file → desired model, the diff against
//! observed state, the plan value and its ordering, and its renderings.
//!
//! This crate does no I/O: it depends on no AWS SDK crate, no async runtime and no
//! terminal or argument-parsing library (its `Cargo.toml` is the guard, and
//! `tests::dependencies_are_pure` keeps that list short), so nothing here can call
//! AWS, sleep, or touch the file system by accident. The shell crate (`sra`)
//! observes live state into [`model::Observed`] and runs the plan's steps.
//!
//! - [`plan_file`] reads TOML into [`model::Desired`], collecting every problem
//!   with its location ([`diag`]);
//! - [`engine::diff`] computes an [`engine::plan::Plan`], ordered by the one stage
//!   table in [`engine::order`];
//! - [`services`] holds each AWS service's pure half: its state, its operations and
//!   its diff;
//! - [`render`] turns a plan into its public document and text;
//! - [`policy`] normalizes and compares IAM policy documents.

pub mod diag;
pub mod engine;
pub mod evaluate;
pub mod model;
pub mod permissions;
pub mod plan_file;
pub mod policy;
pub mod posture;
pub mod render;
pub mod services;

#[cfg(test)]
mod tests {
    /// What the core may depend on: data formats, hashing, text diffing and
    /// matching. Adding anything else (an AWS SDK crate, tokio, clap, a terminal
    /// library) would let I/O into the core: move that code to the shell crate
    /// instead of adding it here.
    const PURE: &[&str] = &["schemars", "serde", "serde_json", "sha2", "similar", "strsim", "toml"];

    #[test]
    fn dependencies_are_pure() {
        let manifest: toml::Table = include_str!("../Cargo.toml").parse().unwrap();
        let deps = manifest["dependencies"].as_table().unwrap();
        let impure: Vec<&String> = deps.keys().filter(|k| !PURE.contains(&k.as_str())).collect();
        assert!(impure.is_empty(), "the core crate must stay free of I/O; not allowed here: {impure:?}");
    }
}
