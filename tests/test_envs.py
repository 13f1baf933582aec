"""Restoring the env from vars.pkl (a message per cause), making it by id, and running
episodes in Gymnasium and old gym envs alike."""

from __future__ import annotations

import importlib
import os
import sys

import joblib
import numpy as np
import pytest

from saved_agents import HORIZON, LineEnv, OldLineEnv
from spinfast.agent.envs import make_env, reset, restore_env, step
from spinfast.agent.rollout import Episode, run_episodes
from spinfast.agent.snapshots import Snapshot
from spinfast.errors import EnvironmentMismatch, EnvironmentNotFound


def not_found(tmp_path, itr=None) -> EnvironmentNotFound:
    with pytest.raises(EnvironmentNotFound) as err:
        restore_env(Snapshot(str(tmp_path), "simple_save", itr))
    message = str(err.value)
    # Spinning Up's first words, the cause, then the fix (both ways)
    assert message.startswith("Environment not found! ")
    assert message.endswith(
        f"_, get_action = load_policy('{tmp_path}'); run_policy(env, get_action)"
    )
    assert f"spinfast test_policy {tmp_path} --env ENV_ID" in message
    assert isinstance(err.value, AssertionError)
    return err.value


def test_restores_the_env_spinning_up_saved(tmp_path):
    joblib.dump({"env": LineEnv()}, tmp_path / "vars3.pkl")
    env = restore_env(Snapshot(str(tmp_path), "tf1_save", 3))
    assert isinstance(env, LineEnv)


def test_vars_pkl_missing(tmp_path):
    err = not_found(tmp_path, itr=4)
    assert (
        err.cause
        == f"{tmp_path}/vars4.pkl does not exist, so no environment was saved with this agent"
    )


def test_vars_pkl_empty_the_seeds_box2d_case(tmp_path):
    (tmp_path / "vars.pkl").write_bytes(b"")
    err = not_found(tmp_path)
    assert err.cause.startswith(
        f"{tmp_path}/vars.pkl is empty (0 bytes): the environment could not be pickled"
    )
    assert "Box2D" in err.cause


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"policy": 1, "epoch": 3}, "holds no environment under 'env' (only ['epoch', 'policy'])"),
        ({"env": None}, "holds no environment under 'env' (env=None)"),
        ([LineEnv()], "holds a list, not a dict with an 'env'"),
    ],
)
def test_vars_pkl_without_an_env(tmp_path, state, expected):
    joblib.dump(state, tmp_path / "vars.pkl")
    assert not_found(tmp_path).cause == f"{tmp_path}/vars.pkl {expected}"


@pytest.fixture
def env_module(tmp_path, monkeypatch):
    """A module defining an env class, importable from tmp_path; returns (name, path)."""
    name = f"user_env_{abs(hash(str(tmp_path)))}"
    path = tmp_path / f"{name}.py"
    path.write_text("class MyEnv:\n    def reset(self):\n        return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, path
    sys.modules.pop(name, None)


def pickle_env_then(tmp_path, env_module, change) -> EnvironmentNotFound:
    name, path = env_module
    module = importlib.import_module(name)
    joblib.dump({"env": module.MyEnv()}, tmp_path / "vars.pkl")
    del sys.modules[name]
    change(path)
    importlib.invalidate_caches()
    return not_found(tmp_path)


def test_env_module_gone(tmp_path, env_module):
    err = pickle_env_then(tmp_path, env_module, os.remove)
    name = env_module[0]
    assert err.cause == (
        f"{tmp_path}/vars.pkl needs the module '{name}' to rebuild the environment, and it "
        f"cannot be imported (No module named '{name}')"
    )


def test_env_module_needs_a_package_not_installed(tmp_path, env_module):
    def add_import(path):
        path.write_text("import spinfast_no_such_box2d\n" + path.read_text())

    err = pickle_env_then(tmp_path, env_module, add_import)
    assert err.cause == (
        f"{tmp_path}/vars.pkl needs the module '{env_module[0]}' to rebuild the environment, "
        "and it cannot be imported (No module named 'spinfast_no_such_box2d')"
    )


def test_env_class_gone(tmp_path, env_module):
    err = pickle_env_then(tmp_path, env_module, lambda path: path.write_text("X = 1\n"))
    assert err.cause == (
        f"{tmp_path}/vars.pkl needs 'MyEnv' from the module '{env_module[0]}' to rebuild the "
        "environment, and that module has no such name any more"
    )


def test_vars_pkl_corrupt(tmp_path):
    joblib.dump({"env": LineEnv()}, tmp_path / "vars.pkl")
    data = (tmp_path / "vars.pkl").read_bytes()
    (tmp_path / "vars.pkl").write_bytes(data[: len(data) // 2])
    err = not_found(tmp_path)
    assert err.cause.startswith(f"{tmp_path}/vars.pkl cannot be unpickled (")


def test_make_env_by_id_and_module_id():
    assert make_env("CartPole-v1").spec.id == "CartPole-v1"
    env = make_env("saved_agents:SpinfastLine-v0")
    assert isinstance(env.unwrapped, LineEnv)


@pytest.mark.parametrize(
    ("env_id", "expected"),
    [
        ("NoSuchEnv-v0", "Environment `NoSuchEnv` doesn't exist."),
        ("CartPole-v9", "Environment version `v9` for environment `CartPole` doesn't exist."),
        ("spinfast_no_module:X-v0", "No module named 'spinfast_no_module'"),
    ],
)
def test_make_env_unknown(env_id, expected):
    with pytest.raises(EnvironmentNotFound) as err:
        make_env(env_id)
    assert str(err.value).startswith(f"Environment not found! --env {env_id}: {expected}")
    assert str(err.value).endswith("or module:Id with a module that registers Id")


def test_reset_and_step_gymnasium_api():
    env = LineEnv()
    obs = reset(env, seed=7)
    assert obs.tolist() == [0.0, 1.0] and env.seeds == [7]
    assert reset(env).tolist() == [0.0, 1.0] and env.seeds == [7, None]
    obs, reward, done = step(env, np.array([2.5]))
    assert (obs.tolist(), reward, done) == ([1.0, 1.0], 2.5, False)


def test_reset_and_step_old_gym_api():
    env = OldLineEnv()
    assert reset(env).tolist() == [0.0, 1.0] and env.seeds == []
    assert reset(env, seed=3).tolist() == [0.0, 1.0] and env.seeds == [3]
    for _ in range(HORIZON - 1):
        assert step(env, [1.0])[2] is False
    assert step(env, [1.0]) == (pytest.approx([HORIZON, 1.0]), 1.0, True)


def test_truncated_ends_the_episode_too():
    env = make_env("CartPole-v1")
    env = type(env)(env.env, max_episode_steps=3)  # TimeLimit at 3 steps
    reset(env, seed=0)
    assert [step(env, 0)[2] for _ in range(3)] == [False, False, True]


class Unseedable:
    def reset(self):
        return np.zeros(2)

    def step(self, action):
        return np.zeros(2), 1.0, True


def test_env_apis_that_are_neither():
    with pytest.raises(EnvironmentMismatch, match="Unseedable cannot be seeded"):
        reset(Unseedable(), seed=0)
    with pytest.raises(EnvironmentMismatch, match=r"Unseedable.step returned 3 values; expected 5"):
        step(Unseedable(), 0)


@pytest.mark.parametrize("make", [LineEnv, OldLineEnv])
def test_run_episodes_hand_computed(make):
    env = make()
    seen = []
    episodes = run_episodes(
        env,
        lambda obs: [obs[0] + 1.0],
        num_episodes=3,
        render=True,
        seed=10,
        on_episode=seen.append,
    )
    # mu = t + 1 for t = 0..4: return 15 over 5 steps
    assert episodes == [Episode(k, 15.0, HORIZON) for k in range(3)] == seen
    assert env.seeds == [10, 11, 12]
    assert env.renders == 3 * HORIZON


def test_run_episodes_max_len_and_no_seed():
    env = LineEnv()
    episodes = run_episodes(env, lambda obs: [obs[0]], num_episodes=2, max_ep_len=3)
    assert episodes == [Episode(0, 0.0 + 1.0 + 2.0, 3), Episode(1, 3.0, 3)]
    assert env.seeds == [None, None] and env.renders == 0
    # 0 means no limit, as the CLI's -l 0
    assert run_episodes(env, lambda obs: [1.0], 1, max_ep_len=0)[0] == Episode(0, 5.0, HORIZON)


def test_docstring_examples_run():
    import doctest

    import spinfast.agent.envs
    import spinfast.agent.rollout
    import spinfast.agent.snapshots

    for module in (spinfast.agent.envs, spinfast.agent.rollout, spinfast.agent.snapshots):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
