//! `gymnasium.envs.classic_control.cartpole.CartPoleVectorEnv`, as
//! `gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point")`
//! makes it: one generator for the batch, its own step counter for truncation,
//! and next-step autoreset.

use super::{CartPole, EnvError, ResetOptions, RngSlot, Seed};

/// `CartPoleVectorEnv(num_envs, max_episode_steps, sutton_barto_reward)`.
/// The constants are `physics`'s public fields (its own state is unused).
#[derive(Debug, Clone)]
pub struct CartPoleVectorEnv {
    pub physics: CartPole,
    pub max_episode_steps: i64,
    /// The reset bounds of the last reset, reused by the autoresets.
    pub low: f64,
    pub high: f64,
    /// Per env `[x, x_dot, theta, theta_dot]` (Gymnasium holds the transpose).
    state: Option<Vec<[f64; 4]>>,
    steps: Vec<i64>,
    prev_done: Vec<bool>,
    draws: Vec<f64>,
    pub np_random: RngSlot,
}

impl CartPoleVectorEnv {
    /// `CartPoleVectorEnv(num_envs=num_envs, max_episode_steps=..., sutton_barto_reward=...)`.
    pub fn new(num_envs: usize, max_episode_steps: i64, sutton_barto_reward: bool) -> Self {
        let mut physics = CartPole::new();
        physics.sutton_barto_reward = sutton_barto_reward;
        Self {
            physics,
            max_episode_steps,
            low: -0.05,
            high: 0.05,
            state: None,
            steps: vec![0; num_envs],
            prev_done: vec![false; num_envs],
            draws: Vec::with_capacity(4 * num_envs),
            np_random: RngSlot::default(),
        }
    }

    pub fn num_envs(&self) -> usize {
        self.steps.len()
    }

    /// `uniform(low, high, size=(4, k))` into the envs in `which`: all `x`
    /// first, then all `x_dot`, and so on (C order of the `(4, k)` draw).
    fn draw_into(
        rng: &mut super::NpRandom,
        low: f64,
        high: f64,
        draws: &mut Vec<f64>,
        state: &mut [[f64; 4]],
        which: impl Iterator<Item = usize> + Clone,
    ) -> Result<(), EnvError> {
        let k = which.clone().count();
        draws.clear();
        draws.resize(4 * k, 0.0);
        rng.uniform_fill(low, high, draws)?;
        for (j, i) in which.enumerate() {
            for (c, value) in state[i].iter_mut().enumerate() {
                *value = draws[c * k + j];
            }
        }
        Ok(())
    }

    /// `envs.reset(seed=seed, options=options)`; `obs` holds `num_envs * 4`
    /// float32 values, env after env.
    pub fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        let n = self.num_envs();
        check_len(obs.len(), 4 * n)?;
        let rng = self.np_random.reseed(seed)?;
        let (low, high) = options.bounds(-0.05, 0.05)?;
        self.low = low;
        self.high = high;
        let mut state = vec![[0.0; 4]; n];
        Self::draw_into(rng, low, high, &mut self.draws, &mut state, 0..n)?;
        write(obs, &state);
        self.state = Some(state);
        self.steps.fill(0);
        self.prev_done.fill(false);
        Ok(())
    }

    /// `envs.step(actions)`: every output holds one value per env (`obs` four).
    /// Rewards are float32, as Gymnasium returns them.
    pub fn step(
        &mut self,
        actions: &[i64],
        obs: &mut [f32],
        rewards: &mut [f32],
        terminated: &mut [bool],
        truncated: &mut [bool],
    ) -> Result<(), EnvError> {
        let n = self.num_envs();
        if actions.len() != n || actions.iter().any(|a| !(0..2).contains(a)) {
            return Err(EnvError::VectorAction(format!(
                "array({actions:?}) (<class 'numpy.ndarray'>) invalid"
            )));
        }
        let Some(state) = self.state.as_mut() else {
            return Err(EnvError::NotReset("Call reset before using step method."));
        };
        check_len(obs.len(), 4 * n)?;
        check_len(rewards.len(), n)?;
        check_len(terminated.len(), n)?;
        check_len(truncated.len(), n)?;
        let physics = &self.physics;
        for i in 0..n {
            // np.sign(action - 0.5) * force_mag
            let force = if actions[i] == 1 {
                physics.force_mag
            } else {
                -physics.force_mag
            };
            state[i] = physics.dynamics(state[i], force);
            terminated[i] = physics.terminal(&state[i]);
            self.steps[i] += 1;
            truncated[i] = self.steps[i] >= self.max_episode_steps;
            rewards[i] = if physics.sutton_barto_reward {
                // -np.array(terminated, dtype=np.float32): -0.0 while running
                -f32::from(u8::from(terminated[i]))
            } else {
                1.0
            };
        }
        // state[:, prev_done] = uniform(low, high, size=(4, k)), drawn (and the
        // range checked) on every step, also when k is 0
        let rng = self.np_random.reseed(None)?;
        let done = &self.prev_done;
        let which = (0..n).filter(|&i| done[i]);
        Self::draw_into(rng, self.low, self.high, &mut self.draws, state, which)?;
        for i in 0..n {
            if self.prev_done[i] {
                self.steps[i] = 0;
                rewards[i] = 0.0;
                terminated[i] = false;
                truncated[i] = false;
            }
            self.prev_done[i] = terminated[i] || truncated[i];
        }
        write(obs, state);
        Ok(())
    }
}

fn check_len(got: usize, expected: usize) -> Result<(), EnvError> {
    if got != expected {
        return Err(EnvError::ObsBuffer { expected, got });
    }
    Ok(())
}

fn write(obs: &mut [f32], state: &[[f64; 4]]) {
    for (out, s) in obs.chunks_exact_mut(4).zip(state) {
        for (o, v) in out.iter_mut().zip(s) {
            *o = *v as f32;
        }
    }
}
