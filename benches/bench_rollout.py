"""The episode loop: per-step cost of spinfast's loop (Rust), the plain Python
reference loop (tests/reference_rollout.py), a bare ``env.step`` loop and Spinning
Up's own loop (one ``sess.run`` per step), on the same agent, env and seeds; then N
envs in lockstep (N = 1, 8, 64), per env-step; then the whole cost per step and per
episode of ``run_episodes`` with the bundled CartPole agent run natively, against a
bare loop replaying the same actions (500-step and 9-step episodes).

The env is Pendulum-v1, whose episodes always last 200 steps (truncated), so every
loop runs exactly the same number of steps: per-step cost = time / steps, with the
steps in each group's name. The agent is Spinning Up's default Gaussian MLP policy
(64, 64 tanh; ``pi = mu + exp(log_std) * N(0, 1)``), saved and loaded as test_policy
loads it. A NumPy copy of the same MLP shows the loop's own cost apart from TF's.

Run (build with --release first; all groups side by side in one run):
    python -m pytest benches/bench_rollout.py --benchmark-group-by=group \
        --benchmark-columns=min,median,mean,rounds
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="the benches need the tf extra")

import gymnasium  # noqa: E402

from spinfast.agent.rollout import run_episodes  # noqa: E402
from spinfast.agent.tf_model import TFPolicy, restore_tf_graph  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))
from reference_rollout import run_reference  # noqa: E402
from saved_agents import save_snapshots  # noqa: E402

EP_LEN = 200  # Pendulum-v1's time limit
EPISODES = 5  # per round, single env
SEED = 0
HIDDEN = (64, 64)
ROUNDS = 10  # single-env groups; the machine is shared, so minimums are the numbers to read


def mlp_weights(obs_dim: int = 3, act_dim: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    sizes = [obs_dim, *HIDDEN, act_dim]
    weights = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        weights[f"w{i}"] = rng.normal(0, 1 / np.sqrt(m), (m, n)).astype(np.float32)
        weights[f"b{i}"] = np.zeros(n, np.float32)
    weights["log_std"] = np.full(act_dim, -0.5, np.float32)
    return weights


def gaussian_mlp():
    """Spinning Up's mlp_gaussian_policy, with tf.compat.v1 variables and matmuls."""
    weights = mlp_weights()

    def build():
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, (None, 3))
        variables = {k: v1.get_variable(k, initializer=v) for k, v in weights.items()}
        h = x
        for i in range(len(HIDDEN)):
            h = tf.tanh(tf.matmul(h, variables[f"w{i}"]) + variables[f"b{i}"])
        mu = tf.matmul(h, variables[f"w{len(HIDDEN)}"]) + variables[f"b{len(HIDDEN)}"]
        pi = mu + tf.exp(variables["log_std"]) * v1.random_normal(tf.shape(mu))
        return {"x": x}, {"pi": pi, "mu": mu}, variables

    return build, weights


class NumpyPolicy:
    """The same MLP's mean action in NumPy: the cost of a cheap policy."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.layers = [(weights[f"w{i}"], weights[f"b{i}"]) for i in range(len(HIDDEN) + 1)]

    def batch(self, obs: np.ndarray) -> np.ndarray:
        h = np.asarray(obs, np.float32)
        for w, b in self.layers[:-1]:
            h = np.tanh(h @ w + b)
        w, b = self.layers[-1]
        return h @ w + b

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.batch(np.asarray(obs)[None])[0]


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    build, weights = gaussian_mlp()
    folder = save_snapshots(str(tmp_path_factory.mktemp("agent")), build, {None: {}})
    return os.path.join(folder, "simple_save"), weights


def make_env():
    return gymnasium.make("Pendulum-v1")


def bare_loop(env, action, episodes):
    """env.step alone, with a constant action: the floor."""
    steps = 0
    for k in range(episodes):
        env.reset(seed=SEED + k)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            steps += 1
    return steps


def spinning_up_loop(env, sess, model, episodes, max_ep_len=None):
    """spinup/utils/test_policy.py's run_policy loop (its get_action is one sess.run
    with a feed_dict per step; an episode also ends at max_ep_len), on Gymnasium's
    5-tuple."""
    get_action = lambda x: sess.run(model["pi"], feed_dict={model["x"]: x[None, :]})[0]  # noqa: E731
    steps = 0
    for k in range(episodes):
        o, _ = env.reset(seed=SEED + k)
        ep_ret, ep_len, d = 0.0, 0, False
        while not (d or ep_len == max_ep_len):
            o, r, terminated, truncated, _ = env.step(get_action(o))
            d = terminated or truncated
            ep_ret += r
            ep_len += 1
        steps += ep_len
    return steps


def engine_loop(engine):
    """``"rust"``: spinfast's ``run_episodes``; ``"python"``: the reference loop."""
    loop = run_episodes if engine == "rust" else run_reference

    def run(env, policy, episodes):
        return sum(ep.length for ep in loop(env, policy, episodes, seed=SEED))

    return run


SINGLE = f"one env: {EPISODES} episodes = {EPISODES * EP_LEN} steps per round"


@pytest.mark.benchmark(group=SINGLE + ", TF policy")
@pytest.mark.parametrize(
    "loop", ["bare env.step", "Spinning Up loop", "python reference loop", "rust loop (spinfast)"]
)
def bench_one_env_tf(benchmark, agent, loop):
    path, _ = agent
    env = make_env()
    if loop == "bare env.step":
        action = np.zeros(1, np.float32)
        steps = benchmark.pedantic(
            bare_loop, (env, action, EPISODES), rounds=ROUNDS, warmup_rounds=1
        )
    elif loop == "Spinning Up loop":
        sess = tf.compat.v1.Session(graph=tf.Graph())
        model = restore_tf_graph(sess, path, seed=SEED)
        args = (env, sess, model, EPISODES)
        steps = benchmark.pedantic(spinning_up_loop, args, rounds=ROUNDS, warmup_rounds=1)
    else:
        policy = TFPolicy(path, seed=SEED)
        run = engine_loop(loop.split()[0])
        steps = benchmark.pedantic(run, (env, policy, EPISODES), rounds=ROUNDS, warmup_rounds=1)
    assert steps == EPISODES * EP_LEN


@pytest.mark.benchmark(group=SINGLE + ", NumPy policy (the loop's own cost shows)")
@pytest.mark.parametrize("engine", ["python", "rust"])
def bench_one_env_numpy(benchmark, agent, engine):
    policy = NumpyPolicy(agent[1])
    args = (make_env(), policy, EPISODES)
    steps = benchmark.pedantic(engine_loop(engine), args, rounds=ROUNDS, warmup_rounds=1)
    assert steps == EPISODES * EP_LEN


class NullEnv:
    """Does nothing, in 200-step episodes: what is left is the loop's own cost."""

    def __init__(self) -> None:
        self.t = 0
        self.obs = np.zeros(3)

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self.obs, {}

    def step(self, action):
        self.t += 1
        return self.obs, 1.0, False, self.t >= EP_LEN, {}


@pytest.mark.benchmark(group=f"the loop alone: a do-nothing env and policy, {50 * EP_LEN} steps")
@pytest.mark.parametrize("loop", ["bare env.step", "python reference loop", "rust loop (spinfast)"])
def bench_loop_alone(benchmark, loop):
    env, action = NullEnv(), np.zeros(1)
    if loop == "bare env.step":
        steps = benchmark.pedantic(bare_loop, (env, action, 50), rounds=50, warmup_rounds=1)
    else:
        run = engine_loop(loop.split()[0])
        steps = benchmark.pedantic(run, (env, lambda obs: action, 50), rounds=50, warmup_rounds=1)
    assert steps == 50 * EP_LEN


@pytest.mark.parametrize("num_envs", [1, 8, 64])
@pytest.mark.parametrize("policy_kind", ["TF", "NumPy"])
@pytest.mark.parametrize("engine", ["python", "rust"])
def bench_lockstep(benchmark, agent, num_envs, policy_kind, engine):
    """N envs, one batched policy call per step, N episodes (one per env) per round."""
    path, weights = agent
    envs = [make_env() for _ in range(num_envs)]
    policy = TFPolicy(path, seed=SEED) if policy_kind == "TF" else NumpyPolicy(weights)
    steps_per_round = num_envs * EP_LEN
    benchmark.group = (
        f"N={num_envs} envs in lockstep, {policy_kind} policy: "
        f"{steps_per_round} env-steps per round"
    )
    run = engine_loop(engine)
    rounds = max(3, 128 // num_envs)
    steps = benchmark.pedantic(run, (envs, policy, num_envs), rounds=rounds, warmup_rounds=1)
    assert steps == steps_per_round


# --- run_episodes with a native agent against a bare loop doing the same env work ----------


class ConstantAction:
    """An agent that always pushes right: CartPole episodes of about 9 steps, as an
    early-training agent's."""

    def __call__(self, obs):
        return 1


def cartpole_agent(kind: str):
    """The bundled agent's last snapshot (500-step episodes), run natively; or the
    right-pusher, as a native graph (a constant action) so that it runs as natively."""
    from spinfast.agent.example import copy_example
    from spinfast.test_policy import load_policy

    if kind == "500-step":
        _, policy = load_policy(copy_example(), seed=SEED)
        return policy
    from spinfast._core import GraphNode
    from spinfast.agent.graph import PolicyGraph
    from spinfast.agent.policy import NativePolicy

    one = np.ones((4, 1), np.float32) * 0  # x @ 0 + 1 = 1, cast by ArgMax over [0, 1]
    graph = PolicyGraph(
        input="x",
        outputs={"pi": "pi"},
        nodes=(
            GraphNode("x", "Placeholder", [], {"dtype": "float32", "shape": [-1, 4]}),
            GraphNode("w", "Const", [], {"dtype": "float32"}, np.hstack([one, one])),
            GraphNode("b", "Const", [], {"dtype": "float32"}, np.array([0, 1], np.float32)),
            GraphNode("mm", "MatMul", [("x", 0), ("w", 0)], {}),
            GraphNode("logits", "BiasAdd", [("mm", 0), ("b", 0)], {}),
            GraphNode("axis", "Const", [], {"dtype": "int32"}, np.array(1, np.int32)),
            GraphNode("pi", "ArgMax", [("logits", 0), ("axis", 0)], {"output_type": "int64"}),
        ),
    )
    return NativePolicy(graph, "pi", SEED)


def recorded_actions(policy, episodes: int) -> list[list]:
    """The actions ``policy`` takes in each episode (seed SEED + k)."""
    env, actions = gymnasium.make("CartPole-v1"), []
    for k in range(episodes):
        obs, _ = env.reset(seed=SEED + k)
        taken, done = [], False
        while not done:
            taken.append(policy(obs))
            obs, _, terminated, truncated, _ = env.step(taken[-1])
            done = terminated or truncated
        actions.append(taken)
    return actions


def replay_loop(env, actions):
    """The bare loop: reset(seed) and step through the recorded actions, no policy."""
    steps = 0
    for k, taken in enumerate(actions):
        env.reset(seed=SEED + k)
        for action in taken:
            env.step(action)
        steps += len(taken)
    return steps


@pytest.mark.parametrize("kind", ["500-step", "9-step"])
@pytest.mark.parametrize("loop", ["bare replay", "run_episodes", "python reference loop"])
def bench_cartpole_native(benchmark, kind, loop):
    """CartPole-v1, the agent native: all of run_episodes' cost (policy, loop, per-episode
    work) against the env's own (the bare loop replays the same actions)."""
    episodes = 4 if kind == "500-step" else 200
    policy = cartpole_agent(kind)
    actions = recorded_actions(policy, episodes)
    total = sum(map(len, actions))
    benchmark.group = f"CartPole-v1, {kind} episodes, native agent: {total} steps per round"
    env = gymnasium.make("CartPole-v1")
    if loop == "bare replay":
        steps = benchmark.pedantic(replay_loop, (env, actions), rounds=20, warmup_rounds=2)
    else:
        run = engine_loop("rust" if loop == "run_episodes" else "python")
        steps = benchmark.pedantic(run, (env, policy, episodes), rounds=20, warmup_rounds=2)
    assert steps == total
