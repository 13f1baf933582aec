"""The trained agent bundled with spinfast, and ``spinfast example``.

No training here: the files shipped in the package are checked as they are,
loaded with plain tf.compat.v1 and Gymnasium, and a few episodes are run.
"""

from __future__ import annotations

import doctest
import filecmp
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spinfast
from spinfast.agent import example

SHIPPED = Path(str(resources.files("spinfast") / "example_agent"))
SNAPSHOTS = [0, 10, 20, 29]


def test_the_shipped_folder_is_a_spinning_up_run():
    names = sorted(os.listdir(SHIPPED))
    assert names == sorted(
        ["config.json", "progress.txt", "simple_save", "vars.pkl"]
        + [f"simple_save{i}" for i in SNAPSHOTS]
        + [f"vars{i}.pkl" for i in SNAPSHOTS]
    )
    for snapshot in [f"simple_save{i}" for i in SNAPSHOTS] + ["simple_save"]:
        assert sorted(os.listdir(SHIPPED / snapshot)) == [
            "model_info.pkl",
            "saved_model.pb",
            "variables",
        ]
    config = json.loads((SHIPPED / "config.json").read_text())
    assert (config["exp_name"], config["env_name"], config["seed"]) == (
        "ppo-cartpole",
        "CartPole-v1",
        0,
    )
    size = sum(f.stat().st_size for f in SHIPPED.rglob("*") if f.is_file())
    assert size < 1_000_000  # kept small: a (32, 32) MLP


def test_its_progress_shows_the_learning():
    progress = spinfast.read_progress(SHIPPED / "progress.txt")
    pd.testing.assert_frame_equal(
        progress.to_pandas(), pd.read_table(SHIPPED / "progress.txt"), check_dtype=False
    )
    returns = progress["AverageEpRet"]
    assert len(returns) == SNAPSHOTS[-1] + 1
    assert returns[0] < 50 and returns[-1] >= 475


def test_the_saved_env_is_plain_gymnasium(monkeypatch):
    """vars.pkl needs only gymnasium, numpy and joblib to load: a clean machine's."""
    joblib = pytest.importorskip("joblib", reason="vars.pkl is read with the tf extra's joblib")
    pytest.importorskip("gymnasium", reason="the saved env is a Gymnasium env")
    from joblib import numpy_pickle

    modules = set()
    find_class = numpy_pickle.NumpyUnpickler.find_class

    def recording_find_class(self, module, name):
        modules.add(module.split(".")[0])
        return find_class(self, module, name)

    monkeypatch.setattr(numpy_pickle.NumpyUnpickler, "find_class", recording_find_class)
    for itr in [*SNAPSHOTS, ""]:
        env = joblib.load(SHIPPED / f"vars{itr}.pkl")["env"]
        assert env.spec.id == "CartPole-v1"
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert len(env.step(0)) == 5
    assert modules <= {"gymnasium", "numpy", "joblib"} | set(sys.stdlib_module_names)


def _episode_returns(itr: int | str, episodes: int) -> list[float]:
    """Run a snapshot's pi in its saved env: plain tf.compat.v1, Gymnasium's 5-tuple."""
    tf = pytest.importorskip("tensorflow", reason="the agent is a TF graph (tf extra)")
    joblib = pytest.importorskip("joblib", reason="snapshots are read with joblib (tf extra)")
    v1 = tf.compat.v1
    path = SHIPPED / f"simple_save{itr}"
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        v1.saved_model.loader.load(sess, [v1.saved_model.tag_constants.SERVING], str(path))
        info = joblib.load(path / "model_info.pkl")
        assert info == {"inputs": {"x": "x:0"}, "outputs": {"pi": "pi:0", "v": "v:0"}}
        x = graph.get_tensor_by_name(info["inputs"]["x"])
        pi = graph.get_tensor_by_name(info["outputs"]["pi"])
        v = graph.get_tensor_by_name(info["outputs"]["v"])
        env = joblib.load(SHIPPED / f"vars{itr}.pkl")["env"]
        returns = []
        for k in range(episodes):
            o, _ = env.reset(seed=100 + k)
            assert np.isfinite(sess.run(v, {x: o[None, :]})).all()
            done, ret = False, 0.0
            while not done:
                o, r, terminated, truncated, _ = env.step(int(sess.run(pi, {x: o[None, :]})[0]))
                ret, done = ret + r, terminated or truncated
            returns.append(ret)
    return returns


def test_the_first_snapshot_is_poor_and_the_last_balances_the_pole():
    assert np.mean(_episode_returns(0, 3)) < 100
    assert _episode_returns(SNAPSHOTS[-1], 2) == [500.0, 500.0]
    assert _episode_returns("", 1) == [500.0]


def test_copy_example_into_a_new_temporary_folder():
    path = Path(example.copy_example())
    assert path.name == "ppo-cartpole_s0"
    comparison = filecmp.dircmp(SHIPPED, path)
    assert comparison.left_only == comparison.right_only == comparison.diff_files == []
    assert filecmp.cmpfiles(SHIPPED / "simple_save29", path / "simple_save29", ["saved_model.pb"])[
        0
    ] == ["saved_model.pb"]


def test_command_prints_only_the_path_and_refuses_to_replace(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "spinfast", "example", *args],
            capture_output=True,
            text=True,
        )

    new = run(str(tmp_path / "agent"))
    assert (new.returncode, new.stdout, new.stderr) == (0, f"{tmp_path / 'agent'}\n", "")
    assert (tmp_path / "agent" / "simple_save" / "saved_model.pb").is_file()

    into = run(str(tmp_path))  # an existing folder receives the copy, as with cp -r
    assert into.stdout == f"{tmp_path / 'ppo-cartpole_s0'}\n"

    again = run(str(tmp_path))
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr == (
        f"spinfast example: {tmp_path / 'ppo-cartpole_s0'}: already exists; "
        "choose another destination\n"
    )

    default = run()
    assert default.returncode == 0 and os.path.isdir(default.stdout.strip())


def test_docstring_example_runs(capsys):
    failures, tried = doctest.testmod(example)
    assert tried > 0 and failures == 0
