//! Which env runs which episode: the quota per env and the episode numbers.

use super::error::RolloutError;

/// The episodes of a run, shared out among `num_envs` envs before the first step.
///
/// Each env's share is fixed up front, as stable-baselines3's `evaluate_policy`
/// does it (`episode_count_targets = [(n_eval_episodes + i) // n_envs for i in
/// range(n_envs)]`): env `i` runs `(num_episodes + i) / num_envs` episodes, so
/// the shares add up to `num_episodes` exactly, and an env that draws short
/// episodes does not run more of them than its share (which would bias the
/// results towards short episodes).
///
/// Episodes are numbered round by round: round `j` holds the `j`-th episode of
/// every env that has one, in env order. Env `i`'s `j`-th episode therefore
/// gets the number `sum_e min(share_e, j) + #{e < i : share_e > j}`. With one
/// env, episode `k` is the `k`-th; with N envs, episodes `0..N` are the first
/// of each env. An episode's number fixes its reset seed (`seed + number`), so
/// which env runs it, and when, does not change it.
///
/// ```
/// use _core::rollout::EpisodePlan;
///
/// let plan = EpisodePlan::new(5, 2)?;
/// assert_eq!(plan.shares(), &[2, 3]);
/// assert_eq!(plan.number(0, 0), 0); // round 0: env 0, env 1
/// assert_eq!(plan.number(1, 0), 1);
/// assert_eq!(plan.number(0, 1), 2); // round 1: env 0, env 1
/// assert_eq!(plan.number(1, 1), 3);
/// assert_eq!(plan.number(1, 2), 4); // round 2: env 1 alone
/// # Ok::<(), _core::rollout::RolloutError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodePlan {
    shares: Vec<usize>,
    /// `numbers[starts[i] + j]` is env `i`'s `j`-th episode's number.
    starts: Vec<usize>,
    numbers: Vec<usize>,
}

impl EpisodePlan {
    /// Shares `num_episodes` episodes among `num_envs` envs.
    ///
    /// # Errors
    /// [`RolloutError::NoEpisodes`] or [`RolloutError::NoEnvs`] when either is 0.
    pub fn new(num_episodes: usize, num_envs: usize) -> Result<Self, RolloutError> {
        if num_episodes == 0 {
            return Err(RolloutError::NoEpisodes);
        }
        if num_envs == 0 {
            return Err(RolloutError::NoEnvs);
        }
        let shares: Vec<usize> = (0..num_envs)
            .map(|i| (num_episodes + i) / num_envs)
            .collect();
        let mut starts = Vec::with_capacity(num_envs);
        let mut start = 0;
        for share in &shares {
            starts.push(start);
            start += share;
        }
        let mut numbers = vec![0; num_episodes];
        let mut next = 0;
        let rounds = shares.iter().copied().max().unwrap_or(0);
        for round in 0..rounds {
            for (env, share) in shares.iter().enumerate() {
                if round < *share {
                    numbers[starts[env] + round] = next;
                    next += 1;
                }
            }
        }
        Ok(Self {
            shares,
            starts,
            numbers,
        })
    }

    /// How many episodes each env runs, in env order; they add up to the total.
    pub fn shares(&self) -> &[usize] {
        &self.shares
    }

    /// The total number of episodes.
    pub fn num_episodes(&self) -> usize {
        self.numbers.len()
    }

    /// The number of env `env`'s `j`-th episode (`j < shares()[env]`).
    pub fn number(&self, env: usize, j: usize) -> usize {
        self.numbers[self.starts[env] + j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SB3's formula, written out as in its source.
    fn sb3_targets(n_eval_episodes: usize, n_envs: usize) -> Vec<usize> {
        (0..n_envs)
            .map(|i| (n_eval_episodes + i) / n_envs)
            .collect()
    }

    #[test]
    fn twenty_episodes_on_eight_envs() {
        let plan = EpisodePlan::new(20, 8).unwrap();
        assert_eq!(plan.shares(), &[2, 2, 2, 2, 3, 3, 3, 3]);
        // round 0: 0..8, round 1: 8..16, round 2: envs 4..8 get 16..20
        assert_eq!(plan.number(0, 0), 0);
        assert_eq!(plan.number(7, 0), 7);
        assert_eq!(plan.number(0, 1), 8);
        assert_eq!(plan.number(3, 1), 11);
        assert_eq!(plan.number(4, 2), 16);
        assert_eq!(plan.number(7, 2), 19);
    }

    #[test]
    fn every_number_once_and_shares_as_sb3() {
        for n in 1..40 {
            for envs in 1..12 {
                let plan = EpisodePlan::new(n, envs).unwrap();
                assert_eq!(plan.shares(), sb3_targets(n, envs).as_slice());
                assert_eq!(plan.shares().iter().sum::<usize>(), n);
                let mut seen: Vec<usize> = (0..envs)
                    .flat_map(|e| (0..plan.shares()[e]).map(move |j| (e, j)))
                    .map(|(e, j)| plan.number(e, j))
                    .collect();
                seen.sort_unstable();
                assert_eq!(seen, (0..n).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn one_env_numbers_in_order() {
        let plan = EpisodePlan::new(4, 1).unwrap();
        assert_eq!(
            (0..4).map(|j| plan.number(0, j)).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn more_envs_than_episodes_leaves_some_idle() {
        let plan = EpisodePlan::new(3, 5).unwrap();
        assert_eq!(plan.shares(), &[0, 0, 1, 1, 1]);
        assert_eq!((plan.number(2, 0), plan.number(4, 0)), (0, 2));
    }

    #[test]
    fn zero_is_an_error() {
        assert!(matches!(
            EpisodePlan::new(0, 2),
            Err(RolloutError::NoEpisodes)
        ));
        assert!(matches!(EpisodePlan::new(2, 0), Err(RolloutError::NoEnvs)));
    }
}
