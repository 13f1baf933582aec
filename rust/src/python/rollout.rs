//! The episode loop as seen from Python: `rollout` and `Episode`.
//!
//! `rollout` runs [`crate::rollout::run`] over Python envs and either a native
//! policy, called directly in Rust (observations batched here, no Python frame,
//! no `numpy.stack`), or a Python callable. How each env is reset and seeded is
//! decided once per env (`spinfast.agent.envs.reset_style`), not per episode;
//! Gymnasium's 5-tuple and old gym's 4-tuple steps are read here. Python
//! exceptions come out as raised, with their traceback; signals are checked
//! after every step, so Ctrl-C raises `KeyboardInterrupt`.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use pyo3::{intern, PyErr};

use super::envs::NativeEnv;
use super::errors::EnvironmentMismatch;
use super::policy::NativePolicy;
use crate::panic::catch;
use crate::rollout::{
    run, Env, Episode as RustEpisode, EpisodeBar, EpisodePlan, Hooks, NativeActor,
    NativeEnv as LoopEnv, NativeError, Policy, RolloutError, RunConfig, Transition,
};

/// One finished episode: its number, return and length.
#[pyclass(module = "spinfast._core", frozen, eq)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// Its number, from 0: episode `k` resets with seed `seed + k`.
    #[pyo3(get)]
    index: usize,
    /// Its return: the sum of its rewards.
    #[pyo3(get)]
    ret: f64,
    /// Its number of steps.
    #[pyo3(get)]
    length: u64,
}

#[pymethods]
impl Episode {
    #[new]
    fn new(index: usize, ret: f64, length: u64) -> Self {
        Self { index, ret, length }
    }

    fn __repr__(&self) -> String {
        format!(
            "Episode(index={}, ret={}, length={})",
            self.index,
            python_float(self.ret),
            self.length
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let e = slf.get();
        (slf.get_type(), (e.index, e.ret, e.length)).into_pyobject(slf.py())
    }
}

impl From<&RustEpisode> for Episode {
    fn from(e: &RustEpisode) -> Self {
        Self {
            index: e.index,
            ret: e.ret,
            length: e.length,
        }
    }
}

/// `repr(float)`: `500.0`, not Rust's `500`.
fn python_float(x: f64) -> String {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// How an env is reset with a seed, decided once per env.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResetStyle {
    /// Gymnasium: `reset(seed=s)`.
    Keyword,
    /// Old gym: `seed(s)`, then `reset()`.
    SeedMethod,
    /// Neither: an unseeded reset only.
    Unseedable,
}

/// A Python env, Gymnasium or old gym.
struct PyEnv<'py> {
    env: Bound<'py, PyAny>,
    style: ResetStyle,
    /// `spinfast.agent.envs.unpack_step`, for a step result not read here.
    unpack_step: Bound<'py, PyAny>,
}

impl<'py> PyEnv<'py> {
    fn new(
        env: Bound<'py, PyAny>,
        reset_style: &Bound<'py, PyAny>,
        unpack_step: &Bound<'py, PyAny>,
    ) -> PyResult<Self> {
        let style = match reset_style.call1((&env,))?.extract::<String>()?.as_str() {
            "keyword" => ResetStyle::Keyword,
            "seed_method" => ResetStyle::SeedMethod,
            _ => ResetStyle::Unseedable,
        };
        Ok(Self {
            env,
            style,
            unpack_step: unpack_step.clone(),
        })
    }
}

impl<'py> Env for PyEnv<'py> {
    type Obs = Bound<'py, PyAny>;
    type Action = Bound<'py, PyAny>;
    type Error = PyErr;

    fn reset(&mut self, seed: Option<i64>) -> PyResult<Self::Obs> {
        let py = self.env.py();
        let reset = intern!(py, "reset");
        let out = match (seed, self.style) {
            (None, _) => self.env.call_method0(reset)?,
            (Some(seed), ResetStyle::Keyword) => {
                let kwargs = PyDict::new(py);
                kwargs.set_item(intern!(py, "seed"), seed)?;
                self.env.call_method(reset, (), Some(&kwargs))?
            }
            (Some(seed), ResetStyle::SeedMethod) => {
                self.env.call_method1(intern!(py, "seed"), (seed,))?;
                self.env.call_method0(reset)?
            }
            (Some(_), ResetStyle::Unseedable) => {
                let name = self.env.get_type().name()?;
                return Err(EnvironmentMismatch::new_err(format!(
                    "{name} cannot be seeded: its reset() takes no seed and it has no seed() method"
                )));
            }
        };
        // Gymnasium's (obs, info), or old gym's obs
        if let Ok(pair) = out.cast::<PyTuple>() {
            if pair.len() == 2 && pair.get_item(1)?.is_instance_of::<PyDict>() {
                return pair.get_item(0);
            }
        }
        Ok(out)
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
/// with a float reward, read as `spinfast.agent.envs.unpack_step` reads it;
/// `None` for anything else, left to that function.
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
        return Ok(None); // float() of something else: unpack_step decides
    };
    // Python's `bool(terminated or truncated)`: truncated only read when needed
    let done = tuple.get_item(2)?.is_truthy()? || (n == 5 && tuple.get_item(3)?.is_truthy()?);
    Ok(Some(Transition {
        obs: tuple.get_item(0)?,
        reward,
        done,
    }))
}

/// The policy of a rollout.
enum PyPolicy<'a, 'py> {
    /// Native: evaluated in Rust on the observations batched here.
    Native(&'a mut NativePolicy),
    /// A Python callable, once per observation.
    PerObs(Bound<'py, PyAny>),
    /// A Python `batch` method, once per step on the observations stacked by
    /// `numpy.stack` (shape `(n, *obs_shape)`), giving `n` actions.
    Batched {
        batch: Bound<'py, PyAny>,
        stack: Bound<'py, PyAny>,
    },
}

impl<'py> Policy<Bound<'py, PyAny>> for PyPolicy<'_, 'py> {
    type Action = Bound<'py, PyAny>;
    type Error = PyErr;

    fn act(&mut self, obs: &[Bound<'py, PyAny>], actions: &mut Vec<Self::Action>) -> PyResult<()> {
        match self {
            PyPolicy::Native(policy) => {
                let Some(first) = obs.first() else {
                    return Ok(());
                };
                policy.act_each(first.py(), obs, actions)?;
            }
            PyPolicy::PerObs(policy) => {
                for o in obs {
                    actions.push(policy.call1((o,))?);
                }
            }
            PyPolicy::Batched { batch, stack } => {
                let stacked = stack.call1((PyList::new(batch.py(), obs)?,))?;
                let out = batch.call1((stacked,))?;
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

    fn on_episode(&mut self, episode: &RustEpisode) -> PyResult<()> {
        match &self.on_episode {
            None => Ok(()),
            Some(callback) => self
                .bar
                .suspend(|| callback.call1((Episode::from(episode),)))
                .map(drop),
        }
    }
}

/// The loop's plan: for each of `num_envs` envs, the numbers of the episodes it
/// runs, in the order it runs them (see `EpisodePlan`).
#[pyfunction]
pub fn episode_numbers(num_episodes: usize, num_envs: usize) -> PyResult<Vec<Vec<usize>>> {
    let plan = EpisodePlan::new(num_episodes, num_envs)?;
    Ok((0..num_envs)
        .map(|env| {
            (0..plan.shares()[env])
                .map(|j| plan.number(env, j))
                .collect()
        })
        .collect())
}

/// Runs `num_episodes` episodes on `envs` stepped in lockstep and returns them
/// in number order. See `_core.pyi`.
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
) -> PyResult<Vec<Episode>> {
    let config = RunConfig {
        plan: EpisodePlan::new(num_episodes, envs.len())?,
        max_ep_len: max_ep_len.filter(|&n| n > 0),
        render,
        seed,
    };
    if !render {
        if let Some(episodes) = run_native(py, &envs, &policy, &config, &on_episode, progress)? {
            return Ok(episodes);
        }
    }
    let calls = py.import(intern!(py, "spinfast.agent.envs"))?;
    let reset_style = calls.getattr(intern!(py, "reset_style"))?;
    let unpack_step = calls.getattr(intern!(py, "unpack_step"))?;
    let mut py_envs = Vec::with_capacity(envs.len());
    for env in envs {
        py_envs.push(PyEnv::new(env, &reset_style, &unpack_step)?);
    }
    let mut native = policy.cast::<NativePolicy>().ok().map(|p| p.borrow_mut());
    let mut policy = match native.as_deref_mut() {
        Some(native) => PyPolicy::Native(native),
        None => match policy.getattr_opt(intern!(py, "batch"))? {
            Some(batch) if batched => PyPolicy::Batched {
                batch,
                stack: py
                    .import(intern!(py, "numpy"))?
                    .getattr(intern!(py, "stack"))?,
            },
            _ => PyPolicy::PerObs(policy),
        },
    };
    let mut hooks = PyHooks {
        py,
        on_episode,
        bar: EpisodeBar::new(num_episodes as u64, progress),
    };
    let episodes = catch(|| run(&mut py_envs, &mut policy, &config, &mut hooks))??;
    Ok(episodes.iter().map(Episode::from).collect())
}

/// Runs the episodes with no Python in the loop, the GIL released, when the
/// policy and every env are native (and each env appears once); otherwise
/// `None`, and the caller runs them through Python.
fn run_native(
    py: Python<'_>,
    envs: &[Bound<'_, PyAny>],
    policy: &Bound<'_, PyAny>,
    config: &RunConfig,
    on_episode: &Option<Bound<'_, PyAny>>,
    progress: bool,
) -> PyResult<Option<Vec<Episode>>> {
    let Ok(policy) = policy.cast::<NativePolicy>() else {
        return Ok(None);
    };
    let mut guards = Vec::with_capacity(envs.len());
    for env in envs {
        match env.cast::<NativeEnv>().map(|e| e.try_borrow_mut()) {
            Ok(Ok(guard)) => guards.push(guard),
            _ => return Ok(None), // not native, or the same env twice
        }
    }
    let Ok(mut policy) = policy.try_borrow_mut() else {
        return Ok(None);
    };
    let evaluator = policy.evaluator_mut();
    let mut loop_envs = Vec::with_capacity(guards.len());
    for guard in guards.iter_mut() {
        loop_envs.push(LoopEnv::<PyErr>::new(guard.env.as_mut())?);
    }
    let mut hooks = NativeHooks {
        on_episode: on_episode.as_ref().map(|f| f.clone().unbind()),
        bar: EpisodeBar::new(config.plan.num_episodes() as u64, progress),
        steps_since_check: 0,
    };
    let episodes = py.detach(|| {
        let mut actor = NativeActor::new(evaluator);
        catch(|| run(&mut loop_envs, &mut actor, config, &mut hooks))
    })?;
    match episodes {
        Ok(episodes) => Ok(Some(episodes.iter().map(Episode::from).collect())),
        Err(err) => {
            if matches!(err, NativeError::Policy(_)) {
                policy.reset_plans();
            }
            Err(err.into())
        }
    }
}

/// The hooks of a native run, which holds no GIL: each episode is handed to the
/// callback with the GIL taken for it; signals are checked every 1,000 env steps.
struct NativeHooks {
    on_episode: Option<Py<PyAny>>,
    bar: EpisodeBar,
    steps_since_check: usize,
}

impl Hooks for NativeHooks {
    type Error = NativeError<PyErr>;

    fn on_step(&mut self, env_steps: usize, finished: usize) -> Result<(), Self::Error> {
        self.bar.advance(env_steps as u64, finished as u64);
        self.steps_since_check += env_steps;
        if self.steps_since_check >= 1000 {
            self.steps_since_check = 0;
            Python::attach(|py| py.check_signals()).map_err(NativeError::Hook)?;
        }
        Ok(())
    }

    fn on_episode(&mut self, episode: &RustEpisode) -> Result<(), Self::Error> {
        let Some(callback) = &self.on_episode else {
            return Ok(());
        };
        self.bar
            .suspend(|| Python::attach(|py| callback.call1(py, (Episode::from(episode),))))
            .map(drop)
            .map_err(NativeError::Hook)
    }
}
