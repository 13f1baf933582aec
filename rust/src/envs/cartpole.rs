//! `gymnasium.envs.classic_control.cartpole.CartPoleEnv`.

use std::f64::consts::PI;

use super::{
    check_obs, write_obs, Action, ActionSpace, BoxSpace, Env, EnvError, ResetOptions, RngSlot,
    Seed, Step,
};

/// `kinematics_integrator`: `"euler"` (the default) or anything else
/// (semi-implicit Euler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KinematicsIntegrator {
    Euler,
    SemiImplicitEuler,
}

/// CartPole, with the constants `CartPoleEnv.__init__` sets as public fields.
/// `total_mass` and `polemass_length` are fields too: Gymnasium computes them
/// once in `__init__`, so changing `masspole` alone does not change them.
#[derive(Debug, Clone)]
pub struct CartPole {
    pub gravity: f64,
    pub masscart: f64,
    pub masspole: f64,
    pub total_mass: f64,
    pub length: f64,
    pub polemass_length: f64,
    pub force_mag: f64,
    pub tau: f64,
    pub kinematics_integrator: KinematicsIntegrator,
    pub theta_threshold_radians: f64,
    pub x_threshold: f64,
    pub sutton_barto_reward: bool,
    /// `[x, x_dot, theta, theta_dot]`, `None` before the first reset.
    pub state: Option<[f64; 4]>,
    /// Steps taken since the pole fell (`None` while it has not).
    pub steps_beyond_terminated: Option<u64>,
    pub np_random: RngSlot,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// `CartPoleEnv()`.
    pub fn new() -> Self {
        let masscart = 1.0;
        let masspole = 0.1;
        let length = 0.5;
        Self {
            gravity: 9.8,
            masscart,
            masspole,
            total_mass: masspole + masscart,
            length,
            polemass_length: masspole * length,
            force_mag: 10.0,
            tau: 0.02,
            kinematics_integrator: KinematicsIntegrator::Euler,
            theta_threshold_radians: 12.0 * 2.0 * PI / 360.0,
            x_threshold: 2.4,
            sutton_barto_reward: false,
            state: None,
            steps_beyond_terminated: None,
            np_random: RngSlot::default(),
        }
    }

    /// One step of the dynamics on a state (shared with the vector env).
    #[inline]
    pub(crate) fn dynamics(&self, s: [f64; 4], force: f64) -> [f64; 4] {
        let [mut x, mut x_dot, mut theta, mut theta_dot] = s;
        let costheta = theta.cos();
        let sintheta = theta.sin();
        // np.square is a plain multiply
        let temp =
            (force + self.polemass_length * (theta_dot * theta_dot) * sintheta) / self.total_mass;
        let thetaacc = (self.gravity * sintheta - costheta * temp)
            / (self.length * (4.0 / 3.0 - self.masspole * (costheta * costheta) / self.total_mass));
        let xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass;
        match self.kinematics_integrator {
            KinematicsIntegrator::Euler => {
                x += self.tau * x_dot;
                x_dot += self.tau * xacc;
                theta += self.tau * theta_dot;
                theta_dot += self.tau * thetaacc;
            }
            KinematicsIntegrator::SemiImplicitEuler => {
                x_dot += self.tau * xacc;
                x += self.tau * x_dot;
                theta_dot += self.tau * thetaacc;
                theta += self.tau * theta_dot;
            }
        }
        [x, x_dot, theta, theta_dot]
    }

    #[inline]
    pub(crate) fn terminal(&self, s: &[f64; 4]) -> bool {
        let [x, _, theta, _] = *s;
        x < -self.x_threshold
            || x > self.x_threshold
            || theta < -self.theta_threshold_radians
            || theta > self.theta_threshold_radians
    }

    pub(crate) fn observation_bounds(&self) -> BoxSpace {
        let high = [
            (self.x_threshold * 2.0) as f32,
            f32::INFINITY,
            (self.theta_threshold_radians * 2.0) as f32,
            f32::INFINITY,
        ];
        BoxSpace {
            low: high.iter().map(|h| -h).collect(),
            high: high.to_vec(),
        }
    }
}

fn obs_of(s: &[f64; 4]) -> [f32; 4] {
    s.map(|v| v as f32)
}

impl Env for CartPole {
    fn obs_dim(&self) -> usize {
        4
    }

    fn observation_space(&self) -> BoxSpace {
        self.observation_bounds()
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace::Discrete(2)
    }

    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        check_obs(obs, 4)?;
        let rng = self.np_random.reseed(seed)?;
        let (low, high) = options.bounds(-0.05, 0.05)?;
        let mut s = [0.0; 4];
        rng.uniform_fill(low, high, &mut s)?;
        self.state = Some(s);
        self.steps_beyond_terminated = None;
        write_obs(obs, obs_of(&s))
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        let a = action.discrete_in(2)?;
        let s = self
            .state
            .ok_or(EnvError::NotReset("Call reset before using step method."))?;
        check_obs(obs, 4)?;
        let force = if a == 1 {
            self.force_mag
        } else {
            -self.force_mag
        };
        let s = self.dynamics(s, force);
        self.state = Some(s);
        let terminated = self.terminal(&s);
        let reward = if !terminated {
            if self.sutton_barto_reward {
                0.0
            } else {
                1.0
            }
        } else if let Some(n) = self.steps_beyond_terminated.as_mut() {
            // Gymnasium warns here: stepping after termination is undefined.
            *n += 1;
            if self.sutton_barto_reward {
                -1.0
            } else {
                0.0
            }
        } else {
            self.steps_beyond_terminated = Some(0);
            if self.sutton_barto_reward {
                -1.0
            } else {
                1.0
            }
        };
        write_obs(obs, obs_of(&s))?;
        Ok(Step {
            reward,
            terminated,
            truncated: false,
        })
    }

    unwrapped_env!();
}
