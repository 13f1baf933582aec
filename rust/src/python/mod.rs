//! The PyO3 boundary: each file wraps one pure-Rust module for Python.

pub mod policy;
pub mod progress;
pub mod rollout;
