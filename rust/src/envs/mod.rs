//! Gymnasium's classic-control envs in Rust, bit for bit: CartPole-v0/v1,
//! Pendulum-v1, Acrobot-v1, MountainCar-v0 and MountainCarContinuous-v0.
//!
//! For the same seed and the same actions every observation (float32 bits),
//! reward, `terminated` and `truncated` equals `gymnasium.make(id)`'s
//! (Gymnasium 1.4.0 on NumPy 2): the generator is NumPy's `SeedSequence` +
//! `PCG64`, the arithmetic follows Python's and NumPy's operation for
//! operation (glibc's `sin`/`cos`/`pow`, NEP 50 float32/float64 promotion,
//! NumPy's float32 cosine kernel for Acrobot's reset), and [`make`] wraps the
//! env as `gym.make` does ([`TimeLimit`] over [`OrderEnforcing`]).
//!
//! Each env is a small struct with public constants (change `gravity` and it
//! stays changed, as on `env.unwrapped`) and `reset`/`step` writing the
//! observation into the caller's buffer, so stepping allocates nothing.
//!
//! ```
//! use _core::envs::{make, Action, EnvKwargs, ResetOptions, Seed};
//!
//! let mut env = make("CartPole-v1", &EnvKwargs::default())?;
//! let mut obs = vec![0.0f32; env.obs_dim()];
//! env.reset(Some(&Seed::from(42u64)), &ResetOptions::default(), &mut obs)?;
//! let step = env.step(Action::Discrete(1), &mut obs)?;
//! assert_eq!(step.reward, 1.0);
//! assert!(!step.terminated && !step.truncated);
//! # Ok::<(), _core::envs::EnvError>(())
//! ```

/// The methods every unwrapped env (a struct with an `np_random: RngSlot`)
/// implements alike: its generator's seed, and itself as the unwrapped env.
macro_rules! unwrapped_env {
    () => {
        fn np_random_seed(&self) -> Option<&Seed> {
            self.np_random.seed()
        }

        fn unwrapped_mut(&mut self) -> &mut dyn Env {
            self
        }

        fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
            self
        }
    };
}

mod acrobot;
mod cartpole;
mod constants;
mod error;
mod math;
mod mountain_car;
mod pendulum;
mod rng;
mod vector;
mod wrappers;

pub use acrobot::{Acrobot, BookOrNips};
pub use cartpole::{CartPole, KinematicsIntegrator};
pub use constants::{set_constant, set_generator, Constant};
pub use error::{py_float, EnvError};
pub use math::{numpy_cos_f32, numpy_sin_f32};
pub use mountain_car::{MountainCar, MountainCarContinuous};
pub use pendulum::Pendulum;
pub use rng::{seed_sequence_state, NpRandom, RngSlot, Seed};
pub use vector::CartPoleVectorEnv;
pub use wrappers::{OrderEnforcing, TimeLimit};

use std::any::Any;

/// An action as the env receives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action<'a> {
    /// An integer action (a Python `int` or a 0-d NumPy integer).
    Discrete(i64),
    /// A float32 array, the `Box` action spaces' dtype.
    Continuous(&'a [f32]),
    /// A float64 NumPy array (NumPy promotes differently from float32).
    Continuous64(&'a [f64]),
}

impl Action<'_> {
    /// Python's `repr(action)` and `type(action)` as Gymnasium's assertion
    /// message prints them (`1 (<class 'int'>) invalid`).
    fn invalid(&self) -> EnvError {
        // NumPy prints a float32 with its shortest digits and `1.` for `1.0`
        let numpy = |digits: String| match digits.strip_suffix(".0") {
            Some(int) => format!("{int}."),
            None => digits,
        };
        let text = match self {
            Action::Discrete(a) => format!("{a} (<class 'int'>)"),
            Action::Continuous(a) => format!(
                "array([{}], dtype=float32) (<class 'numpy.ndarray'>)",
                a.iter()
                    .map(|x| numpy(format!("{x:?}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::Continuous64(a) => format!(
                "array([{}]) (<class 'numpy.ndarray'>)",
                a.iter()
                    .map(|x| numpy(format!("{x:?}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        EnvError::InvalidAction(format!("{text} invalid"))
    }

    /// The action of a discrete env that checks `action_space.contains`:
    /// `start <= a < start + n`, anything else is invalid.
    fn discrete_in(&self, n: i64) -> Result<i64, EnvError> {
        match *self {
            Action::Discrete(a) if (0..n).contains(&a) => Ok(a),
            _ => Err(self.invalid()),
        }
    }

    /// `action[0]` of a continuous env, float32 or float64; `on_int` is the
    /// error Python raises when the action is an int.
    fn first(&self, on_int: fn() -> EnvError) -> Result<FirstAction, EnvError> {
        let empty =
            || EnvError::ActionIndex("index 0 is out of bounds for axis 0 with size 0".into());
        match self {
            Action::Discrete(_) => Err(on_int()),
            Action::Continuous(a) => a.first().map(|&x| FirstAction::F32(x)).ok_or_else(empty),
            Action::Continuous64(a) => a.first().map(|&x| FirstAction::F64(x)).ok_or_else(empty),
        }
    }
}

/// `action[0]` with its dtype.
#[derive(Debug, Clone, Copy)]
enum FirstAction {
    F32(f32),
    F64(f64),
}

/// What one step returns besides the observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The reward as the Python float (or `np.float64`) Gymnasium returns.
    pub reward: f64,
    pub terminated: bool,
    pub truncated: bool,
}

/// `reset(options=...)`: the keys the classic-control envs read. CartPole,
/// Acrobot and both MountainCars read `low`/`high`, Pendulum `x_init`/`y_init`;
/// each env ignores the others, as Gymnasium does. All unset is `options=None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResetOptions {
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub x_init: Option<f64>,
    pub y_init: Option<f64>,
}

impl ResetOptions {
    /// `utils.maybe_parse_reset_bounds(options, default_low, default_high)`.
    fn bounds(&self, default_low: f64, default_high: f64) -> Result<(f64, f64), EnvError> {
        let low = self.low.unwrap_or(default_low);
        let high = self.high.unwrap_or(default_high);
        if low > high {
            return Err(EnvError::ResetBounds { low, high });
        }
        Ok((low, high))
    }
}

/// A `Box` space's bounds (its shape is `(low.len(),)`).
#[derive(Debug, Clone, PartialEq)]
pub struct BoxSpace {
    pub low: Vec<f32>,
    pub high: Vec<f32>,
}

/// An env's action space.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpace {
    /// `Discrete(n)`: actions `0..n`.
    Discrete(i64),
    /// `Box(low, high, (len,), float32)`.
    Box(BoxSpace),
}

/// A single env with Gymnasium's `reset`/`step`, observation written into the
/// caller's buffer of [`Env::obs_dim`] float32 values.
pub trait Env: Send + Sync {
    /// The number of float32 values in one observation.
    fn obs_dim(&self) -> usize;
    /// The observation space (`Box`, float32).
    fn observation_space(&self) -> BoxSpace;
    /// The action space.
    fn action_space(&self) -> ActionSpace;
    /// `env.reset(seed=seed, options=options)`. A seed rebuilds the generator;
    /// `None` continues it (or, the first time, draws OS entropy).
    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError>;
    /// `env.step(action)`.
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError>;
    /// Gymnasium's `np_random_seed`: the seed of the env's generator, if any.
    fn np_random_seed(&self) -> Option<&Seed>;
    /// The innermost env (`env.unwrapped`), to read or change its constants
    /// through [`Env::as_any_mut`].
    fn unwrapped_mut(&mut self) -> &mut dyn Env;
    /// `self` for downcasting to the concrete env struct.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn obs_dim(&self) -> usize {
        (**self).obs_dim()
    }
    fn observation_space(&self) -> BoxSpace {
        (**self).observation_space()
    }
    fn action_space(&self) -> ActionSpace {
        (**self).action_space()
    }
    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        (**self).reset(seed, options, obs)
    }
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        (**self).step(action, obs)
    }
    fn np_random_seed(&self) -> Option<&Seed> {
        (**self).np_random_seed()
    }
    fn unwrapped_mut(&mut self) -> &mut dyn Env {
        (**self).unwrapped_mut()
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        (**self).as_any_mut()
    }
}

/// Check the caller's buffer and write an observation into it.
fn write_obs<const N: usize>(obs: &mut [f32], values: [f32; N]) -> Result<(), EnvError> {
    if obs.len() != N {
        return Err(EnvError::ObsBuffer {
            expected: N,
            got: obs.len(),
        });
    }
    obs.copy_from_slice(&values);
    Ok(())
}

/// Check the caller's buffer before a step changes any state.
fn check_obs(obs: &[f32], n: usize) -> Result<(), EnvError> {
    if obs.len() != n {
        return Err(EnvError::ObsBuffer {
            expected: n,
            got: obs.len(),
        });
    }
    Ok(())
}

/// A registered id: its `max_episode_steps` and `reward_threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvSpec {
    pub id: &'static str,
    pub max_episode_steps: u64,
    pub reward_threshold: Option<f64>,
}

/// The ids [`make`] knows, with Gymnasium's registry values.
pub const REGISTRY: &[EnvSpec] = &[
    EnvSpec {
        id: "CartPole-v0",
        max_episode_steps: 200,
        reward_threshold: Some(195.0),
    },
    EnvSpec {
        id: "CartPole-v1",
        max_episode_steps: 500,
        reward_threshold: Some(475.0),
    },
    EnvSpec {
        id: "MountainCar-v0",
        max_episode_steps: 200,
        reward_threshold: Some(-110.0),
    },
    EnvSpec {
        id: "MountainCarContinuous-v0",
        max_episode_steps: 999,
        reward_threshold: Some(90.0),
    },
    EnvSpec {
        id: "Pendulum-v1",
        max_episode_steps: 200,
        reward_threshold: None,
    },
    EnvSpec {
        id: "Acrobot-v1",
        max_episode_steps: 500,
        reward_threshold: Some(-100.0),
    },
];

/// The registry entry of `id`.
pub fn spec(id: &str) -> Option<&'static EnvSpec> {
    REGISTRY.iter().find(|s| s.id == id)
}

/// `gym.make(id, **kwargs)`'s keyword arguments for these envs. Each env
/// refuses the keywords its constructor does not take.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EnvKwargs {
    /// `gym.make(..., max_episode_steps=n)`: overrides the registry's.
    pub max_episode_steps: Option<i64>,
    /// CartPole's `sutton_barto_reward`.
    pub sutton_barto_reward: Option<bool>,
    /// Pendulum's `g`.
    pub g: Option<f64>,
    /// MountainCar's and MountainCarContinuous's `goal_velocity`.
    pub goal_velocity: Option<f64>,
}

/// `gymnasium.make(id, **kwargs)`: the env wrapped in
/// `TimeLimit(OrderEnforcing(env))` (the passive checker only warns).
pub fn make(id: &str, kwargs: &EnvKwargs) -> Result<Box<dyn Env>, EnvError> {
    let spec = spec(id).ok_or_else(|| EnvError::UnknownEnv(id.to_string()))?;
    let given: Vec<(&'static str, String)> = [
        (
            "sutton_barto_reward",
            kwargs
                .sutton_barto_reward
                .map(|b| if b { "True" } else { "False" }.to_string()),
        ),
        ("g", kwargs.g.map(py_float)),
        ("goal_velocity", kwargs.goal_velocity.map(py_float)),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect();
    let refuse = |class: &'static str, allowed: &[&str]| -> Result<(), EnvError> {
        match given.iter().find(|(name, _)| !allowed.contains(name)) {
            Some((name, _)) => Err(EnvError::UnexpectedKwarg {
                class,
                name,
                id: id.to_string(),
                kwargs: given
                    .iter()
                    .map(|(name, value)| format!("'{name}': {value}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            None => Ok(()),
        }
    };
    let env: Box<dyn Env> = match id {
        "CartPole-v0" | "CartPole-v1" => {
            refuse("CartPoleEnv", &["sutton_barto_reward"])?;
            let mut env = CartPole::new();
            env.sutton_barto_reward = kwargs.sutton_barto_reward.unwrap_or(false);
            Box::new(env)
        }
        "MountainCar-v0" => {
            refuse("MountainCarEnv", &["goal_velocity"])?;
            let mut env = MountainCar::new();
            env.goal_velocity = kwargs.goal_velocity.unwrap_or(0.0);
            Box::new(env)
        }
        "MountainCarContinuous-v0" => {
            refuse("Continuous_MountainCarEnv", &["goal_velocity"])?;
            let mut env = MountainCarContinuous::new();
            env.goal_velocity = kwargs.goal_velocity.unwrap_or(0.0);
            Box::new(env)
        }
        "Pendulum-v1" => {
            refuse("PendulumEnv", &["g"])?;
            let mut env = Pendulum::new();
            env.g = kwargs.g.unwrap_or(10.0);
            Box::new(env)
        }
        _ => {
            refuse("AcrobotEnv", &[])?;
            Box::new(Acrobot::new())
        }
    };
    let steps = match kwargs.max_episode_steps {
        None => spec.max_episode_steps,
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or(EnvError::MaxEpisodeSteps(n))?,
    };
    Ok(Box::new(TimeLimit::new(OrderEnforcing::new(env), steps)))
}

#[cfg(test)]
mod tests;
