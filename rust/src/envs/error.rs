//! What can go wrong when making, resetting or stepping an env, as a type.
//!
//! Each message is Gymnasium's own text for the same case, and
//! [`EnvError::python_type`] names the exception class Gymnasium raises, so a
//! binding can raise the same thing.

/// Why an env could not be made, reset or stepped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvError {
    /// `action_space.contains(action)` failed (CartPole, MountainCar), e.g.
    /// `2 (<class 'int'>) invalid`.
    #[error("{0}")]
    InvalidAction(String),
    /// The action's kind does not fit the env (a discrete action given to a
    /// continuous env or the other way round); Python raises a `TypeError`.
    #[error("{0}")]
    ActionType(String),
    /// Indexing the action or the torque list failed (`IndexError`).
    #[error("{0}")]
    ActionIndex(String),
    /// `step` before any `reset` on a bare env (Gymnasium's assertion).
    #[error("{0}")]
    NotReset(&'static str),
    /// `step` before any `reset` through `OrderEnforcing` (as `gym.make` wraps).
    #[error("Cannot call env.step() before calling env.reset()")]
    ResetNeeded,
    /// `options={"low": .., "high": ..}` with `low > high`.
    #[error("Lower bound ({}) must be lower than higher bound ({}).", py_float(*.low), py_float(*.high))]
    ResetBounds { low: f64, high: f64 },
    /// NumPy's `uniform` refused a range that is not finite.
    #[error("{0}")]
    RangeOverflow(&'static str),
    /// NumPy's `uniform` refused `high - low < 0` (Pendulum's `x_init < 0`).
    #[error("high - low < 0")]
    NegativeRange,
    /// A negative seed, refused by `gymnasium.utils.seeding.np_random`
    /// (`gymnasium.error.Error`).
    #[error("Seed must be greater or equal to zero, actual value: {0}")]
    NegativeSeed(i128),
    /// The OS gave no entropy for an unseeded first reset.
    #[error("no OS entropy for an unseeded reset: {0}")]
    Entropy(String),
    /// The caller's observation buffer has the wrong length.
    #[error("the observation buffer holds {got} values, the env writes {expected}")]
    ObsBuffer { expected: usize, got: usize },
    /// `make` was given an id that is not a native env.
    #[error("Environment `{0}` is not one of the native classic-control envs")]
    UnknownEnv(String),
    /// `make` was given a keyword the env's constructor does not take.
    #[error(
        "{class}.__init__() got an unexpected keyword argument '{name}' was raised from the \
         environment creator for {id} with kwargs ({{{kwargs}}})"
    )]
    UnexpectedKwarg {
        class: &'static str,
        name: &'static str,
        id: String,
        /// The keywords given, as Python prints the dict's items.
        kwargs: String,
    },
    /// `TimeLimit` with `max_episode_steps <= 0`.
    #[error("Expect the `max_episode_steps` to be positive, actually: {0}")]
    MaxEpisodeSteps(i64),
    /// A vector env's action batch has the wrong length or a bad element.
    #[error("{0}")]
    VectorAction(String),
}

impl EnvError {
    /// The Python exception class Gymnasium raises in the same case.
    pub fn python_type(&self) -> &'static str {
        match self {
            Self::InvalidAction(_) | Self::NotReset(_) | Self::VectorAction(_) => "AssertionError",
            Self::ActionType(_) | Self::UnexpectedKwarg { .. } => "TypeError",
            Self::ActionIndex(_) => "IndexError",
            Self::ResetNeeded => "gymnasium.error.ResetNeeded",
            Self::ResetBounds { .. }
            | Self::NegativeRange
            | Self::ObsBuffer { .. }
            | Self::MaxEpisodeSteps(_) => "ValueError",
            Self::RangeOverflow(_) => "OverflowError",
            Self::NegativeSeed(_) => "gymnasium.error.Error",
            Self::Entropy(_) => "OSError",
            Self::UnknownEnv(_) => "gymnasium.error.NameNotFound",
        }
    }
}

/// Python's `repr(float)`: the shortest round-trip digits, exponent form below
/// 1e-4 and from 1e16 on (`1e-05`, `1e+16`), `inf` and `nan`.
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's Debug uses the same shortest digits and the same thresholds for
    // the exponent form; only the exponent's spelling differs.
    let s = format!("{x:?}");
    match s.split_once('e') {
        None => s,
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
    }
}
