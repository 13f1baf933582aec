"""Logger.save_state with setup_tf_saver: snapshots a plain TF1 session and
Spinning Up's own loader read back, computing what the graph computed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from spinfast import logx
from spinningup_source import load_spinup

tf = pytest.importorskip("tensorflow", reason="TF snapshots need the tf extra")
joblib = pytest.importorskip("joblib", reason="snapshots need the tf extra's joblib")
v1 = tf.compat.v1

OBS = np.array([[0.1, -0.2, 0.3, 0.5], [1.0, 2.0, -3.0, 0.0], [0.0, 0.0, 0.0, 0.0]], np.float32)


class Agent:
    """A TF1 graph with Spinning Up's names: x -> pi (greedy action), v (value)."""

    def __init__(self, weights: np.ndarray) -> None:
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x = v1.placeholder(tf.float32, (None, 4), name="x")
            self.w = v1.get_variable("w", initializer=weights)
            logits = tf.matmul(self.x, self.w)
            self.pi = tf.argmax(logits, axis=1, name="pi")
            self.v = tf.reduce_sum(logits, axis=1, name="v")
            self.sess = v1.Session(graph=self.graph)
            self.sess.run(v1.global_variables_initializer())

    def set_weights(self, weights: np.ndarray) -> None:
        with self.graph.as_default():
            self.w.load(weights, self.sess)

    def outputs(self) -> dict[str, np.ndarray]:
        pi, v = self.sess.run([self.pi, self.v], {self.x: OBS})
        return {"pi": pi, "v": v}

    def logger(self, out: Path) -> logx.Logger:
        logger = logx.Logger(output_dir=str(out))
        logger.setup_tf_saver(self.sess, {"x": self.x}, {"pi": self.pi, "v": self.v})
        return logger


def _weights(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(4, 2)).astype(np.float32)


def _run_snapshot(path: Path) -> dict[str, np.ndarray]:
    """Load a snapshot as a user would with plain tf.compat.v1, and run it on OBS."""
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        v1.saved_model.loader.load(sess, [v1.saved_model.tag_constants.SERVING], str(path))
        info = joblib.load(path / "model_info.pkl")
        x = graph.get_tensor_by_name(info["inputs"]["x"])
        names = info["outputs"]
        values = sess.run([graph.get_tensor_by_name(names[k]) for k in ("pi", "v")], {x: OBS})
    return dict(zip(("pi", "v"), values, strict=True))


def _assert_same(got: dict, expected: dict) -> None:
    assert np.array_equal(got["pi"], expected["pi"])
    np.testing.assert_array_equal(got["v"], expected["v"])


def test_snapshots_load_in_a_plain_session_and_compute_the_same(tmp_path, capsys):
    agent = Agent(_weights(0))
    logger = agent.logger(tmp_path)
    expected = {}
    for itr, seed in ((0, 0), (5, 1), (None, 2)):
        agent.set_weights(_weights(seed))
        expected[itr] = agent.outputs()
        logger.save_state({"env": f"env at {itr}"}, itr)
    logger.close()
    assert not np.array_equal(expected[0]["v"], expected[5]["v"])  # the weights differ

    for itr, name in ((0, "simple_save0"), (5, "simple_save5"), (None, "simple_save")):
        snapshot = tmp_path / name
        assert sorted(os.listdir(snapshot)) == ["model_info.pkl", "saved_model.pb", "variables"]
        assert joblib.load(snapshot / "model_info.pkl") == {
            "inputs": {"x": "x:0"},
            "outputs": {"pi": "pi:0", "v": "v:0"},
        }
        _assert_same(_run_snapshot(snapshot), expected[itr])
        vars_file = tmp_path / ("vars.pkl" if itr is None else f"vars{itr}.pkl")
        assert joblib.load(vars_file) == {"env": f"env at {itr}"}
    assert sorted(os.listdir(tmp_path)) == [
        "progress.txt",
        "simple_save",
        "simple_save0",
        "simple_save5",
        "vars.pkl",
        "vars0.pkl",
        "vars5.pkl",
    ]


def test_the_unnumbered_snapshot_is_replaced_by_the_latest(tmp_path, capsys):
    agent = Agent(_weights(0))
    logger = agent.logger(tmp_path)
    for seed in (0, 1, 2):
        agent.set_weights(_weights(seed))
        logger.save_state({"env": seed})
    logger.close()
    _assert_same(_run_snapshot(tmp_path / "simple_save"), agent.outputs())
    assert joblib.load(tmp_path / "vars.pkl") == {"env": 2}


def test_spinning_ups_own_loader_reads_the_snapshot(tmp_path, monkeypatch, capsys):
    agent = Agent(_weights(3))
    logger = agent.logger(tmp_path / "run")
    logger.save_state({"env": None}, 7)
    logger.close()
    spinup_logx = load_spinup(tmp_path, monkeypatch, tensorflow=v1)
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        model = spinup_logx.restore_tf_graph(sess, str(tmp_path / "run" / "simple_save7"))
        assert sorted(model) == ["pi", "v", "x"]
        pi, v = sess.run([model["pi"], model["v"]], {model["x"]: OBS})
    _assert_same({"pi": pi, "v": v}, agent.outputs())


def test_saved_model_is_the_bytes_spinning_up_writes_and_does_not_grow(
    tmp_path, monkeypatch, capsys
):
    ours = Agent(_weights(4))
    logger = ours.logger(tmp_path / "ours")
    for itr in range(3):
        logger.save_state({}, itr)
    logger.close()

    theirs = Agent(_weights(4))  # the same graph, built afresh
    spinup_logx = load_spinup(tmp_path, monkeypatch, tensorflow=v1)
    spinup_logger = spinup_logx.Logger(output_dir=str(tmp_path / "theirs"))
    spinup_logger.setup_tf_saver(theirs.sess, {"x": theirs.x}, {"pi": theirs.pi, "v": theirs.v})
    with theirs.graph.as_default():
        spinup_logger.save_state({}, 0)
        spinup_logger.save_state({}, 1)
    spinup_logger.output_file.close()

    def read(path: str) -> bytes:
        return (tmp_path / path).read_bytes()

    for itr in range(3):  # Spinning Up's first snapshot; its later ones grow, ours do not
        assert read(f"ours/simple_save{itr}/saved_model.pb") == read(
            "theirs/tf1_save0/saved_model.pb"
        )
        for name in ("variables/variables.index", "model_info.pkl"):
            assert read(f"ours/simple_save{itr}/{name}") == read(f"theirs/tf1_save0/{name}")
    assert len(read("theirs/tf1_save1/saved_model.pb")) > len(
        read("theirs/tf1_save0/saved_model.pb")
    )


def test_a_crash_mid_save_leaves_the_previous_snapshot_whole(tmp_path, monkeypatch, capsys):
    agent = Agent(_weights(5))
    logger = agent.logger(tmp_path)
    logger.save_state({"env": "old"})
    before = agent.outputs()
    agent.set_weights(_weights(6))

    def crash(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(v1.saved_model.Builder, "save", crash)
    for itr in (None, 9):
        with pytest.raises(OSError, match="disk full"):
            logger.save_state({"env": "new"}, itr)
    logger.close()
    _assert_same(_run_snapshot(tmp_path / "simple_save"), before)
    # the vars files were complete, so they were written; no half snapshot anywhere
    assert sorted(os.listdir(tmp_path)) == [
        "progress.txt",
        "simple_save",
        "vars.pkl",
        "vars9.pkl",
    ]


def test_a_snapshot_appears_only_when_complete(tmp_path, monkeypatch, capsys):
    agent = Agent(_weights(7))
    logger = agent.logger(tmp_path)
    logger.save_state({})
    seen_during_save = []
    real_save = v1.saved_model.Builder.save

    def watched_save(self, *args, **kwargs):
        seen_during_save.append(sorted(os.listdir(tmp_path)))
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(v1.saved_model.Builder, "save", watched_save)
    logger.save_state({}, 1)
    logger.save_state({})
    logger.close()
    # what Spinning Up's loaders see while each save is under way: the earlier ones
    earlier = [["simple_save"], ["simple_save", "simple_save1"]]
    for listing, snapshots in zip(seen_during_save, earlier, strict=True):
        assert [name for name in listing if "save" in name] == snapshots
        (work,) = [name for name in listing if name.startswith(".")]
        assert work.startswith(".spinfast-tmp-")  # where the snapshot is being written
    assert sorted(os.listdir(tmp_path)) == [
        "progress.txt",
        "simple_save",
        "simple_save1",
        "vars.pkl",
        "vars1.pkl",
    ]
