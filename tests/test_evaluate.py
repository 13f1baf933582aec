"""spinfast evaluate (local worker pool, no Ray), on sweeps of agents built and saved here.

Oracles: the returns computed by hand for LineEnv agents (saved_agents.py), a
hand-written Gymnasium loop for the CartPole controller, and ``spinfast
test_policy RUN -i N -n EPISODES --seed S`` itself for every row it can reach,
sampled policies included (native and TF-session ones).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import os.path as osp
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="the tf extra is not installed: pip install '.[tf]'")

import joblib  # noqa: E402
import pandas as pd  # noqa: E402
import pandas.testing as pdt  # noqa: E402

import evaluate_envs  # noqa: E402
import saved_agents as sa  # noqa: E402
import spinfast  # noqa: E402
from agent_fixtures import CARTPOLE_GAINS, cli  # noqa: E402
from spinfast.evaluate import (  # noqa: E402
    COLUMNS,
    NoRunsFound,
    ResultsFileError,
    evaluate,
    read_results,
)
from spinfast.evaluate.results import ResultsFile, format_row, parse_row, read_rows  # noqa: E402
from terminal import stderr_on_a_terminal  # noqa: E402

TESTS = osp.dirname(osp.abspath(__file__))
#: the protocol of the main sweep
EPISODES, SEED = 6, 3
PROTOCOL = dict(episodes=EPISODES, seed=SEED, deterministic=True, snapshots="all")
PROTOCOL_FLAGS = ["-n", EPISODES, "--seed", SEED, "-d", "--snapshots", "all"]


def write_run_files(folder: Path, exp_name: str | None, seed: int | None) -> None:
    """The progress.txt and config.json that make a folder a run (as load_runs finds them)."""
    (folder / "progress.txt").write_text("Epoch\tAverageEpRet\n0\t1.0\n")
    config = {k: v for k, v in (("exp_name", exp_name), ("seed", seed)) if v is not None}
    (folder / "config.json").write_text(json.dumps(config))


def make_run(folder: Path, build, weights, env, exp_name, seed, layout="simple_save") -> Path:
    sa.save_snapshots(str(folder), build, weights, env=env, layout=layout)
    write_run_files(folder, exp_name, seed)
    return folder


def log_softmax_agent():
    """A categorical agent through LogSoftmax (no native kernel: it runs in the TF session),
    zero weights: each action 0 or 1 at random, so the return is the number of 1s."""

    def build():
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, (None, 2))
        w = v1.get_variable("w", initializer=np.zeros((2, 2), np.float32))
        pi = tf.squeeze(v1.multinomial(tf.nn.log_softmax(tf.matmul(x, w)), 1), axis=1)
        return {"x": x}, {"pi": pi}, {"w": w}

    return build


#: sac-a seed s: snapshot 0 has bias s, 10 has s + 1, the unnumbered one s + 2
def sac_a_bias(seed: int, snapshot: int | None) -> float:
    return seed + {0: 0.0, 10: 1.0, None: 2.0}[snapshot]


SAC_B_BIAS = {0: 4.0, 1: 6.0}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """data/: sac-a (3 seeds, snapshots 0, 10 and unnumbered), sac-b (2 seeds, tf1_save,
    unnumbered only), coin (sampled categorical, snapshots 0 and 1), tfcoin (sampled in
    the TF session), cartpole (the linear controller, CartPole-v1 in vars.pkl)."""
    data = tmp_path_factory.mktemp("sweep") / "data"
    gaussian = sa.gaussian_agent(with_mu=True)
    for seed in range(3):
        weights = {s: {"bias": [sac_a_bias(seed, s)]} for s in (0, 10, None)}
        make_run(data / f"sac-a_s{seed}", gaussian, weights, sa.LineEnv(), "sac-a", seed)
    for seed, bias in SAC_B_BIAS.items():
        make_run(data / f"sac-b_s{seed}", gaussian, {None: {"bias": [bias]}}, sa.LineEnv(),
                 "sac-b", seed, layout="tf1_save")  # fmt: skip
    coin = {0: {"w": np.zeros((2, 2))}, 1: {"w": [[0.0, 0.0], [-40.0, 40.0]]}}
    make_run(data / "coin_s0", sa.categorical_agent(), coin, sa.LineEnv(discrete=True), "coin", 0)
    make_run(data / "tfcoin_s0", log_softmax_agent(), {None: {}}, sa.LineEnv(discrete=True),
             "tfcoin", 0)  # fmt: skip
    import gymnasium

    controller = sa.linear_controller_agent(CARTPOLE_GAINS)
    make_run(data / "cartpole_s0", controller, {None: {}}, gymnasium.make("CartPole-v1"),
             "cartpole", 0)  # fmt: skip
    return data


@pytest.fixture(scope="module")
def results(sweep) -> Path:
    """The main sweep evaluated once, on 2 workers, into a results file."""
    out = sweep.parent / "results.csv"
    evaluate(sweep, **PROTOCOL, workers=2, out=out)
    return out


@pytest.fixture(scope="module")
def frame(sweep, results) -> pd.DataFrame:
    """The main sweep's table, in discovery order (read back from the file: nothing reruns)."""
    return evaluate(sweep, **PROTOCOL, out=results)


def row_of(frame, run, snapshot):
    rows = frame[(frame["path"].str.endswith(os.sep + run)) & _snapshot_is(frame, snapshot)]
    assert len(rows) == 1, (run, snapshot, rows)
    return rows.iloc[0]


def _snapshot_is(frame, snapshot):
    return frame["snapshot"].isna() if snapshot is None else frame["snapshot"] == snapshot


def evaluate_cli(capsys, *argv):
    from spinfast.cli import main

    capsys.readouterr()
    code = main(["evaluate", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def without_seconds(frame):
    return frame.drop(columns="seconds").reset_index(drop=True)


# --- the rows: hand-computed values and test_policy's own output ------------------------------


def test_one_row_per_run_and_snapshot_in_discovery_order(sweep, frame):
    names = [(osp.basename(p), s) for p, s in zip(frame["path"], frame["snapshot"], strict=True)]
    na = pd.NA
    assert [(n, None if s is na else s) for n, s in names] == [
        ("cartpole_s0", None),
        ("coin_s0", 0), ("coin_s0", 1),
        ("sac-a_s0", None), ("sac-a_s0", 0), ("sac-a_s0", 10),
        ("sac-a_s1", None), ("sac-a_s1", 0), ("sac-a_s1", 10),
        ("sac-a_s2", None), ("sac-a_s2", 0), ("sac-a_s2", 10),
        ("sac-b_s0", None), ("sac-b_s1", None),
        ("tfcoin_s0", None),
    ]  # fmt: skip
    assert list(frame.columns) == [c for c in COLUMNS if c not in ("EpRets", "EpLens")]
    assert frame["path"].map(osp.isabs).all()
    assert frame["error"].isna().all(), frame["error"].tolist()
    assert (frame[["episodes", "seed", "deterministic", "max_ep_len", "env"]]
            == [EPISODES, SEED, True, 0, ""]).all().all()  # fmt: skip


def test_deterministic_scores_are_the_hand_computed_returns(frame):
    for seed in range(3):
        for snapshot in (0, 10, None):
            row = row_of(frame, f"sac-a_s{seed}", snapshot)
            expected = sa.line_return(sac_a_bias(seed, snapshot))
            assert (row.AverageEpRet, row.StdEpRet, row.MaxEpRet, row.MinEpRet) == (
                expected, 0.0, expected, expected)  # fmt: skip
            assert (row.AverageEpLen, row.env_steps) == (sa.HORIZON, EPISODES * sa.HORIZON)
            assert (row.exp_name, row.condition, row.train_seed) == ("sac-a", "sac-a", seed)
            assert row.policy == "native"
    for seed, bias in SAC_B_BIAS.items():
        assert row_of(frame, f"sac-b_s{seed}", None).AverageEpRet == sa.line_return(bias)
    # coin snapshot 1 always picks 1: return HORIZON
    assert row_of(frame, "coin_s0", 1).AverageEpRet == sa.HORIZON
    assert row_of(frame, "tfcoin_s0", None).policy == "tf"


def test_cartpole_episodes_are_a_hand_written_gymnasium_loop(results):
    episodes = read_results(results, per_episode=True)
    mine = episodes[episodes["path"].str.endswith("cartpole_s0")]
    assert list(mine["episode"]) == list(range(EPISODES))
    oracle = sa.cartpole_oracle(CARTPOLE_GAINS, EPISODES, SEED)
    assert list(zip(mine["ret"], mine["length"], strict=True)) == oracle


@pytest.mark.parametrize(
    "run, snapshot",
    [("coin_s0", 0), ("coin_s0", 1), ("tfcoin_s0", None), ("cartpole_s0", None),
     ("sac-a_s1", 10), ("sac-b_s1", None)],
)  # fmt: skip
def test_rows_are_what_test_policy_reports(capsys, sweep, results, tmp_path, run, snapshot):
    """Sampled policies too (coin snapshot 0 and tfcoin pick at random): the same seeds,
    the same episodes, the same summary."""
    itr = -1 if snapshot is None else snapshot
    code, out, err = cli(capsys, sweep / run, "-i", itr, "-n", EPISODES, "--seed", SEED, "-d",
                         "-nr", "--json", "--out", tmp_path / "t")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    rows = {(osp.basename(r["path"]), r["snapshot"]): r for r in read_rows(results)}
    row = rows[(run, snapshot)]
    assert row["EpRets"] == [ep["ret"] for ep in report["episodes"]]
    assert row["EpLens"] == [ep["length"] for ep in report["episodes"]]
    summary = report["summary"]
    assert [row[k] for k in ("AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet")] == [
        summary[k] for k in ("AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet")]  # fmt: skip
    assert row["AverageEpLen"] == summary["EpLen"]
    assert row["policy"] == report["policy"]


def test_sampled_episodes_depend_on_the_seed(sweep, results):
    """The random coin's episodes differ between seeds (else the oracle above proves little)."""
    episodes = read_results(results, per_episode=True)
    mine = episodes[episodes["path"].str.endswith("coin_s0") & (episodes["snapshot"] == 0)]
    other = evaluate(sweep / "coin_s0", episodes=EPISODES, seed=SEED + 1, deterministic=True,
                     snapshots=[0], workers=1, per_episode=True)  # fmt: skip
    assert other["ret"].tolist() != mine["ret"].tolist()


def test_one_worker_gives_the_same_table(sweep, frame):
    one = evaluate(sweep, **PROTOCOL, workers=1)
    pdt.assert_frame_equal(without_seconds(one), without_seconds(frame))


# --- the command: summary, JSON, plot, per-episode table ---------------------------------------


def test_summary_groups_by_condition_and_snapshot(capsys, sweep, results):
    """Everything is in the results file already: the command reads it back, runs nothing."""
    before = results.read_bytes()
    code, out, err = evaluate_cli(capsys, sweep, *PROTOCOL_FLAGS, "--out", results)
    assert code == 0, err
    assert results.read_bytes() == before
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["condition", "snapshot", "runs", "failed", "mean", "std"]
    table = {(c, s): (int(r), int(f), m, sd) for c, s, r, f, m, sd in lines[1:]}
    for snapshot, key in ((0, "0"), (10, "10"), (None, "-")):
        returns = [sa.line_return(sac_a_bias(seed, snapshot)) for seed in range(3)]
        mean, std = statistics.mean(returns), statistics.stdev(returns)
        assert table[("sac-a", key)] == (3, 0, f"{mean:.3f}", f"{std:.3f}")
    returns = [sa.line_return(b) for b in SAC_B_BIAS.values()]
    assert table[("sac-b", "-")] == (2, 0, f"{statistics.mean(returns):.3f}",
                                     f"{statistics.stdev(returns):.3f}")  # fmt: skip
    assert table[("coin", "1")] == (1, 0, f"{sa.HORIZON:.3f}", "-")


def test_json_and_per_episode_table(capsys, sweep, results, frame, tmp_path):
    per_episode = tmp_path / "episodes.csv"
    code, out, err = evaluate_cli(capsys, sweep, *PROTOCOL_FLAGS, "--out", results, "--json",
                                  "--per-episode", per_episode)  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    rows = report["rows"]
    assert [r["AverageEpRet"] for r in rows] == frame["AverageEpRet"].tolist()
    assert [r["snapshot"] for r in rows] == [None if s is pd.NA else s for s in frame["snapshot"]]
    episodes = pd.read_csv(per_episode)
    assert len(episodes) == EPISODES * len(frame)
    by_row = episodes.groupby(["path", episodes["snapshot"].fillna(-1)], sort=False)["ret"]
    for r in rows:
        assert (
            by_row.get_group((r["path"], -1 if r["snapshot"] is None else r["snapshot"])).tolist()
            == r["EpRets"]
        )
        assert np.float32(np.mean(r["EpRets"])) == np.float32(r["AverageEpRet"])
    sac_a_0 = [s for s in report["summary"] if s["condition"] == "sac-a" and s["snapshot"] == 0]
    assert sac_a_0[0]["runs"] == 3


def test_plot_is_score_against_snapshot_mean_over_seeds(capsys, sweep, results, frame, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinfast.evaluate.report import plot_scores

    figure = plot_scores(frame[frame["condition"] == "sac-a"])
    [line] = [line for line in figure.axes[0].lines if len(line.get_xdata())]
    assert line.get_xdata().tolist() == [0.0, 10.0]
    assert line.get_ydata().tolist() == [
        statistics.mean(sa.line_return(sac_a_bias(seed, s)) for seed in range(3)) for s in (0, 10)
    ]
    plt.close(figure)
    png = tmp_path / "plots" / "scores.png"
    code, out, err = evaluate_cli(capsys, sweep, *PROTOCOL_FLAGS, "--out", results, "--plot", png)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in out


def test_progress_bar_on_a_terminal(tmp_path):
    """Drawn on stderr when it is a terminal: snapshots done, failed, env steps per second.
    (A run without an agent fails without a worker: this needs no TF start-up.)"""
    run = tmp_path / "data" / "empty_s0"
    run.mkdir(parents=True)
    write_run_files(run, "empty", 0)

    def run_on_fd_2(progress):
        def go():
            with open(2, "w", closefd=False) as fd_2, contextlib.redirect_stderr(fd_2):
                evaluate(run, episodes=1, progress=progress)

        return go

    drawn = stderr_on_a_terminal(run_on_fd_2(True))
    assert "evaluate: 1/1 snapshots, 1 failed" in drawn
    assert "env steps/s" in drawn
    assert stderr_on_a_terminal(run_on_fd_2(False)) == ""


def test_spinfast_evaluate_is_the_function():
    assert spinfast.evaluate is evaluate
    assert "evaluate" in spinfast.__all__


# --- bad input: the row gets the error, the sweep goes on ---------------------------------------


@pytest.fixture(scope="module")
def bad_sweep(sweep, tmp_path_factory) -> Path:
    """Copies of sac-a_s0 (snapshots 0, 10, unnumbered; bias 0, 1, 2), each spoilt one way,
    a folder with no agent, envs that raise or kill their process, and one good copy."""
    data = tmp_path_factory.mktemp("bad") / "data"
    good = sweep / "sac-a_s0"

    def copy(name: str) -> Path:
        return Path(shutil.copytree(good, data / name))

    copy("good_s0")
    for pkl in copy("no-vars_s0").glob("vars*.pkl"):
        pkl.unlink()
    (copy("broken-model_s0") / "simple_save10" / "saved_model.pb").write_bytes(b"not a model")
    shutil.rmtree(copy("incomplete_s0") / "simple_save0" / "variables")
    (data / "no-agent_s0").mkdir()
    write_run_files(data / "no-agent_s0", "no-agent", 0)
    for name, env in (
        ("raises_s0", evaluate_envs.RaisingEnv()),
        ("killed_s0", evaluate_envs.KillingEnv()),
        ("killed-once_s0", evaluate_envs.KillingEnv(str(data.parent / "killed-once.marker"))),
    ):
        run = copy(name)
        for pkl in run.glob("vars*.pkl"):
            joblib.dump({"env": env}, pkl)
    return data


@pytest.fixture(scope="module")
def bad_run(bad_sweep):
    """``spinfast evaluate`` on the bad sweep, in a subprocess: (exit code, stdout, stderr)."""
    out = bad_sweep.parent / "results.csv"
    argv = [bad_sweep, "-n", 2, "--seed", 0, "-d", "--snapshots", "0,10", "--out", out,
            "--retries", 1, "--workers", 2]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "spinfast", "evaluate", *map(str, argv)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([TESTS, *sys.path])},
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr, read_results(out)


def error_of(frame, run, snapshot):
    return row_of(frame, run, snapshot).error


def test_bad_rows_get_the_error_and_the_sweep_goes_on(bad_run, bad_sweep):
    code, out, err, frame = bad_run
    assert code == 1
    assert "Traceback" not in out + err
    assert len(frame) == 7 * 2 + 1  # 7 runs x 2 snapshots, and one row for no-agent_s0
    for run in ("good_s0", "killed-once_s0"):
        for snapshot, bias in ((0, 0.0), (10, 1.0)):
            row = row_of(frame, run, snapshot)
            assert row.error is None, row.error
            assert row.AverageEpRet == sa.line_return(bias)
    assert error_of(frame, "no-vars_s0", 0).startswith("Environment not found! ")
    assert "vars0.pkl does not exist" in error_of(frame, "no-vars_s0", 0)
    snapshot = bad_sweep / "broken-model_s0" / "simple_save10"
    assert error_of(frame, "broken-model_s0", 10).startswith(f"{snapshot}/saved_model.pb: ")
    assert row_of(frame, "broken-model_s0", 0).error is None
    assert "incomplete snapshot: no variables" in error_of(frame, "incomplete_s0", 0)
    assert row_of(frame, "incomplete_s0", 10).error is None
    assert "has no simple_save/, tf1_save/ or pyt_save/" in error_of(frame, "no-agent_s0", None)
    assert error_of(frame, "raises_s0", 0) == "RuntimeError: this env is broken on purpose"
    assert error_of(frame, "killed_s0", 10) == (
        "the worker process died evaluating this snapshot (killed by signal 9), 2 times"
    )
    failed = frame[frame["error"].notna()]
    assert failed[["AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet"]].isna().all().all()
    assert f"{len(failed)} of {len(frame)} rows failed" in err
    assert f"error: {row_of(frame, 'raises_s0', 10).path} snapshot 10: RuntimeError" in err


def test_a_missing_snapshot_number_is_an_error_row(bad_sweep):
    frame = evaluate(bad_sweep / "good_s0", episodes=1, snapshots=[99])  # no worker is started
    assert frame["snapshot"].tolist() == [99]
    assert frame["error"][0].endswith(
        "good_s0: no snapshot number 99; the snapshots here: simple_save, simple_save0, "
        "simple_save10"
    )


def test_a_worker_killed_mid_task_is_replaced_and_the_task_retried(bad_run, bad_sweep):
    code, out, err, frame = bad_run
    marker = bad_sweep.parent / "killed-once.marker"
    assert marker.exists()  # a worker was killed evaluating killed-once_s0...
    assert row_of(frame, "killed-once_s0", 0).error is None  # ... and its row is whole


def test_no_runs_found_is_one_line(capsys, tmp_path):
    code, out, err = evaluate_cli(capsys, tmp_path / "nothing_here")
    assert code == 1
    assert err.strip().splitlines() == [
        f"spinfast evaluate: no runs found: no folder matches {tmp_path}/nothing_here (a logdir "
        "without a trailing '/' is completed as a prefix of the names in its parent folder)"
    ]
    (tmp_path / "empty").mkdir()
    code, out, err = evaluate_cli(capsys, tmp_path / "empty", "--select", "ppo")
    assert code == 1
    assert "no runs found" in err and "--select ppo" in err
    with pytest.raises(NoRunsFound):
        evaluate(tmp_path / "empty/")


def test_ray_without_ray_says_what_to_install(capsys, monkeypatch, sweep):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as without the extra
    code, out, err = evaluate_cli(capsys, sweep / "sac-a_s0", "--ray", "auto")
    assert code == 1
    assert err.strip() == ("error: --ray needs Ray, an optional extra: pip install 'spinfast[ray]'")


def test_a_run_under_two_logdirs_is_evaluated_once(sweep):
    from spinfast.evaluate import find_tasks

    tasks = find_tasks([sweep / "sac-a_s0", sweep / "sac-a"], snapshots=[0, 10])
    assert [(osp.basename(t.path), t.snapshot) for t in tasks] == [
        ("sac-a_s0", 0), ("sac-a_s0", 10), ("sac-a_s1", 0), ("sac-a_s1", 10),
        ("sac-a_s2", 0), ("sac-a_s2", 10),
    ]  # fmt: skip
    for bad in ([], [-1], [True], ["0"], "first"):
        with pytest.raises(ValueError):
            find_tasks([sweep], snapshots=bad)


@pytest.mark.parametrize("argv, message", [
    (["-n", "0"], "must be 1 or more"),
    (["--snapshots", "last,3"], "--snapshots takes last, all, or numbers"),
    (["--snapshots", "-1"], "snapshot numbers are >= 0"),
    (["--workers", "0"], "must be 1 or more"),
])  # fmt: skip
def test_bad_flags(capsys, tmp_path, argv, message):
    with pytest.raises(SystemExit) as exit_:
        evaluate_cli(capsys, tmp_path, *argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


# --- the results file: whole rows, resumable, one protocol per key ---------------------------


def test_a_rerun_evaluates_only_the_missing_rows(sweep, results, frame, tmp_path, capsys):
    """A crash after 5 rows, mid-way through the 6th: the rerun drops the half line, keeps
    the 5 rows (their seconds say they were not rerun) and evaluates the rest."""
    lines = results.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.csv"
    cut.write_bytes(b"".join(lines[:6]) + lines[6][:40])
    again = evaluate(sweep, **PROTOCOL, workers=2, out=cut)
    assert "dropped an unfinished last line (40 characters" in capsys.readouterr().err
    pdt.assert_frame_equal(without_seconds(again), without_seconds(frame))
    kept = read_rows(cut)
    assert len(kept) == len(frame)  # 5 kept + the rest: nothing twice
    first = {(r["path"], r["snapshot"]): r["seconds"] for r in read_rows(results)[:5]}
    assert {(r["path"], r["snapshot"]): r["seconds"] for r in kept[:5]} == first
    assert cut.read_bytes().startswith(b"".join(lines[:6]))


def test_a_protocol_change_is_another_key(sweep, results, frame, tmp_path):
    out = tmp_path / "results.csv"
    shutil.copy(results, out)
    other = evaluate(sweep / "sac-a_s1", episodes=2, seed=SEED, deterministic=True,
                     snapshots=[10], max_ep_len=3, out=out, workers=1)  # fmt: skip
    assert other["max_ep_len"].tolist() == [3]
    # mu = t + 2 for t = 0, 1, 2: 0 + 1 + 2 + 3 * 2
    assert other["AverageEpRet"].tolist() == [9.0]
    rows = read_rows(out)
    assert len(rows) == len(frame) + 1  # the old rows are all still there
    pdt.assert_frame_equal(evaluate(sweep, **PROTOCOL, out=out), frame)  # and read back as is


def test_ctrl_c_keeps_every_finished_row(sweep, frame, tmp_path):
    """SIGINT to the command mid-sweep: exit 130, every line of the file a whole row;
    the rerun completes the table, equal to an uninterrupted one."""
    out = tmp_path / "results.csv"
    argv = [sys.executable, "-m", "spinfast", "evaluate", str(sweep), *map(str, PROTOCOL_FLAGS),
            "--out", str(out), "--workers", "1"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS, *sys.path])}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 3:  # the header and 2 rows
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"interrupted; every finished row is in {out}" in err.decode()
    data = out.read_bytes()
    assert data.endswith(b"\n")
    kept = read_rows(out)
    assert 2 <= len(kept) < len(frame)
    again = evaluate(sweep, **PROTOCOL, workers=2, out=out)
    pdt.assert_frame_equal(without_seconds(again), without_seconds(frame))
    assert len(read_rows(out)) == len(frame)


def test_rows_read_back_exactly():
    row = dict.fromkeys(COLUMNS)
    row.update(path="/data/a, \"b\"/run_s0", exp_name="a", condition="a", train_seed=3,
               snapshot=None, episodes=2, seed=0, deterministic=False, max_ep_len=0, env="",
               AverageEpRet=0.1 + 0.2, StdEpRet=1e-300, MaxEpRet=-0.0, MinEpRet=2.5,
               AverageEpLen=3.0, env_steps=6, seconds=0.5, policy="native", error=None,
               EpRets=[0.1, 1 / 3], EpLens=[2, 4])  # fmt: skip
    line = format_row(row)
    assert line.count("\n") == 1
    assert parse_row(next(csv.reader([line]))) == row


def test_a_file_that_is_not_a_results_file_is_refused(tmp_path, sweep):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ResultsFileError, match="not a results file of spinfast evaluate"):
        evaluate(sweep / "sac-a_s0", out=other)
    assert other.read_text() == "a,b\n1,2\n"


def test_two_evaluations_cannot_append_to_one_file(tmp_path, sweep, capsys):
    out = tmp_path / "results.csv"
    with ResultsFile(out):
        with pytest.raises(ResultsFileError, match="another spinfast evaluate is writing"):
            evaluate(sweep / "sac-a_s0", out=out)
        code, _, err = evaluate_cli(capsys, sweep / "sac-a_s0", "--out", out)
        assert code == 1 and "another spinfast evaluate is writing this file" in err
    assert read_rows(out) == []
