//! `gymnasium.envs.classic_control.mountain_car.MountainCarEnv` and
//! `continuous_mountain_car.Continuous_MountainCarEnv`.

use super::math::{np_clip, pow, Num};
use super::{
    check_obs, write_obs, Action, ActionSpace, BoxSpace, Env, EnvError, FirstAction, ResetOptions,
    RngSlot, Seed, Step,
};

/// MountainCar (discrete), with `MountainCarEnv.__init__`'s constants as
/// public fields.
#[derive(Debug, Clone)]
pub struct MountainCar {
    pub min_position: f64,
    pub max_position: f64,
    pub max_speed: f64,
    pub goal_position: f64,
    pub goal_velocity: f64,
    pub force: f64,
    pub gravity: f64,
    /// `(position, velocity)`, `None` before the first reset.
    pub state: Option<[f64; 2]>,
    pub np_random: RngSlot,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCar {
    /// `MountainCarEnv(goal_velocity=0)`.
    pub fn new() -> Self {
        Self {
            min_position: -1.2,
            max_position: 0.6,
            max_speed: 0.07,
            goal_position: 0.5,
            goal_velocity: 0.0,
            force: 0.001,
            gravity: 0.0025,
            state: None,
            np_random: RngSlot::default(),
        }
    }
}

/// `np.array([self.np_random.uniform(low=low, high=high), 0])`, both cars' reset.
fn reset_state(
    rng: &mut RngSlot,
    seed: Option<&Seed>,
    options: &ResetOptions,
) -> Result<[f64; 2], EnvError> {
    let rng = rng.reseed(seed)?;
    let (low, high) = options.bounds(-0.6, -0.4)?;
    Ok([rng.uniform(low, high)?, 0.0])
}

impl Env for MountainCar {
    fn obs_dim(&self) -> usize {
        2
    }

    fn observation_space(&self) -> BoxSpace {
        BoxSpace {
            low: vec![self.min_position as f32, -self.max_speed as f32],
            high: vec![self.max_position as f32, self.max_speed as f32],
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
        check_obs(obs, 2)?;
        let s = reset_state(&mut self.np_random, seed, options)?;
        self.state = Some(s);
        write_obs(obs, s.map(|v| v as f32))
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        let a = action.discrete_in(3)?;
        let [mut position, mut velocity] = self
            .state
            .ok_or(EnvError::NotReset("Call reset before using step method."))?;
        check_obs(obs, 2)?;
        velocity += (a - 1) as f64 * self.force + (3.0 * position).cos() * (-self.gravity);
        velocity = np_clip(velocity, -self.max_speed, self.max_speed);
        position += velocity;
        position = np_clip(position, self.min_position, self.max_position);
        if position == self.min_position && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= self.goal_position && velocity >= self.goal_velocity;
        let s = [position, velocity];
        self.state = Some(s);
        write_obs(obs, s.map(|v| v as f32))?;
        Ok(Step {
            reward: -1.0,
            terminated,
            truncated: false,
        })
    }

    unwrapped_env!();
}

/// MountainCarContinuous, with `Continuous_MountainCarEnv.__init__`'s
/// constants as public fields.
///
/// Its state is float64 after a reset and float32 after every step, and the
/// step mixes it with Python floats and the float32 action, so the state keeps
/// its NumPy type ([`Num`] promotes as NumPy 2 does).
#[derive(Debug, Clone)]
pub struct MountainCarContinuous {
    pub min_action: f64,
    pub max_action: f64,
    pub min_position: f64,
    pub max_position: f64,
    pub max_speed: f64,
    pub goal_position: f64,
    pub goal_velocity: f64,
    pub power: f64,
    /// `[position, velocity]`: float64 after a reset, float32 after a step.
    state: Option<[Num; 2]>,
    pub np_random: RngSlot,
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCarContinuous {
    /// `Continuous_MountainCarEnv(goal_velocity=0)`.
    pub fn new() -> Self {
        Self {
            min_action: -1.0,
            max_action: 1.0,
            min_position: -1.2,
            max_position: 0.6,
            max_speed: 0.07,
            goal_position: 0.45,
            goal_velocity: 0.0,
            power: 0.0015,
            state: None,
            np_random: RngSlot::default(),
        }
    }

    /// `[position, velocity]` as doubles, `None` before the first reset.
    pub fn state(&self) -> Option<[f64; 2]> {
        self.state.map(|s| s.map(Num::f64))
    }

    /// Set the state as Gymnasium holds it after a step (a float32 array).
    pub fn set_state_f32(&mut self, state: [f32; 2]) {
        self.state = Some(state.map(Num::F32));
    }
}

impl Env for MountainCarContinuous {
    fn obs_dim(&self) -> usize {
        2
    }

    fn observation_space(&self) -> BoxSpace {
        BoxSpace {
            low: vec![self.min_position as f32, -self.max_speed as f32],
            high: vec![self.max_position as f32, self.max_speed as f32],
        }
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace::Box(BoxSpace {
            low: vec![self.min_action as f32],
            high: vec![self.max_action as f32],
        })
    }

    fn reset(
        &mut self,
        seed: Option<&Seed>,
        options: &ResetOptions,
        obs: &mut [f32],
    ) -> Result<(), EnvError> {
        check_obs(obs, 2)?;
        let s = reset_state(&mut self.np_random, seed, options)?;
        self.state = Some(s.map(Num::F64));
        write_obs(obs, s.map(|v| v as f32))
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<Step, EnvError> {
        let [mut position, mut velocity] = self
            .state
            .ok_or(EnvError::NotReset("Call reset before using step method."))?;
        let a = match action
            .first(|| EnvError::ActionType("'int' object is not subscriptable".into()))?
        {
            FirstAction::F32(a) => Num::F32(a),
            FirstAction::F64(a) => Num::F64(a),
        };
        check_obs(obs, 2)?;
        let py = Num::Py;
        // force = min(max(action[0], self.min_action), self.max_action)
        let mut force = a;
        if py(self.min_action).gt(force) {
            force = py(self.min_action);
        }
        if py(self.max_action).lt(force) {
            force = py(self.max_action);
        }
        // velocity += force * self.power - 0.0025 * math.cos(3 * position)
        let cos = (py(3.0).mul(position)).f64().cos();
        velocity = velocity.add(force.mul(py(self.power)).sub(py(0.0025 * cos)));
        if velocity.gt(py(self.max_speed)) {
            velocity = py(self.max_speed);
        }
        if velocity.lt(py(-self.max_speed)) {
            velocity = py(-self.max_speed);
        }
        position = position.add(velocity);
        if position.gt(py(self.max_position)) {
            position = py(self.max_position);
        }
        if position.lt(py(self.min_position)) {
            position = py(self.min_position);
        }
        if position.eq(py(self.min_position)) && velocity.lt(py(0.0)) {
            velocity = py(0.0);
        }
        let terminated = position.ge(py(self.goal_position)) && velocity.ge(py(self.goal_velocity));
        // reward = 0; if terminated: reward = 100.0; reward -= math.pow(action[0], 2) * 0.1
        let base = if terminated { 100.0 } else { 0.0 };
        let reward = base - pow(a.f64(), 2.0) * 0.1;
        let s = [Num::F32(position.f32()), Num::F32(velocity.f32())];
        self.state = Some(s);
        write_obs(obs, s.map(Num::f32))?;
        Ok(Step {
            reward,
            terminated,
            truncated: false,
        })
    }

    unwrapped_env!();
}
