"""spinfast.native: Gymnasium's classic-control envs in Rust against Gymnasium itself,
live: every observation (float32 bits), reward, terminated, truncated and error of a
scripted trajectory (seeded and unseeded resets, reset options, stepping past the end,
invalid actions, float32 and float64 actions, changed constants) equals
``gymnasium.make``'s; and the native env is chosen by itself where it can be, giving
the same episodes as the Python env, with the loop entirely in Rust.

The identity is tested against the Gymnasium and NumPy versions the test extra pins.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import gymnasium
import numpy as np
import pytest

from spinfast import native
from spinfast.agent.envs import with_backend
from spinfast.agent.rollout import run_episodes
from spinfast.errors import EnvironmentMismatch

_spec = importlib.util.spec_from_file_location(
    "make_reference", Path(__file__).parent / "fixtures" / "envs" / "make_reference.py"
)
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


def test_the_pinned_versions():
    """The identity below is what was verified; a new Gymnasium or NumPy may change it."""
    assert gymnasium.__version__ == "1.4.0"
    assert np.__version__.startswith("2.")


def replay(env_id, events, kwargs=None, attributes=None):
    """Run a Gymnasium trajectory's calls through the native env; every result equal."""
    env = native.make(env_id, **(kwargs or {}))
    if attributes:
        assert env.set_constants(attributes) == []
    for k, kind in enumerate(events["kind"]):
        error, want = events["error"][k], events["obs"][k]
        try:
            if kind == reference.STEP:
                obs, reward, terminated, truncated, _ = env.step(events["action"][k])
            else:
                obs, _ = env.reset(seed=events["seed"][k], options=events["options"][k])
        except Exception as err:  # noqa: BLE001 - the same exception as Gymnasium's
            assert error == (type(err).__name__, str(err)), (env_id, k)
            continue
        assert error is None, (env_id, k, error)
        assert obs.dtype == np.float32 and obs.tobytes() == want.tobytes(), (env_id, k)
        if kind == reference.STEP:
            got = (reward, terminated, truncated)
            assert got == (events["reward"][k], events["terminated"][k], events["truncated"][k])


@pytest.mark.parametrize("env_id", native.IDS)
@pytest.mark.parametrize("action_dtype", ["float32", "float64"])
def test_trajectories_equal_gymnasiums(env_id, action_dtype):
    for seed in (0, 7, 2**64 + 3):
        events = reference.trajectory(env_id, seed, 1500, seed + 1, action_dtype=action_dtype)
        replay(env_id, events)


@pytest.mark.parametrize(
    ("env_id", "kwargs", "attributes"),
    [
        ("CartPole-v1", {"sutton_barto_reward": True, "max_episode_steps": 50}, None),
        ("CartPole-v1", None, {"gravity": 20.0, "kinematics_integrator": "semi-implicit"}),
        ("Pendulum-v1", {"g": 9.81}, {"max_torque": 1.0}),
        ("Acrobot-v1", None, {"book_or_nips": "nips", "torque_noise_max": 0.1, "dt": 0.1}),
        ("MountainCarContinuous-v0", {"goal_velocity": 0.01}, {"power": 0.003}),
    ],
)
def test_keywords_and_changed_constants(env_id, kwargs, attributes):
    events = reference.trajectory(env_id, 3, 1500, 4, kwargs=kwargs, attributes=attributes)
    replay(env_id, events, kwargs, attributes)


def test_gymnasium_api_and_errors():
    env, theirs = native.make("CartPole-v1"), gymnasium.make("CartPole-v1")
    assert env.observation_space == theirs.observation_space
    assert env.action_space == theirs.action_space
    assert (env.spec.id, env.spec.max_episode_steps) == ("CartPole-v1", 500)
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(0)
    for bad_seed, message in ((-1, "greater or equal to zero"), (1.5, "python integer")):
        with pytest.raises(gymnasium.error.Error, match=message):
            env.reset(seed=bad_seed)
        with pytest.raises(gymnasium.error.Error, match=message):
            theirs.reset(seed=bad_seed)
    with pytest.raises(gymnasium.error.NameNotFound):
        native.make("LunarLander-v3")
    assert isinstance(env, gymnasium.Env)


def test_from_gymnasium_carries_constants_and_says_why_not():
    env = gymnasium.make("CartPole-v1")
    env.unwrapped.gravity = 15.0
    made, why = native.from_gymnasium(env)
    assert why == "" and isinstance(made, native.NativeEnv)
    ours, theirs = made.reset(seed=1)[0], env.reset(seed=1)[0]
    for t in range(40):
        ours, theirs = made.step(t % 2)[0], env.step(t % 2)[0]
    assert ours.tobytes() == theirs.tobytes()  # the changed gravity is the one stepped

    refusals = {
        "is wrapped in RecordEpisodeStatistics": gymnasium.wrappers.RecordEpisodeStatistics(
            gymnasium.make("CartPole-v1")
        ),
        "renders": gymnasium.make("CartPole-v1", render_mode="rgb_array"),
        "not one of the native envs": gymnasium.make("FrozenLake-v1"),
    }
    for reason, env in refusals.items():
        made, why = native.from_gymnasium(env)
        assert made is None and reason in why
        assert with_backend(env, "auto") is env
        with pytest.raises(EnvironmentMismatch, match=f"--env-backend native: .*{reason}"):
            with_backend(env, "native")


@pytest.mark.parametrize("env_id", native.IDS)
def test_from_gymnasium_goes_on_with_the_instances_generator(env_id):
    """An env used, then pickled and restored (as vars.pkl holds it): the native twin's
    unseeded resets and steps are the restored Gymnasium env's, bit for bit."""
    import pickle

    env = gymnasium.make(env_id)
    env.reset(seed=11)
    for _ in range(5):
        env.step(env.action_space.sample())
    env.reset()  # an unseeded reset: the generator has moved on
    restored = pickle.loads(pickle.dumps(env))
    made, why = native.from_gymnasium(restored)
    assert why == ""
    assert made.np_random_seed == restored.unwrapped.np_random_seed == 11
    rng = np.random.default_rng(0)
    for _ in range(3):
        ours, theirs = made.reset()[0], restored.reset()[0]
        assert ours.tobytes() == theirs.tobytes()
        for _ in range(20):
            action = restored.action_space.sample() if env_id != "CartPole-v1" else int(
                rng.integers(2))  # fmt: skip
            assert made.step(action)[0].tobytes() == restored.step(action)[0].tobytes()
    fresh = native.from_gymnasium(gymnasium.make(env_id))[0]  # never reset: no generator yet
    assert fresh.np_random_seed is None


def test_a_native_loop_gives_the_python_envs_episodes(example_policy):
    """CartPole-v1 natively and in Gymnasium, one env and three in lockstep, a sampled
    agent seeded the same: the same episodes."""
    for itr, num_envs in (("last", 1), (0, 3)):
        policy = example_policy(itr)
        policy.seed(0)
        ours = run_episodes(
            [native.make("CartPole-v1") for _ in range(num_envs)], policy, 9, seed=5
        )
        policy.seed(0)
        envs = [gymnasium.make("CartPole-v1") for _ in range(num_envs)]
        assert run_episodes(envs, policy, 9, seed=5) == ours


def test_errors_and_callbacks_in_a_native_loop(example_policy):
    policy = example_policy(0)
    seen = []
    episodes = run_episodes(native.make("CartPole-v1"), policy, 4, seed=0, on_episode=seen.append)
    assert seen == episodes

    def boom(episode):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        run_episodes(native.make("CartPole-v1"), policy, 4, seed=0, on_episode=boom)
    with pytest.raises(gymnasium.error.Error, match="greater or equal to zero"):
        run_episodes(native.make("CartPole-v1"), policy, 1, seed=-3)


@pytest.fixture(scope="module")
def example_policy():
    from spinfast.agent.example import copy_example
    from spinfast.test_policy import load_policy

    path = copy_example()
    return lambda itr: load_policy(path, itr, seed=0)[1]


def test_cli_env_backends_agree(capsys, tmp_path):
    from agent_fixtures import cli
    from spinfast.agent.example import copy_example

    path = copy_example(tmp_path / "agent")
    reports = {}
    for backend in ("native", "python"):
        argv = (path, "-i", 0, "-n", 6, "-nr", "--seed", 2, "--num-envs", 2, "--json")
        code, out, err = cli(capsys, *argv, "--env-backend", backend, "--out", tmp_path / backend)
        assert code == 0, err
        reports[backend] = json.loads(out)
    assert reports["native"]["env_backend"] == "native"
    assert reports["python"]["env_backend"] == "python"
    assert reports["native"]["episodes"] == reports["python"]["episodes"]


INTERRUPT = """
import sys
from spinfast import native
from spinfast.agent.example import copy_example
from spinfast.agent.rollout import run_episodes
from spinfast.test_policy import load_policy

_, policy = load_policy(copy_example(), seed=0)
print("started", flush=True)
try:
    run_episodes([native.make("CartPole-v1") for _ in range(4)], policy, 10**6, seed=0)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_stops_a_native_loop():
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPT], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "started\n"
        threading.Event().wait(1.0)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert out == "interrupted\n" and proc.returncode == 0
