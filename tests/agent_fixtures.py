"""Agents saved once per test module, and a runner for the test_policy command.

Shared by the test_policy and engine tests: conftest.py registers this module as a
pytest plugin, so a test names a fixture (``sac_like``, ``cartpole``, ...) as an
argument, and imports the plain helpers (``cli``, ``episodes_of``, ...).
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")
EPISODE = re.compile(r"^Episode (\d+) \t EpRet (-?\d+\.\d{3}) \t EpLen (\d+)$")
CARTPOLE_GAINS = [0.0, 0.0, 1.0, 0.0]  # push toward the pole's lean: a poor, seed-sensitive agent


def saved_agents():
    """tests/saved_agents.py, which needs TensorFlow: skip when the tf extra is absent."""
    pytest.importorskip("tensorflow", reason="the tf extra is not installed: pip install '.[tf]'")
    import saved_agents

    return saved_agents


# --- agents, built once per module -------------------------------------------------------


@pytest.fixture(scope="module")
def sac_like(tmp_path_factory):
    """Gaussian agent with mu (SAC-like), simple_save layout, snapshots 0, 10, 20 and the
    unnumbered one with bias 0, 1, 2, 3: deterministic returns 10, 15, 20, 25."""
    sa = saved_agents()
    folder = str(tmp_path_factory.mktemp("sac_like"))
    weights = {
        itr: {"bias": [bias], "log_std": [0.0]}
        for itr, bias in ((0, 0.0), (10, 1.0), (20, 2.0), (None, 3.0))
    }
    return sa.save_snapshots(folder, sa.gaussian_agent(with_mu=True), weights, env=sa.LineEnv())


@pytest.fixture(scope="module")
def ppo_like(tmp_path_factory):
    """Gaussian agent without mu (PPO-like), tf1_save layout, log_std = -30 so pi = mu to
    1e-12; unnumbered only, bias 1: return 15."""
    sa = saved_agents()
    folder = str(tmp_path_factory.mktemp("ppo_like"))
    weights = {None: {"bias": [1.0], "log_std": [-30.0]}}
    return sa.save_snapshots(
        folder, sa.gaussian_agent(with_mu=False), weights, env=sa.LineEnv(), layout="tf1_save"
    )


@pytest.fixture(scope="module")
def coin(tmp_path_factory):
    """Categorical agent on LineEnv(discrete): snapshot 0 picks 0/1 at random (return =
    number of 1s), snapshot 1 always 1 (logits -40, 40: return 5)."""
    sa = saved_agents()
    folder = str(tmp_path_factory.mktemp("coin"))
    weights = {0: {"w": np.zeros((2, 2))}, 1: {"w": [[0.0, 0.0], [-40.0, 40.0]]}}
    return sa.save_snapshots(folder, sa.categorical_agent(), weights, env=sa.LineEnv(discrete=True))


@pytest.fixture(scope="module")
def old_gym(tmp_path_factory):
    """SAC-like agent (bias 2: return 20) whose vars.pkl holds an old gym-style env."""
    sa = saved_agents()
    folder = str(tmp_path_factory.mktemp("old_gym"))
    weights = {None: {"bias": [2.0], "log_std": [0.0]}}
    return sa.save_snapshots(folder, sa.gaussian_agent(), weights, env=sa.OldLineEnv())


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory):
    """A linear CartPole controller whose vars.pkl holds gymnasium.make('CartPole-v1')."""
    sa = saved_agents()
    import gymnasium

    folder = str(tmp_path_factory.mktemp("cartpole"))
    weights = {None: {}}
    env = gymnasium.make("CartPole-v1")
    return sa.save_snapshots(folder, sa.linear_controller_agent(CARTPOLE_GAINS), weights, env=env)


def copy_agent(src, dst):
    shutil.copytree(src, dst)
    return str(dst)


# --- running the command -----------------------------------------------------------------


def cli(capsys, *argv):
    """Run ``spinfast test_policy ARGV`` in this process: (exit code, stdout, stderr)."""
    from spinfast.cli import main as spinfast_main

    capsys.readouterr()
    code = spinfast_main(["test_policy", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, ANSI.sub("", out), err


def episodes_of(stdout):
    return [
        (int(m[1]), float(m[2]), int(m[3]))
        for m in (EPISODE.match(line) for line in stdout.splitlines())
        if m
    ]


def one_line_error(code, out, err, start):
    assert code == 1
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith(start), err
    return lines[-1]
