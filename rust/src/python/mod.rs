//! The PyO3 boundary: each file wraps one pure-Rust module for Python, and
//! `errors` maps every Rust error to its Python exception.

pub mod agents;
pub mod envs;
pub mod errors;
pub mod policy;
pub mod progress;
pub mod rollout;
