//! The episode loop: N envs stepped in lockstep, one policy call per step.

use super::error::RolloutError;
use super::plan::EpisodePlan;

/// One finished episode: its number, return (sum of rewards) and length (steps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    pub index: usize,
    pub ret: f64,
    pub length: u64,
}

/// What one step of an env gives back.
#[derive(Debug)]
pub struct Transition<O> {
    pub obs: O,
    pub reward: f64,
    /// The episode is over (Gymnasium: terminated or truncated).
    pub done: bool,
}

/// One environment.
pub trait Env {
    type Obs;
    type Action;
    type Error: From<RolloutError>;
    /// Starts an episode, seeded with `seed` when there is one.
    fn reset(&mut self, seed: Option<i64>) -> Result<Self::Obs, Self::Error>;
    fn step(&mut self, action: Self::Action) -> Result<Transition<Self::Obs>, Self::Error>;
    fn render(&mut self) -> Result<(), Self::Error>;

    /// Steps each env with its action, pushing the results onto `out` in order;
    /// nothing after the first error need be stepped. The default steps them one
    /// by one; an env whose steps may run on several threads at once overrides it
    /// (the results, and so the episodes, must not depend on how).
    fn step_each(
        steps: Vec<(&mut Self, Self::Action)>,
        out: &mut Vec<Result<Transition<Self::Obs>, Self::Error>>,
    ) where
        Self: Sized,
    {
        for (env, action) in steps {
            let result = env.step(action);
            let failed = result.is_err();
            out.push(result);
            if failed {
                break;
            }
        }
    }
}

/// Observations in, actions out: one call per lockstep step, for every env
/// still running, in env order.
pub trait Policy<O> {
    type Action;
    type Error;
    /// Pushes one action per observation onto `actions` (empty on entry), in order.
    fn act(&mut self, obs: &[O], actions: &mut Vec<Self::Action>) -> Result<(), Self::Error>;
}

/// Told what the loop does, and may stop it by returning an error.
pub trait Hooks {
    type Error;
    /// After each lockstep step: `env_steps` envs stepped, `finished` episodes ended.
    fn on_step(&mut self, env_steps: usize, finished: usize) -> Result<(), Self::Error>;
    /// Each episode, in number order, as soon as it and all before it have ended.
    fn on_episode(&mut self, episode: &Episode) -> Result<(), Self::Error>;
}

/// How to run: the plan, an episode length cap, rendering, seeding.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub plan: EpisodePlan,
    /// End an episode after this many steps; `None`: only when the env ends it.
    pub max_ep_len: Option<u64>,
    /// Render each env before each of its steps.
    pub render: bool,
    /// Episode `k` resets with seed `seed + k`; `None`: unseeded resets.
    pub seed: Option<i64>,
}

/// An env that is still running episodes, and where it is in the current one.
struct Slot {
    env: usize,
    /// Episodes this env has finished.
    done: usize,
    number: usize,
    ret: f64,
    length: u64,
}

/// Runs `config.plan`'s episodes on `envs` (one env per plan share) and returns
/// them in number order.
///
/// Each step: render the running envs (if asked), one `policy.act` call on
/// their observations (env order), then step each with its action. An env whose
/// episode ends reports it (see [`Hooks::on_episode`]) and resets for its next
/// episode, or leaves the lockstep when its share is done. With one env this is
/// the plain loop: reset, then render, act, step until done.
///
/// # Errors
/// The first error from an env, the policy or the hooks stops the run and is
/// returned as is; [`RolloutError`] (through `From`) when `envs` does not match
/// the plan, the policy gives the wrong number of actions, or a seed overflows.
pub fn run<E, P, H>(
    envs: &mut [E],
    policy: &mut P,
    config: &RunConfig,
    hooks: &mut H,
) -> Result<Vec<Episode>, E::Error>
where
    E: Env,
    P: Policy<E::Obs, Action = E::Action, Error = E::Error>,
    H: Hooks<Error = E::Error>,
{
    let plan = &config.plan;
    if envs.len() != plan.shares().len() {
        return Err(RolloutError::Internal(format!(
            "{} envs for a plan of {}",
            envs.len(),
            plan.shares().len()
        ))
        .into());
    }
    let seed_of = |number: usize| -> Result<Option<i64>, E::Error> {
        match config.seed {
            None => Ok(None),
            Some(seed) => i64::try_from(number)
                .ok()
                .and_then(|k| seed.checked_add(k))
                .map(Some)
                .ok_or_else(|| {
                    RolloutError::SeedOverflow {
                        seed,
                        episode: number,
                    }
                    .into()
                }),
        }
    };

    let mut slots = Vec::with_capacity(envs.len());
    let mut obs = Vec::with_capacity(envs.len());
    for (env, share) in plan.shares().iter().enumerate() {
        if *share > 0 {
            let number = plan.number(env, 0);
            obs.push(envs[env].reset(seed_of(number)?)?);
            slots.push(Slot {
                env,
                done: 0,
                number,
                ret: 0.0,
                length: 0,
            });
        }
    }

    let mut finished: Vec<Option<Episode>> = vec![None; plan.num_episodes()];
    let mut next_to_report = 0;
    let mut actions = Vec::with_capacity(envs.len());
    let mut results = Vec::with_capacity(envs.len());
    let mut leaving = Vec::with_capacity(envs.len());
    while !slots.is_empty() {
        if config.render {
            for slot in &slots {
                envs[slot.env].render()?;
            }
        }
        actions.clear();
        policy.act(&obs, &mut actions)?;
        if actions.len() != obs.len() {
            return Err(RolloutError::ActionCount {
                expected: obs.len(),
                got: actions.len(),
            }
            .into());
        }
        let stepped = slots.len();
        let mut ended = 0;
        leaving.clear();
        // the running envs, in slot order (slots are in env order), with their actions
        let mut running = slots.iter().map(|slot| slot.env).peekable();
        let steps: Vec<(&mut E, E::Action)> = envs
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| running.next_if_eq(i).is_some())
            .map(|(_, env)| env)
            .zip(actions.drain(..))
            .collect();
        results.clear();
        E::step_each(steps, &mut results);
        for (k, result) in results.drain(..).enumerate() {
            let transition = result?;
            let slot = &mut slots[k];
            let env = &mut envs[slot.env];
            obs[k] = transition.obs;
            slot.ret += transition.reward;
            slot.length += 1;
            if !transition.done && Some(slot.length) != config.max_ep_len {
                continue;
            }
            ended += 1;
            finished[slot.number] = Some(Episode {
                index: slot.number,
                ret: slot.ret,
                length: slot.length,
            });
            while let Some(Some(episode)) = finished.get(next_to_report) {
                hooks.on_episode(episode)?;
                next_to_report += 1;
            }
            slot.done += 1;
            if slot.done < plan.shares()[slot.env] {
                slot.number = plan.number(slot.env, slot.done);
                slot.ret = 0.0;
                slot.length = 0;
                obs[k] = env.reset(seed_of(slot.number)?)?;
            } else {
                leaving.push(k);
            }
        }
        for &k in leaving.iter().rev() {
            slots.remove(k);
            obs.remove(k);
        }
        hooks.on_step(stepped, ended)?;
    }
    finished
        .into_iter()
        .map(|episode| {
            episode.ok_or_else(|| RolloutError::Internal("an episode never ended".into()).into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// obs = t; reward = the action; the episode ends after `horizon` steps, where
    /// the horizon is the reset seed mod 4 + 1 (or 3 unseeded).
    #[derive(Default)]
    struct Countdown {
        t: u64,
        horizon: u64,
        resets: Vec<Option<i64>>,
        renders: usize,
    }

    impl Env for Countdown {
        type Obs = u64;
        type Action = f64;
        type Error = RolloutError;
        fn reset(&mut self, seed: Option<i64>) -> Result<u64, RolloutError> {
            self.resets.push(seed);
            self.t = 0;
            self.horizon = seed.map_or(3, |s| s.rem_euclid(4) as u64 + 1);
            Ok(0)
        }
        fn step(&mut self, action: f64) -> Result<Transition<u64>, RolloutError> {
            self.t += 1;
            Ok(Transition {
                obs: self.t,
                reward: action,
                done: self.t >= self.horizon,
            })
        }
        fn render(&mut self) -> Result<(), RolloutError> {
            self.renders += 1;
            Ok(())
        }
    }

    /// action = obs + 1; remembers the batch sizes it saw.
    #[derive(Default)]
    struct PlusOne {
        batches: Vec<usize>,
    }

    impl Policy<u64> for PlusOne {
        type Action = f64;
        type Error = RolloutError;
        fn act(&mut self, obs: &[u64], actions: &mut Vec<f64>) -> Result<(), RolloutError> {
            self.batches.push(obs.len());
            actions.extend(obs.iter().map(|&o| o as f64 + 1.0));
            Ok(())
        }
    }

    #[derive(Default)]
    struct Record {
        reported: Vec<usize>,
        env_steps: usize,
        finished: usize,
    }

    impl Hooks for Record {
        type Error = RolloutError;
        fn on_step(&mut self, env_steps: usize, finished: usize) -> Result<(), RolloutError> {
            self.env_steps += env_steps;
            self.finished += finished;
            Ok(())
        }
        fn on_episode(&mut self, episode: &Episode) -> Result<(), RolloutError> {
            self.reported.push(episode.index);
            Ok(())
        }
    }

    fn config(episodes: usize, envs: usize, seed: Option<i64>) -> RunConfig {
        RunConfig {
            plan: EpisodePlan::new(episodes, envs).unwrap(),
            max_ep_len: None,
            render: false,
            seed,
        }
    }

    /// A horizon-h episode acting obs + 1 returns 1 + 2 + ... + h.
    fn hand_return(horizon: u64) -> f64 {
        (horizon * (horizon + 1) / 2) as f64
    }

    #[test]
    fn one_env_runs_episodes_in_order_with_seed_plus_k() {
        let mut envs = vec![Countdown::default()];
        let mut hooks = Record::default();
        let episodes = run(
            &mut envs,
            &mut PlusOne::default(),
            &config(3, 1, Some(10)),
            &mut hooks,
        )
        .unwrap();
        // seeds 10, 11, 12: horizons 3, 4, 1
        let expected: Vec<Episode> = [(0, 3), (1, 4), (2, 1)]
            .iter()
            .map(|&(index, h)| Episode {
                index,
                ret: hand_return(h),
                length: h,
            })
            .collect();
        assert_eq!(episodes, expected);
        assert_eq!(envs[0].resets, [Some(10), Some(11), Some(12)]);
        assert_eq!(hooks.reported, [0, 1, 2]);
        assert_eq!((hooks.env_steps, hooks.finished), (8, 3));
    }

    #[test]
    fn lockstep_gives_each_numbered_episode_its_own_seed() {
        // 7 episodes on 3 envs: shares 2, 2, 3; numbers env0: 0, 3; env1: 1, 4; env2: 2, 5, 6
        let mut envs: Vec<Countdown> = (0..3).map(|_| Countdown::default()).collect();
        let mut policy = PlusOne::default();
        let mut hooks = Record::default();
        let episodes = run(&mut envs, &mut policy, &config(7, 3, Some(0)), &mut hooks).unwrap();
        let horizons: Vec<u64> = (0..7).map(|k| k % 4 + 1).collect();
        for (k, episode) in episodes.iter().enumerate() {
            assert_eq!(episode.index, k);
            assert_eq!(episode.length, horizons[k]);
            assert_eq!(episode.ret, hand_return(horizons[k]));
        }
        assert_eq!(envs[0].resets, [Some(0), Some(3)]);
        assert_eq!(envs[1].resets, [Some(1), Some(4)]);
        assert_eq!(envs[2].resets, [Some(2), Some(5), Some(6)]);
        // episode 4 (horizon 1) ends before episode 3 (horizon 4): reported in number order
        assert_eq!(hooks.reported, [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(hooks.env_steps, horizons.iter().sum::<u64>() as usize);
        // one call per lockstep step, batch = the envs still running
        assert_eq!(policy.batches.iter().sum::<usize>(), hooks.env_steps);
        assert_eq!(policy.batches[0], 3);
        assert_eq!(*policy.batches.last().unwrap(), 1);
    }

    #[test]
    fn reports_wait_for_earlier_episodes() {
        // seeds 3, 4: horizons 4, 1, so episode 1 ends three steps before episode 0
        let mut envs: Vec<Countdown> = (0..2).map(|_| Countdown::default()).collect();
        struct Order(Vec<usize>);
        impl Hooks for Order {
            type Error = RolloutError;
            fn on_step(&mut self, _: usize, _: usize) -> Result<(), RolloutError> {
                Ok(())
            }
            fn on_episode(&mut self, episode: &Episode) -> Result<(), RolloutError> {
                self.0.push(episode.index);
                Ok(())
            }
        }
        let mut order = Order(vec![]);
        let episodes = run(
            &mut envs,
            &mut PlusOne::default(),
            &config(2, 2, Some(3)),
            &mut order,
        )
        .unwrap();
        assert_eq!(
            episodes.iter().map(|e| e.length).collect::<Vec<_>>(),
            [4, 1]
        );
        assert_eq!(order.0, [0, 1]);
    }

    #[test]
    fn max_len_cuts_episodes_and_render_comes_before_each_step() {
        let mut envs = vec![Countdown::default()];
        let mut cfg = config(2, 1, None);
        cfg.max_ep_len = Some(2);
        cfg.render = true;
        let episodes = run(
            &mut envs,
            &mut PlusOne::default(),
            &cfg,
            &mut Record::default(),
        )
        .unwrap();
        assert_eq!(
            episodes.iter().map(|e| e.length).collect::<Vec<_>>(),
            [2, 2]
        );
        assert_eq!(episodes[0].ret, 3.0);
        assert_eq!(envs[0].resets, [None, None]);
        assert_eq!(envs[0].renders, 4);
    }

    #[test]
    fn a_policy_with_too_few_actions_is_an_error() {
        struct Short;
        impl Policy<u64> for Short {
            type Action = f64;
            type Error = RolloutError;
            fn act(&mut self, _: &[u64], actions: &mut Vec<f64>) -> Result<(), RolloutError> {
                actions.push(1.0);
                Ok(())
            }
        }
        let mut envs: Vec<Countdown> = (0..2).map(|_| Countdown::default()).collect();
        let err = run(
            &mut envs,
            &mut Short,
            &config(2, 2, None),
            &mut Record::default(),
        );
        assert_eq!(
            err.unwrap_err(),
            RolloutError::ActionCount {
                expected: 2,
                got: 1
            }
        );
    }

    #[test]
    fn an_error_from_a_hook_stops_the_run() {
        struct StopAfter(usize);
        impl Hooks for StopAfter {
            type Error = RolloutError;
            fn on_step(&mut self, _: usize, _: usize) -> Result<(), RolloutError> {
                self.0 = self.0.checked_sub(1).ok_or(RolloutError::NoEnvs)?;
                Ok(())
            }
            fn on_episode(&mut self, _: &Episode) -> Result<(), RolloutError> {
                Ok(())
            }
        }
        let mut envs = vec![Countdown::default()];
        let mut policy = PlusOne::default();
        let err = run(
            &mut envs,
            &mut policy,
            &config(5, 1, None),
            &mut StopAfter(2),
        );
        assert_eq!(err.unwrap_err(), RolloutError::NoEnvs);
        assert_eq!(policy.batches.len(), 3);
    }

    #[test]
    fn seed_overflow_is_an_error() {
        let mut envs = vec![Countdown::default()];
        let err = run(
            &mut envs,
            &mut PlusOne::default(),
            &config(2, 1, Some(i64::MAX)),
            &mut Record::default(),
        );
        assert_eq!(
            err.unwrap_err(),
            RolloutError::SeedOverflow {
                seed: i64::MAX,
                episode: 1
            }
        );
    }
}
