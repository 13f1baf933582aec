//! The native envs as seen from Python: `NativeEnv` and `native_env_ids`.
//!
//! `spinfast.native.NativeEnv` wraps this class in Gymnasium's `Env` API (spaces,
//! `spec`, info dicts); here are the calls that step in Rust. Seeds and actions
//! are checked as Gymnasium checks them, with its errors (`python/errors.rs`).

use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyAssertionError, PyIndexError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt};

use super::errors::GymnasiumError;
use crate::envs::{
    self, make, set_constant, set_generator, Action, ActionSpace, Constant, EnvError, EnvKwargs,
    NpRandom, ResetOptions, Seed, REGISTRY,
};

/// The ids `NativeEnv` makes, in registry order.
#[pyfunction]
pub fn native_env_ids() -> Vec<&'static str> {
    REGISTRY.iter().map(|spec| spec.id).collect()
}

/// One of Gymnasium's classic-control envs, stepped in Rust, wrapped as
/// `gymnasium.make(id)` wraps it (`TimeLimit(OrderEnforcing(env))`).
/// `spinfast.native.NativeEnv` subclasses it with Gymnasium's API; the rollout
/// steps it in Rust, with no Python call, when the policy is native too.
#[pyclass(module = "spinfast._core", subclass)]
pub struct NativeEnv {
    pub(crate) env: Box<dyn envs::Env>,
    /// The observation buffer `reset` and `step` write into.
    obs: Vec<f32>,
    discrete: bool,
}

#[pymethods]
impl NativeEnv {
    #[new]
    #[pyo3(signature = (id, *, max_episode_steps=None, sutton_barto_reward=None, g=None, goal_velocity=None))]
    fn new(
        id: &str,
        max_episode_steps: Option<i64>,
        sutton_barto_reward: Option<bool>,
        g: Option<f64>,
        goal_velocity: Option<f64>,
    ) -> PyResult<Self> {
        let kwargs = EnvKwargs {
            max_episode_steps,
            sutton_barto_reward,
            g,
            goal_velocity,
        };
        let env = make(id, &kwargs)?;
        let discrete = matches!(env.action_space(), ActionSpace::Discrete(_));
        Ok(Self {
            obs: vec![0.0; env.obs_dim()],
            env,
            discrete,
        })
    }

    /// Start an episode: `seed` (a non-negative Python int of any size) reseeds
    /// the generator, None continues it. `options` may hold `low`/`high`
    /// (`x_init`/`y_init` for Pendulum). Returns the first observation.
    #[pyo3(signature = (seed=None, options=None))]
    fn native_reset<'py>(
        &mut self,
        py: Python<'py>,
        seed: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let seed = seed.map(seed_from_python).transpose()?;
        let mut opts = ResetOptions::default();
        if let Some(options) = options {
            for (key, slot) in [
                ("low", &mut opts.low),
                ("high", &mut opts.high),
                ("x_init", &mut opts.x_init),
                ("y_init", &mut opts.y_init),
            ] {
                if let Some(value) = options.get_item(key)? {
                    *slot = Some(value.extract::<f64>()?);
                }
            }
        }
        self.env.reset(seed.as_ref(), &opts, &mut self.obs)?;
        Ok(PyArray1::from_slice(py, &self.obs))
    }

    /// One step: `(obs, reward, terminated, truncated)`.
    fn native_step<'py>(
        &mut self,
        py: Python<'py>,
        action: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, f64, bool, bool)> {
        let step = if self.discrete {
            let action = discrete_action(action)?;
            self.env.step(Action::Discrete(action), &mut self.obs)?
        } else if let Ok(a) = action.cast::<PyArrayDyn<f32>>() {
            let values = a.to_vec()?;
            self.env
                .step(continuous(a.ndim(), &values)?, &mut self.obs)?
        } else {
            if action.is_instance_of::<PyFloat>() || action.is_instance_of::<PyInt>() {
                // np.clip(u, ...)[0] on a Python number: NumPy's error
                return Err(PyIndexError::new_err("invalid index to scalar variable."));
            }
            let a = action.extract::<numpy::PyArrayLikeDyn<'py, f64, numpy::AllowTypeChange>>()?;
            let values = a.as_array().iter().copied().collect::<Vec<f64>>();
            let step_action = if a.ndim() == 0 {
                return Err(zero_dim());
            } else {
                Action::Continuous64(&values)
            };
            self.env.step(step_action, &mut self.obs)?
        };
        Ok((
            PyArray1::from_slice(py, &self.obs),
            step.reward,
            step.terminated,
            step.truncated,
        ))
    }

    /// Set constants by their attribute names on Gymnasium's env (e.g.
    /// `{"gravity": 20.0}`); returns the names this env does not have.
    fn set_constants(&mut self, constants: &Bound<'_, PyDict>) -> PyResult<Vec<String>> {
        let mut unknown = Vec::new();
        for (key, value) in constants.iter() {
            let name: String = key.extract()?;
            let text;
            let value = if value.is_instance_of::<PyBool>() {
                Constant::Bool(value.extract()?)
            } else if let Ok(v) = value.extract::<f64>() {
                Constant::Float(v)
            } else {
                text = value.extract::<String>()?;
                Constant::Text(&text)
            };
            if !set_constant(self.env.as_mut(), &name, value) {
                unknown.push(name);
            }
        }
        Ok(unknown)
    }

    /// Continue from a NumPy `PCG64`'s state (`bit_generator.state["state"]`'s
    /// `state` and `inc`), with Gymnasium's `np_random_seed`: the next unseeded
    /// reset draws what the Python env's would.
    #[pyo3(signature = (state, inc, seed=None))]
    fn set_generator(
        &mut self,
        state: u128,
        inc: u128,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let seed = seed.map(seed_from_python).transpose()?;
        let rng = NpRandom::from_numpy_state(state, inc);
        if !set_generator(self.env.as_mut(), rng, seed) {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "internal error: a native env without a generator",
            ));
        }
        Ok(())
    }

    /// The observation space's `(low, high)`, float32.
    #[getter]
    fn observation_bounds<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<f32>>) {
        let space = self.env.observation_space();
        (
            PyArray1::from_slice(py, &space.low),
            PyArray1::from_slice(py, &space.high),
        )
    }

    /// The action space: `n` for a discrete one, else its `(low, high)`.
    #[getter]
    fn action_bounds<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.env.action_space() {
            ActionSpace::Discrete(n) => Ok(n.into_pyobject(py)?.into_any()),
            ActionSpace::Box(space) => Ok((
                PyArray1::from_slice(py, &space.low),
                PyArray1::from_slice(py, &space.high),
            )
                .into_pyobject(py)?
                .into_any()),
        }
    }

    /// Gymnasium's `np_random_seed`: the seed of the current generator, or None.
    #[getter]
    fn np_random_seed<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(seed) = self.env.np_random_seed() else {
            return Ok(None);
        };
        // a Python int from the seed's little-endian 32-bit words
        let mut value = 0u32.into_pyobject(py)?.into_any();
        for (i, word) in seed.words().iter().enumerate() {
            let shifted = (*word as u64)
                .into_pyobject(py)?
                .call_method1("__lshift__", (32 * i,))?;
            value = value.call_method1("__or__", (shifted,))?;
        }
        Ok(Some(value))
    }
}

/// A seed as Gymnasium's `seeding.np_random` takes it: a Python int >= 0.
fn seed_from_python(seed: &Bound<'_, PyAny>) -> PyResult<Seed> {
    if !seed.is_instance_of::<PyInt>() {
        let kind = seed.get_type().repr()?;
        return Err(GymnasiumError::new_err(format!(
            "Seed must be a python integer, actual type: {kind}"
        )));
    }
    if let Ok(small) = seed.extract::<u128>() {
        return Ok(Seed::from(small));
    }
    if seed.lt(0)? {
        return Err(EnvError::NegativeSeed(seed.extract::<i128>().unwrap_or(i128::MIN)).into());
    }
    // more than 128 bits: its little-endian bytes, as 32-bit words
    let bits: usize = seed.call_method0("bit_length")?.extract()?;
    let bytes: Vec<u8> = seed
        .call_method1("to_bytes", (bits.div_ceil(32) * 4, "little"))?
        .extract()?;
    let words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    Ok(Seed::from_le_words(&words))
}

/// A discrete action as `Discrete.contains` takes it: an int or a NumPy
/// integer (scalar or 0-d array); anything else fails Gymnasium's assertion.
fn discrete_action(action: &Bound<'_, PyAny>) -> PyResult<i64> {
    let integral = action.is_instance_of::<PyInt>()
        || action
            .getattr("dtype")
            .and_then(|d| d.getattr("kind"))
            .and_then(|k| k.extract::<String>())
            .is_ok_and(|k| k == "i" || k == "u")
            && action
                .getattr("shape")
                .and_then(|s| s.len())
                .is_ok_and(|n| n == 0);
    if integral {
        if let Ok(a) = action.extract::<i64>() {
            return Ok(a);
        }
    }
    let text = format!("{} ({}) invalid", action.repr()?, action.get_type().repr()?);
    Err(PyAssertionError::new_err(text))
}

/// A float32 action array as the env takes it.
fn continuous(ndim: usize, values: &[f32]) -> PyResult<Action<'_>> {
    if ndim == 0 {
        return Err(zero_dim());
    }
    Ok(Action::Continuous(values))
}

fn zero_dim() -> PyErr {
    PyIndexError::new_err("too many indices for array: array is 0-dimensional, but 1 were indexed")
}
