"""spinfast evaluate on a sweep of 40 agents x 4 snapshots: the local pool with 1 and 2
workers, a shell loop of ``spinfast test_policy`` (one process per (run, snapshot), as
people script it around Spinning Up), and Ray on a local head.

The sweep: 10 conditions x 4 seeds, each run a linear CartPole controller (made by
tests/saved_agents.py, as the tests make agents) saved at snapshots 0, 10, 20, 30 with
gains that "learn" (snapshot 0 drops the pole after ~40 steps, the later ones hold it
for all 500); CartPole-v1 pickled in each varsN.pkl. The protocol: ``-n EPISODES
--seed 0`` (EPISODES from SPINFAST_BENCH_EPISODES, default 20).

Each measurement is one round (a round is minutes long; the machine is shared): wall
time of the whole command or call, TensorFlow's import in the workers included. Per
task overhead = (wall time x slots - the time spent inside tasks) / tasks: what a slot
loses to the pool (start-up, dispatch, results), with the tasks' own ``seconds``.

Run (one after another, nothing else of yours running):
    python -m pytest benches/bench_evaluate.py --benchmark-group-by=group \
        --benchmark-columns=min,rounds -s
SPINFAST_BENCH_SHELL_TASKS=N limits the shell loop to the first N tasks (default all).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

tf = pytest.importorskip("tensorflow", reason="the benches need the tf extra")

import gymnasium  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))
from saved_agents import linear_controller_agent, save_snapshots  # noqa: E402
from spinfast.evaluate import evaluate  # noqa: E402

CONDITIONS, SEEDS = 10, 4
#: snapshot -> the controller's gains on (x, x_dot, theta, theta_dot)
GAINS = {0: [0, 0, 1, 0], 10: [0, 0.2, 1, 0.3], 20: [0, 0, 1, 0.5], 30: [0.1, 0.5, 10, 1]}
EPISODES = int(os.environ.get("SPINFAST_BENCH_EPISODES", "20"))
RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """40 runs x 4 snapshots: one agent saved once, copied into every run folder."""
    root = tmp_path_factory.mktemp("evaluate")
    agent = root / "agent"
    build = linear_controller_agent([0, 0, 1, 0])
    weights = {itr: {"w": _weights(gains)} for itr, gains in GAINS.items()}
    save_snapshots(str(agent), build, weights, env=gymnasium.make("CartPole-v1"))
    data = root / "data"
    for c in range(CONDITIONS):
        for s in range(SEEDS):
            run = data / f"cond{c}" / f"cond{c}_s{s}"
            shutil.copytree(agent, run)
            (run / "progress.txt").write_text("Epoch\tAverageEpRet\n0\t0.0\n")
            (run / "config.json").write_text(json.dumps({"exp_name": f"cond{c}", "seed": s}))
    return data


def _weights(gains):
    import numpy as np

    g = np.array(gains, np.float32)[:, None]
    return np.hstack([-g, g])


def _overhead(frame, wall: float, slots: int) -> float:
    return (wall * slots - frame["seconds"].sum()) / len(frame)


def _record(name: str, frame, wall: float, slots: int) -> None:
    RESULTS[name] = {
        "wall": wall,
        "tasks": len(frame),
        "steps": int(frame["env_steps"].sum()),
        "overhead": _overhead(frame, wall, slots),
        "inside": frame["seconds"].sum() / len(frame),
    }
    print(f"\n{name}: {wall:.1f} s for {len(frame)} tasks, "
          f"{frame['env_steps'].sum() / wall:,.0f} env steps/s, "
          f"{RESULTS[name]['inside']:.3f} s inside a task, "
          f"{RESULTS[name]['overhead']:.3f} s overhead a task")  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
def bench_local_pool(benchmark, sweep, workers):
    benchmark.group = f"evaluate: {CONDITIONS * SEEDS} agents x {len(GAINS)} snapshots"
    frames = []

    def run():
        start = time.perf_counter()
        frame = evaluate(sweep, episodes=EPISODES, seed=0, snapshots="all", workers=workers)
        frames.append((frame, time.perf_counter() - start))

    benchmark.pedantic(run, rounds=1, iterations=1)
    frame, wall = frames[0]
    assert frame["error"].isna().all() and len(frame) == CONDITIONS * SEEDS * len(GAINS)
    _record(f"local, {workers} worker(s)", frame, wall, workers)


def bench_shell_loop_of_test_policy(benchmark, sweep, tmp_path):
    """``for run, itr: spinfast test_policy $run -i $itr -n E --seed 0 -nr``, one process each."""
    benchmark.group = f"evaluate: {CONDITIONS * SEEDS} agents x {len(GAINS)} snapshots"
    tasks = [(run, itr) for run in sorted(sweep.glob("*/*_s*")) for itr in GAINS]
    limit = int(os.environ.get("SPINFAST_BENCH_SHELL_TASKS", len(tasks)))
    tasks = tasks[:limit]
    spinfast = [sys.executable, "-m", "spinfast"]
    walls = []

    def run():
        start = time.perf_counter()
        for i, (folder, itr) in enumerate(tasks):
            subprocess.run(
                [*spinfast, "test_policy", str(folder), "-i", str(itr), "-n", str(EPISODES),
                 "--seed", "0", "-nr", "--out", str(tmp_path / f"t{i}")],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        walls.append(time.perf_counter() - start)

    benchmark.pedantic(run, rounds=1, iterations=1)
    per_task = walls[0] / len(tasks)
    RESULTS["shell loop"] = {"wall": walls[0], "tasks": len(tasks), "per_task": per_task}
    print(f"\nshell loop: {walls[0]:.1f} s for {len(tasks)} tasks, {per_task:.2f} s a task")


def bench_ray_local_head(benchmark, sweep):
    """A Ray head started here (2 CPUs): a cold run (workers import TF), then a warm one."""
    ray = pytest.importorskip("ray", reason="ray is an optional extra")
    benchmark.group = f"evaluate: {CONDITIONS * SEEDS} agents x {len(GAINS)} snapshots"
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    start = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"\nray.init: {time.perf_counter() - start:.1f} s")
    frames = []
    try:

        def run():
            start = time.perf_counter()
            frame = evaluate(sweep, episodes=EPISODES, seed=0, snapshots="all", ray="auto")
            frames.append((frame, time.perf_counter() - start))

        benchmark.pedantic(run, rounds=2, iterations=1)
    finally:
        ray.shutdown()
    for (frame, wall), name in zip(frames, ("ray, cold", "ray, warm"), strict=True):
        assert frame["error"].isna().all()
        _record(name, frame, wall, 2)
