//! The loop's native parts: a Rust env ([`crate::envs::Env`]) and the policy
//! evaluator ([`crate::policy::Evaluator`]) as the loop's [`Env`] and [`Policy`],
//! so that an episode runs with no Python at all (`python/rollout.rs` runs it
//! with the GIL released).
//!
//! Observations and actions are small fixed-size values ([`Obs`],
//! [`NativeAction`]): stepping allocates nothing.

use std::marker::PhantomData;

use rayon::prelude::*;

use super::error::RolloutError;
use super::lockstep::{Env, Policy, Transition};
use crate::envs::{self, EnvError, ResetOptions, Seed};
use crate::policy::{Evaluator, OutputData, PolicyError};

/// The largest observation a native env gives (Acrobot's 6 values).
pub const MAX_OBS: usize = 8;
/// The largest continuous action a native env takes.
pub const MAX_ACTION: usize = 8;

/// One observation, by value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obs {
    values: [f32; MAX_OBS],
    len: usize,
}

impl Obs {
    fn new(len: usize) -> Self {
        Self {
            values: [0.0; MAX_OBS],
            len,
        }
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.values[..self.len]
    }
}

/// One action, by value: a category, or a float32 vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NativeAction {
    Discrete(i64),
    Continuous {
        values: [f32; MAX_ACTION],
        len: usize,
    },
}

impl NativeAction {
    fn as_env_action(&self) -> envs::Action<'_> {
        match self {
            Self::Discrete(a) => envs::Action::Discrete(*a),
            Self::Continuous { values, len } => envs::Action::Continuous(&values[..*len]),
        }
    }
}

/// What stops a native run: the env, the policy, the loop, or a hook (`H`:
/// the binding's error, e.g. a Python exception from a callback or Ctrl-C).
#[derive(Debug, thiserror::Error)]
pub enum NativeError<H> {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Rollout(#[from] RolloutError),
    #[error("{0}")]
    Hook(H),
}

/// A native env in the loop.
pub struct NativeEnv<'a, H> {
    env: &'a mut dyn envs::Env,
    _hook: PhantomData<fn() -> H>,
}

// Stepped from rayon's threads: the env is Send (envs::Env: Send + Sync), and the
// hook type is only a name in the error type.

impl<'a, H> NativeEnv<'a, H> {
    /// # Errors
    /// [`RolloutError::ObsSize`] when the env's observations do not fit [`Obs`].
    pub fn new(env: &'a mut dyn envs::Env) -> Result<Self, RolloutError> {
        if env.obs_dim() > MAX_OBS {
            return Err(RolloutError::Internal(format!(
                "a native env with {} observation values (at most {MAX_OBS})",
                env.obs_dim()
            )));
        }
        Ok(Self {
            env,
            _hook: PhantomData,
        })
    }
}

impl<H: Send> Env for NativeEnv<'_, H> {
    type Obs = Obs;
    type Action = NativeAction;
    type Error = NativeError<H>;

    fn reset(&mut self, seed: Option<i64>) -> Result<Obs, Self::Error> {
        let seed = seed.map(Seed::try_from).transpose()?;
        let mut obs = Obs::new(self.env.obs_dim());
        let options = ResetOptions::default();
        self.env
            .reset(seed.as_ref(), &options, &mut obs.values[..obs.len])?;
        Ok(obs)
    }

    fn step(&mut self, action: NativeAction) -> Result<Transition<Obs>, Self::Error> {
        let mut obs = Obs::new(self.env.obs_dim());
        let step = self
            .env
            .step(action.as_env_action(), &mut obs.values[..obs.len])?;
        Ok(Transition {
            obs,
            reward: step.reward,
            done: step.terminated || step.truncated,
        })
    }

    fn render(&mut self) -> Result<(), Self::Error> {
        Err(RolloutError::Internal("native envs do not render".into()).into())
    }

    /// From [`PARALLEL_FROM`] envs on, on all cores (rayon): each env's step
    /// depends on that env alone, so the results are the same on any number of
    /// threads.
    fn step_each(
        steps: Vec<(&mut Self, NativeAction)>,
        out: &mut Vec<Result<Transition<Obs>, Self::Error>>,
    ) {
        if steps.len() < PARALLEL_FROM {
            out.extend(steps.into_iter().map(|(env, action)| env.step(action)));
        } else {
            steps
                .into_par_iter()
                .map(|(env, action)| env.step(action))
                .collect_into_vec(out);
        }
    }
}

/// From how many envs stepped together their steps are spread over threads: a
/// classic-control step costs 0.1-1 us, so fewer are not worth a thread's wake-up.
pub const PARALLEL_FROM: usize = 32;

/// The policy evaluator acting on native observations: one evaluation per step
/// on the observations batched into one buffer.
pub struct NativeActor<'a, H> {
    evaluator: &'a mut Evaluator,
    input: Vec<f32>,
    shape: Vec<usize>,
    _hook: PhantomData<fn() -> H>,
}

impl<'a, H> NativeActor<'a, H> {
    pub fn new(evaluator: &'a mut Evaluator) -> Self {
        Self {
            evaluator,
            input: Vec::new(),
            shape: Vec::new(),
            _hook: PhantomData,
        }
    }
}

impl<H> Policy<Obs> for NativeActor<'_, H> {
    type Action = NativeAction;
    type Error = NativeError<H>;

    fn act(&mut self, obs: &[Obs], actions: &mut Vec<NativeAction>) -> Result<(), Self::Error> {
        let Some(first) = obs.first() else {
            return Ok(());
        };
        self.input.clear();
        for o in obs {
            self.input.extend_from_slice(o.as_slice());
        }
        self.shape.clear();
        self.shape.extend([obs.len(), first.len]);
        let out = self.evaluator.run(&self.input, &self.shape)?;
        let rows = obs.len();
        let per_row = out.shape.iter().skip(1).product::<usize>();
        if out.shape.first() != Some(&rows) || per_row > MAX_ACTION {
            return Err(RolloutError::ActionShape {
                shape: out.shape.to_vec(),
                rows,
            }
            .into());
        }
        match out.data {
            OutputData::I64(values) if per_row == 1 => {
                actions.extend(values[..rows].iter().map(|&a| NativeAction::Discrete(a)));
            }
            OutputData::F32(values) => {
                for row in values[..rows * per_row].chunks_exact(per_row) {
                    let mut action = [0.0; MAX_ACTION];
                    action[..per_row].copy_from_slice(row);
                    actions.push(NativeAction::Continuous {
                        values: action,
                        len: per_row,
                    });
                }
            }
            OutputData::I64(_) => {
                return Err(RolloutError::ActionShape {
                    shape: out.shape.to_vec(),
                    rows,
                }
                .into())
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{make, EnvKwargs};
    use crate::policy::{Attr, Graph, Node, Tensor};
    use crate::rollout::{run, Episode, EpisodePlan, Hooks, RunConfig};
    use std::collections::HashMap;

    struct NoHooks;

    impl Hooks for NoHooks {
        type Error = NativeError<String>;
        fn on_step(&mut self, _: usize, _: usize) -> Result<(), Self::Error> {
            Ok(())
        }
        fn on_episode(&mut self, _: &Episode) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    /// pi = argmax([x·0, x·0 + 1]): always 1, "push right", over 4 observation values.
    fn push_right() -> Evaluator {
        let node = |name: &str, op: &str, inputs: &[&str]| Node {
            name: name.into(),
            op: op.into(),
            inputs: inputs.iter().map(|i| (i.to_string(), 0)).collect(),
            attrs: HashMap::new(),
            value: None,
        };
        let mut x = node("x", "Placeholder", &[]);
        x.attrs.insert("shape".into(), Attr::Ints(vec![-1, 4]));
        let mut w = node("w", "Const", &[]);
        w.value = Some(Tensor::f32(vec![4, 2], vec![0.0; 8]));
        let mut b = node("b", "Const", &[]);
        b.value = Some(Tensor::f32(vec![2], vec![0.0, 1.0]));
        let mut axis = node("axis", "Const", &[]);
        axis.value = Some(Tensor::int(crate::policy::DType::I32, vec![], vec![1]));
        let graph = Graph::new(vec![
            x,
            w,
            b,
            axis,
            node("mm", "MatMul", &["x", "w"]),
            node("logits", "BiasAdd", &["mm", "b"]),
            node("pi", "ArgMax", &["logits", "axis"]),
        ])
        .unwrap();
        Evaluator::new(&graph, "x", "pi", 0).unwrap()
    }

    /// The same episodes as stepping the env by hand with action 1.
    #[test]
    fn a_native_run_is_the_hand_loop() {
        let mut evaluator = push_right();
        let mut boxes: Vec<Box<dyn envs::Env>> = (0..3)
            .map(|_| make("CartPole-v1", &EnvKwargs::default()).unwrap())
            .collect();
        let mut envs: Vec<NativeEnv<'_, String>> = boxes
            .iter_mut()
            .map(|e| NativeEnv::new(e.as_mut()).unwrap())
            .collect();
        let config = RunConfig {
            plan: EpisodePlan::new(7, 3).unwrap(),
            max_ep_len: None,
            render: false,
            seed: Some(10),
        };
        let mut actor = NativeActor::new(&mut evaluator);
        let episodes = run(&mut envs, &mut actor, &config, &mut NoHooks).unwrap();

        let mut env = make("CartPole-v1", &EnvKwargs::default()).unwrap();
        let mut obs = [0.0f32; 4];
        for episode in &episodes {
            let seed = Seed::from(10 + episode.index as u64);
            env.reset(Some(&seed), &ResetOptions::default(), &mut obs)
                .unwrap();
            let (mut ret, mut length) = (0.0, 0);
            loop {
                let step = env.step(envs::Action::Discrete(1), &mut obs).unwrap();
                ret += step.reward;
                length += 1;
                if step.terminated || step.truncated {
                    break;
                }
            }
            assert_eq!((episode.ret, episode.length), (ret, length));
        }
        assert_eq!(episodes.len(), 7);
    }

    /// 40 envs step on several threads (from PARALLEL_FROM on): the same episodes on
    /// one thread and on two, and the hand loop's.
    #[test]
    fn threads_do_not_change_the_episodes() {
        let run_on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut evaluator = push_right();
                let mut boxes: Vec<Box<dyn envs::Env>> = (0..40)
                    .map(|_| make("CartPole-v1", &EnvKwargs::default()).unwrap())
                    .collect();
                let mut envs: Vec<NativeEnv<'_, String>> = boxes
                    .iter_mut()
                    .map(|e| NativeEnv::new(e.as_mut()).unwrap())
                    .collect();
                let config = RunConfig {
                    plan: EpisodePlan::new(80, 40).unwrap(),
                    max_ep_len: Some(60),
                    render: false,
                    seed: Some(3),
                };
                let mut actor = NativeActor::new(&mut evaluator);
                run(&mut envs, &mut actor, &config, &mut NoHooks).unwrap()
            })
        };
        let one = run_on(1);
        assert_eq!(one, run_on(2));
        assert_eq!(one.len(), 80);
    }
}
