//! The rollout core driving Python envs and policies: `rollout` and `EpisodeBar`.
//!
//! Envs are stepped as `spinfast.envs` does it (Gymnasium's 5-tuple or old gym's
//! 4-tuple, read here; anything else goes to `spinfast.envs.unpack_step`, which
//! handles it or raises the error; resets go through `spinfast.envs.reset`).
//! Every Python exception comes out as raised, with its traceback; signals are
//! checked after every step, so Ctrl-C raises `KeyboardInterrupt`; a panic
//! becomes a `RuntimeError`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::{intern, PyErr};

use crate::rollout::{
    run, Env, Episode, EpisodeBar, EpisodePlan, Hooks, Policy, RolloutError, RunConfig, Transition,
};

impl From<RolloutError> for PyErr {
    fn from(err: RolloutError) -> PyErr {
        match err {
            RolloutError::Internal(_) => PyRuntimeError::new_err(err.to_string()),
            _ => PyValueError::new_err(err.to_string()),
        }
    }
}

/// A Python env, Gymnasium or old gym.
struct PyEnv<'py> {
    env: Bound<'py, PyAny>,
    /// `spinfast.envs.reset` and `spinfast.envs.unpack_step`.
    reset: Bound<'py, PyAny>,
    unpack_step: Bound<'py, PyAny>,
}

impl<'py> Env for PyEnv<'py> {
    type Obs = Bound<'py, PyAny>;
    type Action = Bound<'py, PyAny>;
    type Error = PyErr;

    fn reset(&mut self, seed: Option<i64>) -> PyResult<Self::Obs> {
        self.reset.call1((&self.env, seed))
    }

    fn step(&mut self, action: Self::Action) -> PyResult<Transition<Self::Obs>> {
        let py = self.env.py();
        let out = self.env.call_method1(intern!(py, "step"), (action,))?;
        if let Some(transition) = read_step_tuple(&out)? {
            return Ok(transition);
        }
        let (obs, reward, done) =
            self.unpack_step
                .call1((&self.env, out))?
                .extract::<(Bound<'py, PyAny>, f64, bool)>()?;
        Ok(Transition { obs, reward, done })
    }

    fn render(&mut self) -> PyResult<()> {
        let py = self.env.py();
        self.env.call_method0(intern!(py, "render"))?;
        // as Spinning Up's loop does (time.sleep(1e-3)), without holding the GIL
        py.detach(|| std::thread::sleep(Duration::from_millis(1)));
        Ok(())
    }
}

/// `(obs, reward, terminated, truncated, info)` or `(obs, reward, done, info)`
/// with a float reward, read as `spinfast.envs.unpack_step` reads it; `None`
/// for anything else, left to that function.
fn read_step_tuple<'py>(
    out: &Bound<'py, PyAny>,
) -> PyResult<Option<Transition<Bound<'py, PyAny>>>> {
    let Ok(tuple) = out.cast::<PyTuple>() else {
        return Ok(None);
    };
    let n = tuple.len();
    if n != 5 && n != 4 {
        return Ok(None);
    }
    let Ok(reward) = tuple.get_item(1)?.extract::<f64>() else {
        return Ok(None); // float() of something else: spinfast.envs decides
    };
    // Python's `bool(terminated or truncated)`: truncated only read when needed
    let done = tuple.get_item(2)?.is_truthy()? || (n == 5 && tuple.get_item(3)?.is_truthy()?);
    Ok(Some(Transition {
        obs: tuple.get_item(0)?,
        reward,
        done,
    }))
}

/// A Python policy: called once per observation, or once per step on the
/// observations stacked with `numpy.stack` (shape `(n, *obs_shape)`), giving
/// `n` actions. (A native evaluator is one more `Policy` impl, called without
/// going through Python.)
enum PyPolicy<'py> {
    PerObs(Bound<'py, PyAny>),
    Batched {
        policy: Bound<'py, PyAny>,
        stack: Bound<'py, PyAny>,
    },
}

impl<'py> Policy<Bound<'py, PyAny>> for PyPolicy<'py> {
    type Action = Bound<'py, PyAny>;
    type Error = PyErr;

    fn act(&mut self, obs: &[Bound<'py, PyAny>], actions: &mut Vec<Self::Action>) -> PyResult<()> {
        match self {
            PyPolicy::PerObs(policy) => {
                for o in obs {
                    actions.push(policy.call1((o,))?);
                }
            }
            PyPolicy::Batched { policy, stack } => {
                let batch = stack.call1((PyList::new(policy.py(), obs)?,))?;
                let out = policy.call1((batch,))?;
                let got = out.len()?;
                if got != obs.len() {
                    return Err(RolloutError::ActionCount {
                        expected: obs.len(),
                        got,
                    }
                    .into());
                }
                for i in 0..got {
                    actions.push(out.get_item(i)?);
                }
            }
        }
        Ok(())
    }
}

/// Checks for signals after every step, moves the bar, and hands each episode
/// to the Python callback (with the bar cleared while it prints).
struct PyHooks<'py> {
    py: Python<'py>,
    on_episode: Option<Bound<'py, PyAny>>,
    bar: EpisodeBar,
}

impl Hooks for PyHooks<'_> {
    type Error = PyErr;

    fn on_step(&mut self, env_steps: usize, finished: usize) -> PyResult<()> {
        self.bar.advance(env_steps as u64, finished as u64);
        self.py.check_signals()
    }

    fn on_episode(&mut self, episode: &Episode) -> PyResult<()> {
        match &self.on_episode {
            None => Ok(()),
            Some(callback) => self
                .bar
                .suspend(|| callback.call1((episode.index, episode.ret, episode.length)))
                .map(drop),
        }
    }
}

/// Runs `num_episodes` episodes on `envs` stepped in lockstep and returns them
/// as `(index, return, length)` in index order. See `_core.pyi`.
#[pyfunction]
#[pyo3(signature = (
    envs, policy, num_episodes, *, batched=false, max_ep_len=None, render=false, seed=None,
    on_episode=None, progress=false,
))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of a Python function
pub fn rollout<'py>(
    py: Python<'py>,
    envs: Vec<Bound<'py, PyAny>>,
    policy: Bound<'py, PyAny>,
    num_episodes: usize,
    batched: bool,
    max_ep_len: Option<u64>,
    render: bool,
    seed: Option<i64>,
    on_episode: Option<Bound<'py, PyAny>>,
    progress: bool,
) -> PyResult<Vec<(usize, f64, u64)>> {
    let config = RunConfig {
        plan: EpisodePlan::new(num_episodes, envs.len())?,
        max_ep_len: max_ep_len.filter(|&n| n > 0),
        render,
        seed,
    };
    let spinfast_envs = py.import("spinfast.envs")?;
    let reset = spinfast_envs.getattr("reset")?;
    let unpack_step = spinfast_envs.getattr("unpack_step")?;
    let mut envs: Vec<PyEnv<'py>> = envs
        .into_iter()
        .map(|env| PyEnv {
            env,
            reset: reset.clone(),
            unpack_step: unpack_step.clone(),
        })
        .collect();
    let mut policy = if batched {
        PyPolicy::Batched {
            policy,
            stack: py.import("numpy")?.getattr("stack")?,
        }
    } else {
        PyPolicy::PerObs(policy)
    };
    let mut hooks = PyHooks {
        py,
        on_episode,
        bar: EpisodeBar::new(num_episodes as u64, progress),
    };
    let episodes = catch_unwind(AssertUnwindSafe(|| {
        run(&mut envs, &mut policy, &config, &mut hooks)
    }))
    .map_err(|panic| RolloutError::Internal(panic_message(panic.as_ref())))??;
    Ok(episodes
        .into_iter()
        .map(|e| (e.index, e.ret, e.length))
        .collect())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The progress bar for the Python engine, the same as the Rust engine's.
#[pyclass(name = "EpisodeBar", module = "spinfast._core")]
pub struct PyEpisodeBar(EpisodeBar);

#[pymethods]
impl PyEpisodeBar {
    #[new]
    #[pyo3(signature = (total, visible=true))]
    fn new(total: u64, visible: bool) -> Self {
        Self(EpisodeBar::new(total, visible))
    }

    fn advance(&self, steps: u64, episodes: u64) {
        self.0.advance(steps, episodes);
    }

    #[getter]
    fn steps(&self) -> u64 {
        self.0.steps()
    }

    fn suspend<'py>(&self, f: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.0.suspend(|| f.call0())
    }

    fn close(&self) {
        self.0.finish();
    }
}
