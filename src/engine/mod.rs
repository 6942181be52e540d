//! The engine: diff, ordering, the plan value, and the executor that applies it.

pub mod apply;
pub mod diff;
pub mod order;
pub mod plan;
