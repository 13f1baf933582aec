"""spinfast.logx writes what Spinning Up's logx writes, and never loses a run.

The oracle is Spinning Up's own logx.py, run from its source (see
spinningup_source.py); the refusal and resume behaviour, which Spinning Up does
not have, is checked against files an uninterrupted Spinning Up run writes, and
against pandas.
"""

from __future__ import annotations

import doctest
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spinfast import errors, logx, run_utils
from spinfast.errors import OutputExistsError, ProgressColumnsError
from spinfast.writing import serialization, user_config
from spinningup_source import load_spinup


class Policy:
    """An object in a config: Spinning Up writes {str(obj): its attributes}."""

    def __init__(self) -> None:
        self.hidden_sizes = (64, 64)
        self.activation = np.tanh
        self.lr = 3e-4


def _config() -> dict:
    return dict(
        env_fn=lambda: None,  # a lambda: written as its str
        ac_kwargs=dict(hidden_sizes=(32, 32), activation=np.tanh),
        actor_critic=Policy,  # a class: written as its name
        policy=Policy(),
        seed=0,
        gamma=0.99,
        epochs=50,
        nothing=None,
        flag=True,
        half=np.float32(0.5),
        arange=np.arange(3),
        steps=[1, 2.5, "a", None, len],
        logger_kwargs=dict(output_dir="data/x", exp_name="x"),
    )


def _train(module, out: Path, epochs: range, seed: int = 0, config: dict | None = None, **kw):
    """A training loop's logging calls, made with a module's EpochLogger."""
    logger = module.EpochLogger(output_dir=str(out), exp_name="oracle", **kw)
    if config is not None:
        logger.save_config(config)
    stats = []
    for epoch in epochs:
        rng = np.random.default_rng([seed, epoch])  # the same epoch, the same values
        for _ in range(rng.integers(1, 6)):
            logger.store(EpRet=rng.normal(100, 50), EpLen=int(rng.integers(1, 500)))
        logger.store(VVals=rng.normal(size=int(rng.integers(1, 10))).astype(np.float32))
        logger.store(VVals=rng.normal(size=3))
        logger.store(LossPi=np.float32(rng.normal()), Tiny=rng.normal() * 1e-9)
        logger.store(Huge=rng.normal() * 1e12, Flat=np.array(7.0))
        stats.append(logger.get_stats("EpRet"))
        logger.log_tabular("Epoch", epoch)
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("EpLen", average_only=True)
        logger.log_tabular("VVals", with_min_and_max=True)
        logger.log_tabular("LossPi", average_only=True)
        logger.log_tabular("Tiny")
        logger.log_tabular("Huge", with_min_and_max=True, average_only=True)
        logger.log_tabular("Flat")
        logger.log_tabular("TotalEnvInteracts", (epoch + 1) * 4000)
        logger.log_tabular("Time", 0.1 * epoch + 1 / 3)
        logger.log_tabular("Phase", "warmup" if epoch == 0 else "train")
        if epoch == 0:  # logged once: later rows leave it empty
            logger.log_tabular("FirstOnly", np.float64(2.5))
        logger.dump_tabular()
    if hasattr(logger, "close"):
        logger.close()
    else:
        logger.output_file.close()
    return stats


@pytest.fixture
def spinup_logx(tmp_path, monkeypatch):
    return load_spinup(tmp_path, monkeypatch)


def _stdout_of(capsys, out: Path) -> str:
    return capsys.readouterr().out.replace(str(out), "<out>")


def test_progress_config_and_stdout_are_spinning_ups(spinup_logx, tmp_path, capsys):
    theirs, ours = tmp_path / "theirs" / "run_s0", tmp_path / "ours" / "run_s0"
    config = _config()  # the same objects: their str holds their address
    their_stats = _train(spinup_logx, theirs, range(12), config=config)
    their_stdout = _stdout_of(capsys, theirs)
    our_stats = _train(logx, ours, range(12), config=config)
    our_stdout = _stdout_of(capsys, ours)

    assert (ours / "progress.txt").read_bytes() == (theirs / "progress.txt").read_bytes()
    assert (ours / "config.json").read_bytes() == (theirs / "config.json").read_bytes()
    assert our_stdout == their_stdout
    assert [[s.dtype for s in row] for row in our_stats] == [
        [s.dtype for s in row] for row in their_stats
    ]
    assert np.array_equal(np.array(our_stats), np.array(their_stats))
    # and the file is the table pandas reads
    table = pd.read_table(ours / "progress.txt")
    assert list(table["Epoch"]) == list(range(12))
    assert table["FirstOnly"].isna().sum() == 11


def test_config_the_same_with_and_without_exp_name(spinup_logx, tmp_path, capsys):
    for exp_name in (None, "named"):
        config = {"seed": 3, "lr": 1e-3, "env_fn": len}
        paths = []
        for name, module in (("theirs", spinup_logx), ("ours", logx)):
            out = tmp_path / f"{name}-{exp_name}"
            logger = module.Logger(output_dir=str(out), exp_name=exp_name)
            logger.save_config(dict(config))
            logger.output_file.close()
            paths.append(out / "config.json")
        assert paths[0].read_bytes() == paths[1].read_bytes()
        assert json.loads(paths[1].read_text()).get("exp_name") == exp_name


def test_config_tuple_of_unserializable_things_becomes_a_list(spinup_logx, tmp_path, capsys):
    # Spinning Up's convert_json turns such a tuple into a generator and json.dumps
    # fails on it; spinfast writes what Spinning Up writes for the same list.
    theirs = spinup_logx.Logger(output_dir=str(tmp_path / "theirs"))
    theirs.save_config({"activations": [np.tanh, np.abs], "n": 2})
    ours = logx.Logger(output_dir=str(tmp_path / "ours"))
    ours.save_config({"activations": (np.tanh, np.abs), "n": 2})
    theirs.output_file.close()
    ours.close()
    assert (tmp_path / "ours" / "config.json").read_bytes() == (
        tmp_path / "theirs" / "config.json"
    ).read_bytes()
    with pytest.raises(TypeError):
        spinup_logx.Logger(output_dir=str(tmp_path / "bug")).save_config({"a": (np.tanh,)})


def test_known_calls_give_known_bytes(tmp_path, capsys):
    """Hand-written expectations, for when Spinning Up's source is not at hand (CI)."""
    out = tmp_path / "run"
    logger = logx.EpochLogger(output_dir=str(out), exp_name="hand")
    logger.save_config({"lr": 1e-3, "hidden_sizes": (8, 8), "activation": np.tanh, "seed": 0})
    for epoch, returns in ((0, [1, 2, 6]), (1, [4.5])):
        for ret in returns:
            logger.store(EpRet=ret)
        logger.log_tabular("Epoch", epoch)
        # mean 3, std sqrt(14/3) = 2.16024689... -> float32 2.1602468
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("Loss", np.float32(0.1))
        if epoch == 0:
            logger.log_tabular("Note", "warmup")
        logger.dump_tabular()
    logger.close()
    assert (out / "progress.txt").read_bytes() == (
        b"Epoch\tAverageEpRet\tStdEpRet\tMaxEpRet\tMinEpRet\tLoss\tNote\n"
        b"0\t3.0\t2.1602468\t6.0\t1.0\t0.1\twarmup\n"
        b"1\t4.5\t0.0\t4.5\t4.5\t0.1\t\n"
    )
    assert (out / "config.json").read_bytes() == (
        b'{\n    "activation":\t"tanh",\n    "exp_name":\t"hand",\n'
        b'    "hidden_sizes":\t[\n        8,\n        8\n    ],\n'
        b'    "lr":\t0.001,\n    "seed":\t0\n}'
    )
    table = capsys.readouterr().out.split("Saving config:")[1]
    assert "|    AverageEpRet |               3 |\n" in table
    assert "|        StdEpRet |            2.16 |\n" in table
    assert "|            Note |          warmup |\n" in table


def test_save_config_leaves_the_callers_dict_alone(tmp_path, capsys):
    config = {"seed": 1}
    logger = logx.Logger(output_dir=str(tmp_path / "run"), exp_name="e")
    logger.save_config(config)
    logger.close()
    assert config == {"seed": 1}
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == {
        "seed": 1,
        "exp_name": "e",
    }


def test_an_existing_run_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run_s0"
    _train(logx, out, range(3))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(OutputExistsError) as caught:
        logx.EpochLogger(output_dir=str(out))
    message = str(caught.value)
    assert str(out / "progress.txt") in message and "resume=True" in message
    assert caught.value.path == str(out / "progress.txt")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # another file name in the same folder is a different log: allowed
    logx.Logger(output_dir=str(out), output_fname="other.txt").close()


def test_an_empty_progress_file_holds_nothing_to_lose(tmp_path, capsys):
    out = tmp_path / "run_s0"
    out.mkdir()
    (out / "progress.txt").write_bytes(b"")
    _train(logx, out, range(2))
    assert len(pd.read_table(out / "progress.txt")) == 2


@pytest.mark.parametrize("interrupted_row", [b"", b"3\t104.2", b"3\t104.25\t"])
def test_resume_appends_what_an_uninterrupted_run_writes(
    spinup_logx, tmp_path, capsys, interrupted_row
):
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    _train(spinup_logx, theirs, range(6))  # uninterrupted
    _train(logx, ours, range(3))
    with open(ours / "progress.txt", "ab") as f:  # a crash in the middle of a row
        f.write(interrupted_row)
    capsys.readouterr()
    _train(logx, ours, range(3, 6), resume=True)
    stdout = capsys.readouterr().out
    assert (ours / "progress.txt").read_bytes() == (theirs / "progress.txt").read_bytes()
    assert ("unfinished row" in stdout) == bool(interrupted_row)


def test_resume_of_a_missing_or_empty_file_starts_it(tmp_path, capsys):
    fresh, empty = tmp_path / "fresh", tmp_path / "empty"
    empty.mkdir()
    (empty / "progress.txt").write_bytes(b"Epoch\tAver")  # crashed inside the header
    _train(logx, tmp_path / "reference", range(2))
    for out in (fresh, empty):
        _train(logx, out, range(2), resume=True)
        reference = (tmp_path / "reference" / "progress.txt").read_bytes()
        assert (out / "progress.txt").read_bytes() == reference


def test_resume_refuses_other_columns(tmp_path, capsys):
    out = tmp_path / "run"
    logger = logx.Logger(output_dir=str(out))
    logger.log_tabular("Epoch", 0)
    logger.log_tabular("AverageEpRet", 1.5)
    logger.dump_tabular()
    logger.close()
    before = (out / "progress.txt").read_bytes()

    logger = logx.Logger(output_dir=str(out), resume=True)
    logger.log_tabular("Epoch", 1)
    logger.log_tabular("AverageTestEpRet", 2.0)
    with pytest.raises(ProgressColumnsError) as caught:
        logger.dump_tabular()
    logger.close()
    assert caught.value.missing == ["AverageEpRet"]
    assert caught.value.extra == ["AverageTestEpRet"]
    assert str(out / "progress.txt") in str(caught.value)
    assert (out / "progress.txt").read_bytes() == before


def test_resume_with_columns_in_another_order_writes_the_files_order(tmp_path, capsys):
    out = tmp_path / "run"
    for resume, rows in ((False, [(0, 1.5)]), (True, [(1, 2.5), (2, 3.5)])):
        logger = logx.Logger(output_dir=str(out), resume=resume)
        for epoch, ret in rows:
            if resume:  # the resumed script logs its columns the other way round
                logger.log_tabular("AverageEpRet", ret)
                logger.log_tabular("Epoch", epoch)
            else:
                logger.log_tabular("Epoch", epoch)
                logger.log_tabular("AverageEpRet", ret)
            logger.dump_tabular()
        logger.close()
    expected = pd.DataFrame({"Epoch": [0, 1, 2], "AverageEpRet": [1.5, 2.5, 3.5]})
    pd.testing.assert_frame_equal(pd.read_table(out / "progress.txt"), expected)


def test_log_tabular_rules(tmp_path, capsys):
    logger = logx.EpochLogger(output_dir=str(tmp_path / "run"))
    with pytest.raises(ValueError, match="nothing was logged"):
        logger.dump_tabular()
    with pytest.raises(KeyError, match="EpRet"):
        logger.log_tabular("EpRet")
    logger.log_tabular("Epoch", 0)
    with pytest.raises(AssertionError, match="already set Epoch"):
        logger.log_tabular("Epoch", 0)
    logger.store(EpRet=1.0)
    logger.log_tabular("EpRet")
    logger.dump_tabular()
    with pytest.raises(AssertionError, match="new key Loss"):
        logger.log_tabular("Loss", 1.0)
    with pytest.raises(ValueError, match="since it was last logged"):
        logger.log_tabular("EpRet")
    logger.close()


def test_default_output_dir_is_a_new_folder_each_time(capsys):
    first, second = logx.Logger(), logx.Logger()
    first.close()
    second.close()
    assert first.output_dir != second.output_dir
    for logger in (first, second):
        assert os.path.basename(os.path.dirname(logger.output_dir)) == "experiments"
        assert os.listdir(logger.output_dir) == ["progress.txt"]


def test_state_that_cannot_be_pickled_warns_and_keeps_the_previous_file(tmp_path, capsys):
    pytest.importorskip("joblib", reason="save_state needs the tf extra's joblib")
    import joblib

    out = tmp_path / "run"
    logger = logx.Logger(output_dir=str(out))
    logger.save_state({"env": "first"})
    logger.save_state({"env": lambda: None})  # a lambda cannot be pickled
    logger.save_state({"env": "third"}, itr=3)
    logger.close()
    assert "Warning: could not pickle state_dict." in capsys.readouterr().out
    assert joblib.load(out / "vars.pkl") == {"env": "first"}
    assert joblib.load(out / "vars3.pkl") == {"env": "third"}
    assert sorted(p.name for p in out.iterdir()) == ["progress.txt", "vars.pkl", "vars3.pkl"]


def test_statistics_match_spinning_ups_mpi_statistics(spinup_logx):
    rng = np.random.default_rng(7)
    mpi_tools = __import__("spinup.utils.mpi_tools", fromlist=["mpi_statistics_scalar"])
    for n in (1, 2, 5, 100, 10_000):
        x = rng.normal(3, 1e3, size=n) * rng.choice([1e-6, 1, 1e6])
        theirs = mpi_tools.mpi_statistics_scalar(x, with_min_and_max=True)
        ours = logx.statistics_scalar(x, with_min_and_max=True)
        assert [str(v) for v in ours] == [str(v) for v in theirs]
        assert [type(v) for v in ours] == [type(v) for v in theirs]


def test_files_get_the_usual_permissions(tmp_path, capsys):
    pytest.importorskip("joblib", reason="save_state needs the tf extra's joblib")
    out = tmp_path / "run"
    logger = logx.Logger(output_dir=str(out))
    logger.save_config({"seed": 0})
    logger.save_state({"env": None})
    logger.close()
    (tmp_path / "plain").write_text("")  # a file made the ordinary way
    usual = (tmp_path / "plain").stat().st_mode
    for name in ("progress.txt", "config.json", "vars.pkl"):
        assert (out / name).stat().st_mode == usual, name


@pytest.mark.parametrize("module", [logx, serialization, run_utils, user_config, errors])
def test_docstring_examples_run(module, capsys):
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
