"""Native policy inference: per-step cost of ``run_policy`` with the policy in Rust,
against the same run with the TF session, Spinning Up's loop (one ``sess.run`` per
step) and a bare ``env.step`` loop; then N envs in lockstep, per env-step.

Agent: the bundled PPO CartPole agent (``spinfast example``: 4-32-32-2 tanh MLP,
sampled ``pi``), loaded as test_policy loads it. Env: CartPole-v1, episodes capped
at 200 steps (the agent keeps the pole up far longer), episode k reset with seed k,
policies seeded with 0: every loop runs exactly the same number of steps, and the
bare loop replays the actions the native run took, so it steps through the same
states and resets.

Run (build with --release first; all groups side by side in one run):
    python -m pytest benches/bench_policy.py --benchmark-group-by=group \
        --benchmark-columns=min,median,mean,rounds
Where the time goes: ``python benches/profile_policy.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile

import pytest

tf = pytest.importorskip("tensorflow", reason="the benches need the tf extra")

import gymnasium  # noqa: E402
from bench_rollout import SEED, spinning_up_loop  # noqa: E402

from spinfast.agent.example import copy_example  # noqa: E402
from spinfast.agent.policy import NativePolicy, from_tf_policy  # noqa: E402
from spinfast.agent.tf_model import TFPolicy, restore_tf_graph  # noqa: E402
from spinfast.test_policy import run_policy  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))
from reference_rollout import run_reference  # noqa: E402

EP_LEN = 200
EPISODES = 5
STEPS = EPISODES * EP_LEN
ROUNDS = 50  # the machine is shared: read the minimums


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> str:
    return os.path.join(copy_example(tmp_path_factory.mktemp("example")), "simple_save")


def native_policy(snapshot: str) -> NativePolicy:
    return from_tf_policy(TFPolicy(snapshot), seed=SEED)


def quiet_run_policy(env, get_action, episodes=EPISODES, env_backend="python") -> int:
    """run_policy as test_policy calls it (a fresh output folder, episode lines on a
    string instead of the terminal), on Gymnasium's env unless ``env_backend`` says;
    returns the steps run."""
    with contextlib.redirect_stdout(io.StringIO()):
        result = run_policy(env, get_action, EP_LEN, episodes, False, SEED,
                            output_dir=tempfile.mkdtemp(), env_backend=env_backend)  # fmt: skip
    return sum(ep.length for ep in result.episodes)


def reference_loop(env, get_action, episodes=EPISODES) -> int:
    """The plain Python loop of tests/reference_rollout.py, no logging."""
    return sum(e.length for e in run_reference(env, get_action, episodes, EP_LEN, seed=SEED))


def native_actions(snapshot: str, episodes: int = EPISODES) -> list[list]:
    """The actions the native run takes in each episode (recorded outside the timing)."""
    policy = native_policy(snapshot)
    env = gymnasium.make("CartPole-v1")
    runs = []
    for k in range(episodes):
        obs, _ = env.reset(seed=SEED + k)
        actions: list = []
        done = False
        while not done and len(actions) < EP_LEN:
            actions.append(policy(obs))
            obs, _, terminated, truncated, _ = env.step(actions[-1])
            done = terminated or truncated
        runs.append(actions)
    return runs


def bare_loop(env, episodes: list[list]) -> int:
    """env.step alone, replaying recorded actions: the floor."""
    steps = 0
    for k, actions in enumerate(episodes):
        env.reset(seed=SEED + k)
        for action in actions:
            env.step(action)
        steps += len(actions)
    return steps


LOOPS = [
    "bare env.step",
    "Spinning Up loop (sess.run)",
    "run_policy, TF session",
    "run_policy, native",
    "python reference loop, native policy",
    "run_policy, native, native env",
]


def fresh(make_args):
    """A pedantic ``setup``: each round gets freshly seeded arguments (made outside the
    timing), so that every round runs the same episodes."""
    return lambda: (make_args(), {})


@pytest.mark.benchmark(group=f"CartPole, one env: {EPISODES} episodes x {EP_LEN} steps per round")
@pytest.mark.parametrize("loop", LOOPS)
def bench_one_env(benchmark, snapshot, loop):
    env = gymnasium.make("CartPole-v1")
    if loop == "bare env.step":
        actions = native_actions(snapshot)
        target, setup, rounds = bare_loop, fresh(lambda: (env, actions)), ROUNDS
    elif loop.startswith("Spinning Up"):

        def spinning_up_args():
            sess = tf.compat.v1.Session(graph=tf.Graph())
            return env, sess, restore_tf_graph(sess, snapshot, seed=SEED), EPISODES, EP_LEN

        target, setup, rounds = spinning_up_loop, fresh(spinning_up_args), 5
    elif loop == "run_policy, TF session":
        setup = fresh(lambda: (env, TFPolicy(snapshot, seed=SEED)))
        target, rounds = quiet_run_policy, 5
    else:
        policy = native_policy(snapshot)
        backend = "native" if loop.endswith("native env") else "python"

        def native_args():
            policy.seed(SEED)
            return (env, policy, EPISODES) + (() if "reference" in loop else (backend,))

        target = reference_loop if "reference" in loop else quiet_run_policy
        setup, rounds = fresh(native_args), ROUNDS
    steps = benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=1)
    assert steps == STEPS


@pytest.mark.parametrize("num_envs", [8, 64])
@pytest.mark.parametrize("backend", ["TF session", "native"])
def bench_lockstep(benchmark, snapshot, num_envs, backend):
    """N envs, one batched policy call per step, one episode per env per round."""
    envs = [gymnasium.make("CartPole-v1") for _ in range(num_envs)]
    benchmark.group = f"CartPole, N={num_envs} envs in lockstep: {num_envs * EP_LEN} env-steps"
    if backend == "TF session":
        setup = fresh(lambda: (envs, TFPolicy(snapshot, seed=SEED), num_envs))
    else:
        policy = native_policy(snapshot)

        def native_args():
            policy.seed(SEED)
            return envs, policy, num_envs

        setup = fresh(native_args)
    rounds = max(3, 160 // num_envs)
    steps = benchmark.pedantic(quiet_run_policy, setup=setup, rounds=rounds, warmup_rounds=1)
    benchmark.extra_info["env-steps"] = steps
