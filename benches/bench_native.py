"""The whole rollout native: spinfast.native's envs against Gymnasium's, per env-step.

Groups (side by side in one run, the same seeds and actions):

- **env alone**: CartPole-v1 / Pendulum-v1 / Acrobot-v1 episodes (seeds 0, 1, ...)
  under a constant action (about 2,000 steps): ``gymnasium.make(ID).step`` in a
  Python loop, the native env's ``step`` in the same Python loop, and the native env
  stepped by the Rust loop (``run_episodes`` with a native constant policy: no
  Python per step). All three run exactly the same episodes.
- **agent**: the bundled CartPole agent (native policy), ``run_episodes`` on N envs in
  lockstep (N = 1, 8, 64) over Gymnasium's envs and over native ones; per env-step.

Run (build with --release first):
    python -m pytest benches/bench_native.py --benchmark-group-by=group \
        --benchmark-columns=min,median,mean,rounds
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from spinfast import native
from spinfast._core import GraphNode, PolicyGraph
from spinfast.agent.example import copy_example
from spinfast.agent.policy import NativePolicy
from spinfast.agent.rollout import run_episodes
from spinfast.test_policy import load_policy

#: Episodes per round under a constant action (CartPole falls in about 9 steps,
#: Pendulum runs 200, Acrobot 500 without reaching the goal): about 2,000 steps.
EPISODES = {"CartPole-v1": 200, "Pendulum-v1": 10, "Acrobot-v1": 4}


def python_loop(env, action, episodes):
    """Episode k resets with seed k and steps with ``action`` until it ends."""
    steps = 0
    for k in range(episodes):
        env.reset(seed=k)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            steps += 1
    return steps


def constant_policy(env_id: str) -> NativePolicy:
    """A native policy giving one fixed action (0, or 0.0): the env's cost alone."""
    space = gymnasium.make(env_id).observation_space.shape[0]
    discrete = env_id != "Pendulum-v1"
    x = GraphNode("x", "Placeholder", [], {"dtype": "float32", "shape": [-1, space]})
    w = GraphNode("w", "Const", [], {"dtype": "float32"}, np.zeros((space, 1), np.float32))
    out = GraphNode("a", "MatMul", [("x", 0), ("w", 0)], {})
    nodes = [x, w, out]
    if discrete:
        axis = GraphNode("axis", "Const", [], {"dtype": "int32"}, np.array(1, np.int32))
        nodes.append(GraphNode("pi", "ArgMax", [("a", 0), ("axis", 0)], {"output_type": "int64"}))
        nodes.insert(2, axis)
    return NativePolicy(PolicyGraph("x", {"pi": nodes[-1].name}, nodes), "pi", 0)


@pytest.mark.parametrize("loop", ["gymnasium step", "native step", "native env, Rust loop"])
@pytest.mark.parametrize("env_id", list(EPISODES))
def bench_env_alone(benchmark, env_id, loop):
    episodes = EPISODES[env_id]
    action = np.zeros(1, np.float32) if env_id == "Pendulum-v1" else 0
    expected = python_loop(gymnasium.make(env_id), action, episodes)
    benchmark.group = f"{env_id}: the env alone, {expected} steps per round"
    if loop == "native env, Rust loop":
        policy, env = constant_policy(env_id), native.make(env_id)

        def rust_loop():
            return sum(e.length for e in run_episodes(env, policy, episodes, seed=0))

        steps = benchmark.pedantic(rust_loop, rounds=20, warmup_rounds=2)
    else:
        env = gymnasium.make(env_id) if loop == "gymnasium step" else native.make(env_id)
        steps = benchmark.pedantic(python_loop, (env, action, episodes), rounds=20, warmup_rounds=2)
    assert steps == expected


@pytest.fixture(scope="module")
def agent():
    return load_policy(copy_example(), seed=0)[1]


@pytest.mark.parametrize("envs", ["gymnasium", "native"])
@pytest.mark.parametrize("num_envs", [1, 8, 64])
def bench_agent_lockstep(benchmark, agent, envs, num_envs):
    """The bundled CartPole agent, N envs, 2 episodes each, the same episodes in both."""
    make = gymnasium.make if envs == "gymnasium" else native.make
    episodes = 2 * num_envs

    def run(env_list):
        agent.seed(0)
        return sum(e.length for e in run_episodes(env_list, agent, episodes, seed=0))

    expected = run([gymnasium.make("CartPole-v1") for _ in range(num_envs)])
    benchmark.group = f"bundled agent, N={num_envs} CartPole-v1 envs: {expected} env-steps"
    env_list = [make("CartPole-v1") for _ in range(num_envs)]
    rounds = max(3, 48 // num_envs)
    steps = benchmark.pedantic(run, (env_list,), rounds=rounds, warmup_rounds=1)
    assert steps == expected  # the same episodes
