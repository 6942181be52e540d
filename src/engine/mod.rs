//! The engine: diff, ordering and the plan value (pure, from the core crate), and
//! the executor that applies a plan.

pub use sra_core::engine::{diff, order, plan};

pub mod apply;
