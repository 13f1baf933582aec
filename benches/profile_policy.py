"""Where a step of ``run_policy`` with the native policy goes, on bench_policy.py's
agent, env and seeds (the bundled CartPole agent, 200-step episodes).

First the parts timed apart, each the best of several repeats: ``env.step`` alone
(replaying the run's actions), the policy alone (on the run's observations), and
the whole step of ``run_policy`` (the Rust loop) and of the Python reference loop;
what is left is the loop's own cost. Then cProfile of the reference loop's run, by
own time per call site (the Rust loop is invisible to cProfile; the Python one
shows the same env and policy calls).

Run (build with --release first):
    python benches/profile_policy.py [--episodes 20] [--top 15]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import timeit

import gymnasium
from bench_policy import (
    EP_LEN,
    SEED,
    bare_loop,
    native_actions,
    native_policy,
    quiet_run_policy,
    reference_loop,
)

from spinfast.agent.example import copy_example


def best_per_step(fn, steps: int, repeat: int = 7) -> float:
    """Microseconds per step of ``fn()``, the best of ``repeat`` runs."""
    return min(timeit.repeat(fn, number=1, repeat=repeat)) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    snapshot = os.path.join(copy_example(tempfile.mkdtemp()), "simple_save")
    policy = native_policy(snapshot)
    env = gymnasium.make("CartPole-v1")
    actions = native_actions(snapshot, args.episodes)
    steps = sum(map(len, actions))
    observations = []
    for k, episode in enumerate(actions):
        obs, _ = env.reset(seed=SEED + k)
        for action in episode:
            observations.append(obs)
            obs = env.step(action)[0]

    def act_all():
        for obs in observations:
            policy(obs)

    def run(loop):
        def go():
            policy.seed(SEED)
            if loop == "reference":
                return reference_loop(env, policy, args.episodes)
            return quiet_run_policy(env, policy, args.episodes)

        return go

    env_us = best_per_step(lambda: bare_loop(env, actions), steps)
    policy_us = best_per_step(act_all, steps)
    print(f"{steps} steps ({args.episodes} episodes of at most {EP_LEN}), microseconds per step:")
    print(f"  env.step alone (replayed)      {env_us:6.2f}")
    print(f"  native policy alone            {policy_us:6.2f}")
    for loop in ("run_policy", "reference"):
        total = best_per_step(run(loop), steps)
        rest = total - env_us - policy_us
        print(f"  {loop:10} loop               {total:6.2f}   "
              f"(x{total / env_us:.2f} of env.step; loop and logging {rest:.2f})")  # fmt: skip

    profiler = cProfile.Profile()
    profiler.runcall(run("reference"))
    print(f"\ncProfile, the Python reference loop, top {args.top} by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
