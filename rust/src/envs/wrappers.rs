//! The wrappers `gym.make` puts around an env: `TimeLimit(OrderEnforcing(env))`.
//! (`PassiveEnvChecker` only warns, so it has no counterpart here.)

use std::any::Any;

use super::{Action, ActionSpace, BoxSpace, Env, EnvError, ResetOptions, Seed, Step};

/// `gymnasium.wrappers.TimeLimit`: `truncated` once `max_episode_steps` steps
/// have passed since the last reset. It counts every successful step, also
/// after termination, and can set `truncated` together with `terminated`.
#[derive(Debug, Clone)]
pub struct TimeLimit<E> {
    pub env: E,
    pub max_episode_steps: u64,
    elapsed_steps: Option<u64>,
}

impl<E: Env> TimeLimit<E> {
    /// `TimeLimit(env, max_episode_steps)`.
    pub fn new(env: E, max_episode_steps: u64) -> Self {
        Self {
            env,
            max_episode_steps,
            elapsed_steps: None,
        }
    }

    /// Steps since the last reset (`None` before the first reset).
    pub fn elapsed_steps(&self) -> Option<u64> {
        self.elapsed_steps
    }
}

impl<E: Env + 'static> Env for TimeLimit<E> {
    fn obs_dim(&self) -> usize {
        self.env.obs_dim()
    }
    fn observation_space(&self) -> BoxSpace {
        self.env.observation_space()
    }
    fn action_space(&self) -> ActionSpace {
        self.env.action_space()
    }

    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        self.elapsed_steps = Some(0);
        self.env.reset(seed, options, obs)
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        let mut step = self.env.step(action, obs)?;
        // Gymnasium's counter starts as None and `None += 1` raises; a step that
        // got here without a reset was already refused by the env.
        let elapsed = self.elapsed_steps.get_or_insert(0);
        *elapsed += 1;
        if *elapsed >= self.max_episode_steps {
            step.truncated = true;
        }
        Ok(step)
    }

    fn np_random_seed(&self) -> Option<&Seed> {
        self.env.np_random_seed()
    }
    fn unwrapped_mut(&mut self) -> &mut dyn Env {
        self.env.unwrapped_mut()
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// `gymnasium.wrappers.OrderEnforcing`: `step` before the first `reset` is
/// [`EnvError::ResetNeeded`]. A reset counts even when it fails.
#[derive(Debug, Clone)]
pub struct OrderEnforcing<E> {
    pub env: E,
    has_reset: bool,
}

impl<E: Env> OrderEnforcing<E> {
    /// `OrderEnforcing(env)`.
    pub fn new(env: E) -> Self {
        Self {
            env,
            has_reset: false,
        }
    }

    /// Whether `reset` was called.
    pub fn has_reset(&self) -> bool {
        self.has_reset
    }
}

impl<E: Env + 'static> Env for OrderEnforcing<E> {
    fn obs_dim(&self) -> usize {
        self.env.obs_dim()
    }
    fn observation_space(&self) -> BoxSpace {
        self.env.observation_space()
    }
    fn action_space(&self) -> ActionSpace {
        self.env.action_space()
    }

    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        self.has_reset = true;
        self.env.reset(seed, options, obs)
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        if !self.has_reset {
            return Err(EnvError::ResetNeeded);
        }
        self.env.step(action, obs)
    }

    fn np_random_seed(&self) -> Option<&Seed> {
        self.env.np_random_seed()
    }
    fn unwrapped_mut(&mut self) -> &mut dyn Env {
        self.env.unwrapped_mut()
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
