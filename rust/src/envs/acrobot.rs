//! `gymnasium.envs.classic_control.acrobot.AcrobotEnv`.

use std::f64::consts::PI;

use super::math::{numpy_cos_f32, numpy_sin_f32, pow, py_max, py_min};
use super::{
    check_obs, write_obs, Action, ActionSpace, BoxSpace, Env, EnvError, ResetOptions, RngSlot,
    Seed, Step,
};

/// `book_or_nips`: which form of the second link's acceleration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookOrNips {
    Book,
    Nips,
}

/// Acrobot, with `AcrobotEnv`'s class constants as public fields.
#[derive(Debug, Clone)]
pub struct Acrobot {
    pub dt: f64,
    pub link_length_1: f64,
    pub link_length_2: f64,
    pub link_mass_1: f64,
    pub link_mass_2: f64,
    pub link_com_pos_1: f64,
    pub link_com_pos_2: f64,
    pub link_moi: f64,
    pub max_vel_1: f64,
    pub max_vel_2: f64,
    /// `AVAIL_TORQUE = [-1.0, 0.0, +1]`, indexed like a Python list.
    pub avail_torque: [f64; 3],
    pub torque_noise_max: f64,
    pub book_or_nips: BookOrNips,
    /// `[theta1, theta2, dtheta1, dtheta2]`, `None` before the first reset.
    /// After a reset it holds float32 values (Gymnasium stores a float32 array).
    pub state: Option<[f64; 4]>,
    pub np_random: RngSlot,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

/// `wrap(x, m, M)`: shift by `M - m` into `[m, M]`. Python loops forever on
/// an infinite `x`; this returns it unchanged instead.
fn wrap(mut x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    while x > big_m {
        let next = x - diff;
        if next == x {
            break;
        }
        x = next;
    }
    while x < m {
        let next = x + diff;
        if next == x {
            break;
        }
        x = next;
    }
    x
}

/// `bound(x, m, M)`: `min(max(x, m), M)` with Python's builtins.
fn bound(x: f64, m: f64, big_m: f64) -> f64 {
    py_min(py_max(x, m), big_m)
}

impl Acrobot {
    /// `AcrobotEnv()`.
    pub fn new() -> Self {
        Self {
            dt: 0.2,
            link_length_1: 1.0,
            link_length_2: 1.0,
            link_mass_1: 1.0,
            link_mass_2: 1.0,
            link_com_pos_1: 0.5,
            link_com_pos_2: 0.5,
            link_moi: 1.0,
            max_vel_1: 4.0 * PI,
            max_vel_2: 9.0 * PI,
            avail_torque: [-1.0, 0.0, 1.0],
            torque_noise_max: 0.0,
            book_or_nips: BookOrNips::Book,
            state: None,
            np_random: RngSlot::default(),
        }
    }

    /// `_dsdt(s_augmented)` in Python's evaluation order; `sq` holds
    /// `lc1**2, l1**2, lc2**2`, the same glibc `pow` values for every call.
    #[inline]
    fn dsdt(&self, s: &[f64; 5], sq: [f64; 3]) -> [f64; 5] {
        let [lc1_sq, l1_sq, lc2_sq] = sq;
        let m1 = self.link_mass_1;
        let m2 = self.link_mass_2;
        let l1 = self.link_length_1;
        let lc1 = self.link_com_pos_1;
        let lc2 = self.link_com_pos_2;
        let i1 = self.link_moi;
        let i2 = self.link_moi;
        let g = 9.8;
        let a = s[4];
        let [theta1, theta2, dtheta1, dtheta2, _] = *s;
        let cos_t2 = theta2.cos();
        let sin_t2 = theta2.sin();
        let d1 = m1 * lc1_sq + m2 * (l1_sq + lc2_sq + 2.0 * l1 * lc2 * cos_t2) + i1 + i2;
        let d2 = m2 * (lc2_sq + l1 * lc2 * cos_t2) + i2;
        let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
        let phi1 = -m2 * l1 * lc2 * pow(dtheta2, 2.0) * sin_t2
            - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin_t2
            + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
            + phi2;
        let ddtheta2 = match self.book_or_nips {
            BookOrNips::Nips => {
                (a + d2 / d1 * phi1 - phi2) / (m2 * lc2_sq + i2 - pow(d2, 2.0) / d1)
            }
            BookOrNips::Book => {
                (a + d2 / d1 * phi1 - m2 * l1 * lc2 * pow(dtheta1, 2.0) * sin_t2 - phi2)
                    / (m2 * lc2_sq + i2 - pow(d2, 2.0) / d1)
            }
        };
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        [dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0]
    }

    /// `rk4(self._dsdt, s_augmented, [0, self.dt])[:4]`.
    fn rk4(&self, y0: [f64; 5]) -> [f64; 4] {
        let dt = self.dt - 0.0;
        let dt2 = dt / 2.0;
        let axpy = |y: &[f64; 5], h: f64, k: &[f64; 5]| -> [f64; 5] {
            std::array::from_fn(|i| y[i] + h * k[i])
        };
        let sq = [
            pow(self.link_com_pos_1, 2.0),
            pow(self.link_length_1, 2.0),
            pow(self.link_com_pos_2, 2.0),
        ];
        let k1 = self.dsdt(&y0, sq);
        let k2 = self.dsdt(&axpy(&y0, dt2, &k1), sq);
        let k3 = self.dsdt(&axpy(&y0, dt2, &k2), sq);
        let k4 = self.dsdt(&axpy(&y0, dt, &k3), sq);
        let h = dt / 6.0;
        std::array::from_fn(|i| y0[i] + h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
    }

    fn terminal(s: &[f64; 4]) -> bool {
        -s[0].cos() - (s[1] + s[0]).cos() > 1.0
    }
}

impl Env for Acrobot {
    fn obs_dim(&self) -> usize {
        6
    }

    fn observation_space(&self) -> BoxSpace {
        let high = [
            1.0,
            1.0,
            1.0,
            1.0,
            self.max_vel_1 as f32,
            self.max_vel_2 as f32,
        ];
        BoxSpace {
            low: high.iter().map(|h| -h).collect(),
            high: high.to_vec(),
        }
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace::Discrete(3)
    }

    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        check_obs(obs, 6)?;
        let rng = self.np_random.reseed(seed)?;
        let (low, high) = options.bounds(-0.1, 0.1)?;
        let mut s = [0.0; 4];
        rng.uniform_fill(low, high, &mut s)?;
        // `.astype(np.float32)`: the state is float32 until the first step, and
        // np.cos/np.sin on float32 run NumPy's own float32 kernel
        let s32 = s.map(|v| v as f32);
        self.state = Some(s32.map(f64::from));
        write_obs(
            obs,
            [
                numpy_cos_f32(s32[0]),
                numpy_sin_f32(s32[0]),
                numpy_cos_f32(s32[1]),
                numpy_sin_f32(s32[1]),
                s32[2],
                s32[3],
            ],
        )
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        let s = self.state.ok_or(EnvError::NotReset(
            "Call reset before using AcrobotEnv object.",
        ))?;
        // `self.AVAIL_TORQUE[a]`: Python list indexing, negatives from the end
        let mut torque = match action {
            Action::Discrete(a) => {
                let index = if a < 0 { a + 3 } else { a };
                match usize::try_from(index).ok().filter(|&i| i < 3) {
                    Some(i) => self.avail_torque[i],
                    None => return Err(EnvError::ActionIndex("list index out of range".into())),
                }
            }
            _ => {
                return Err(EnvError::ActionType(
                    "only integer scalar arrays can be converted to a scalar index".into(),
                ))
            }
        };
        check_obs(obs, 6)?;
        if self.torque_noise_max > 0.0 {
            let noise = self
                .np_random
                .reseed(None)?
                .uniform(-self.torque_noise_max, self.torque_noise_max)?;
            torque += noise;
        }
        let ns = self.rk4([s[0], s[1], s[2], s[3], torque]);
        let ns = [
            wrap(ns[0], -PI, PI),
            wrap(ns[1], -PI, PI),
            bound(ns[2], -self.max_vel_1, self.max_vel_1),
            bound(ns[3], -self.max_vel_2, self.max_vel_2),
        ];
        self.state = Some(ns);
        let terminated = Self::terminal(&ns);
        write_obs(
            obs,
            [
                ns[0].cos() as f32,
                ns[0].sin() as f32,
                ns[1].cos() as f32,
                ns[1].sin() as f32,
                ns[2] as f32,
                ns[3] as f32,
            ],
        )?;
        Ok(Step {
            reward: if terminated { 0.0 } else { -1.0 },
            terminated,
            truncated: false,
        })
    }

    unwrapped_env!();
}
