"""Resident memory of a long rollout: RSS every tenth of the run, for 10^6 steps.

Run (build with --release first; Linux: reads /proc/self/statm):
    python benches/rollout_memory.py                             # rust, NumPy policy, 1 env
    python benches/rollout_memory.py --policy tf --num-envs 64   # TF agent, 64 envs
    python benches/rollout_memory.py --policy native --env native --num-envs 64  # all Rust
    python benches/rollout_memory.py --loop reference            # the Python reference

The env and agent are bench_rollout.py's: Pendulum-v1 (200-step episodes) and
Spinning Up's default Gaussian MLP, as a TF SavedModel or its NumPy copy. Flat
means: after the first tenth (imports, TF's warm-up), RSS stays within a few MiB,
while the episodes list (24 bytes of numbers plus a small object per episode, 5,000
episodes here) is all that is meant to grow.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from bench_rollout import EP_LEN, NumpyPolicy, gaussian_mlp, make_env, save_snapshots

from spinfast.agent.rollout import run_episodes

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=["rust", "reference"], default="rust")
    parser.add_argument("--policy", choices=["numpy", "tf", "native"], default="numpy")
    parser.add_argument("--env", choices=["gymnasium", "native"], default="gymnasium")
    parser.add_argument("--num-envs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10**6)
    args = parser.parse_args()

    build, weights = gaussian_mlp()
    if args.policy in ("tf", "native"):
        from spinfast.agent.load import load_agent
        from spinfast.agent.snapshots import find_snapshot

        folder = save_snapshots(tempfile.mkdtemp(), build, {None: {}})
        backend = "tf" if args.policy == "tf" else "native"
        policy = load_agent(find_snapshot(folder), False, 0, backend)
    else:
        policy = NumpyPolicy(weights)
    episodes = args.steps // EP_LEN
    if args.env == "native":
        from spinfast import native

        envs = [native.make("Pendulum-v1") for _ in range(args.num_envs)]
    else:
        envs = [make_env() for _ in range(args.num_envs)]
    samples = []
    start = time.perf_counter()

    def sample(episode) -> None:
        if (episode.index + 1) % max(1, episodes // 10) == 0:
            steps = (episode.index + 1) * EP_LEN
            samples.append((steps, rss_mib(), time.perf_counter() - start))

    print(f"loop={args.loop} policy={args.policy} env={args.env} num_envs={args.num_envs} "
          f"steps={episodes * EP_LEN}; RSS before the run: {rss_mib():.1f} MiB")  # fmt: skip
    target = envs if args.num_envs > 1 else envs[0]
    if args.loop == "rust":
        run_episodes(target, policy, episodes, seed=0, on_episode=sample)
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))
        from reference_rollout import run_reference

        run_reference(target, policy, episodes, seed=0, on_episode=sample)
    print("| env-steps | RSS (MiB) | seconds |\n|---:|---:|---:|")
    for steps, rss, secs in samples:
        print(f"| {steps:,} | {rss:.1f} | {secs:.1f} |")
    first, last = samples[0][1], samples[-1][1]
    print(f"growth from the first tenth to the end: {last - first:+.1f} MiB")


if __name__ == "__main__":
    main()
