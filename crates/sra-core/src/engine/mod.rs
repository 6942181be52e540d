//! The pure engine: diff, ordering and the plan value. The executor that applies a
//! plan lives in the shell crate (`sra::engine::apply`).

pub mod diff;
pub mod order;
pub mod plan;
