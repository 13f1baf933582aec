//! The rollout core: run episodes of N envs in lockstep, one policy call per
//! step, keeping returns, lengths and the episode order. Pure Rust: envs,
//! policies and hooks are traits, so Python objects (`python/rollout.rs`), the
//! native envs and policy evaluator (`native`), or test doubles plug in alike.
//! `plan` shares the episodes among the envs, `lockstep` runs them, `bar` shows
//! the progress, `error` says what went wrong.

mod bar;
mod error;
mod lockstep;
mod native;
mod plan;

pub use bar::EpisodeBar;
pub use error::RolloutError;
pub use lockstep::{run, Env, Episode, Hooks, Policy, RunConfig, Transition};
pub use native::{NativeAction, NativeActor, NativeEnv, NativeError, Obs, MAX_ACTION, MAX_OBS};
pub use plan::EpisodePlan;
