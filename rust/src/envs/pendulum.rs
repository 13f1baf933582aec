//! `gymnasium.envs.classic_control.pendulum.PendulumEnv`.

use std::f64::consts::PI;

use super::math::{np_clip, np_clip_f32, pow, powf, py_mod};
use super::{
    check_obs, write_obs, Action, ActionSpace, BoxSpace, Env, EnvError, FirstAction, ResetOptions,
    RngSlot, Seed, Step,
};

/// Pendulum, with `PendulumEnv.__init__`'s constants as public fields.
#[derive(Debug, Clone)]
pub struct Pendulum {
    pub max_speed: f64,
    pub max_torque: f64,
    pub dt: f64,
    pub g: f64,
    pub m: f64,
    pub l: f64,
    /// `[theta, theta_dot]`, `None` before the first reset.
    pub state: Option<[f64; 2]>,
    pub np_random: RngSlot,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

/// `DEFAULT_X`, `DEFAULT_Y`: the reset's half-widths.
const DEFAULT_X: f64 = PI;
const DEFAULT_Y: f64 = 1.0;

impl Pendulum {
    /// `PendulumEnv(g=10.0)`.
    pub fn new() -> Self {
        Self {
            max_speed: 8.0,
            max_torque: 2.0,
            dt: 0.05,
            g: 10.0,
            m: 1.0,
            l: 1.0,
            state: None,
            np_random: RngSlot::default(),
        }
    }
}

fn obs_of(s: &[f64; 2]) -> [f32; 3] {
    let [theta, theta_dot] = *s;
    [theta.cos() as f32, theta.sin() as f32, theta_dot as f32]
}

/// `angle_normalize(x)`: `((x + np.pi) % (2 * np.pi)) - np.pi`.
fn angle_normalize(x: f64) -> f64 {
    py_mod(x + PI, 2.0 * PI) - PI
}

impl Env for Pendulum {
    fn obs_dim(&self) -> usize {
        3
    }

    fn observation_space(&self) -> BoxSpace {
        let high = [1.0, 1.0, self.max_speed as f32];
        BoxSpace {
            low: high.iter().map(|h| -h).collect(),
            high: high.to_vec(),
        }
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace::Box(BoxSpace {
            low: vec![-self.max_torque as f32],
            high: vec![self.max_torque as f32],
        })
    }

    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        check_obs(obs, 3)?;
        let rng = self.np_random.reseed(seed)?;
        let x = options.x_init.unwrap_or(DEFAULT_X);
        let y = options.y_init.unwrap_or(DEFAULT_Y);
        let s = rng.uniform_arrays([-x, -y], [x, y])?;
        self.state = Some(s);
        write_obs(obs, obs_of(&s))
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        // `th, thdot = self.state` comes first in Gymnasium
        let [th, thdot] = self
            .state
            .ok_or(EnvError::NotReset("Call reset before using step method."))?;
        let u =
            action.first(|| EnvError::ActionIndex("invalid index to scalar variable.".into()))?;
        check_obs(obs, 3)?;
        let (g, m, l, dt) = (self.g, self.m, self.l, self.dt);
        // costs = angle_normalize(th) ** 2 + .1 * thdot**2 + .001 * (u**2), and
        // the torque term of newthdot, in u's dtype (NEP 50: Python floats are weak)
        let inertia = 3.0 / (m * pow(l, 2.0));
        let (u_cost, u_acc) = match u {
            FirstAction::F32(u) => {
                let u = np_clip_f32(u, -self.max_torque as f32, self.max_torque as f32);
                (
                    f64::from(0.001f32 * powf(u, 2.0)),
                    f64::from(inertia as f32 * u),
                )
            }
            FirstAction::F64(u) => {
                let u = np_clip(u, -self.max_torque, self.max_torque);
                (0.001 * pow(u, 2.0), inertia * u)
            }
        };
        let costs = pow(angle_normalize(th), 2.0) + 0.1 * pow(thdot, 2.0) + u_cost;
        let newthdot = thdot + (3.0 * g / (2.0 * l) * th.sin() + u_acc) * dt;
        let newthdot = np_clip(newthdot, -self.max_speed, self.max_speed);
        let newth = th + newthdot * dt;
        let s = [newth, newthdot];
        self.state = Some(s);
        write_obs(obs, obs_of(&s))?;
        Ok(Step {
            reward: -costs,
            terminated: false,
            truncated: false,
        })
    }

    unwrapped_env!();
}
