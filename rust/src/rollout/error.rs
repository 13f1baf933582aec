//! What the rollout itself can find wrong (the env's and the policy's own errors
//! are their error type, which must take these in through `From`).

/// A rollout that cannot start or go on, for a reason of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolloutError {
    #[error("the number of episodes must be at least 1")]
    NoEpisodes,
    #[error("there must be at least one environment")]
    NoEnvs,
    #[error("the policy gave {got} actions for {expected} observations")]
    ActionCount { expected: usize, got: usize },
    #[error(
        "the policy gave actions of shape {shape:?} for {rows} observations: a native env \
         takes one integer or one vector of at most 8 floats per observation"
    )]
    ActionShape { shape: Vec<usize>, rows: usize },
    #[error("the seed {seed} + episode {episode} does not fit in a 64-bit integer")]
    SeedOverflow { seed: i64, episode: usize },
    #[error("internal error in the rollout engine (please report it): {0}")]
    Internal(String),
}
