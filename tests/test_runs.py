"""load_runs: Spinning Up's run discovery and long table, checked against Spinning Up's
own loader (from ../shared/spinningup) and against pandas on generated sweeps."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from conftest import write_run
from spinfast import ProgressParseError, load_runs
from spinfast.curves.runs import find_logdirs
from spinningup_source import spinup_plot_module

TABLE = "Epoch\tAverageEpRet\tTotalEnvInteracts\n0\t{a}\t100\n1\t{b}\t200\n"


@pytest.fixture
def sweep(tmp_path):
    """data/{ppo,sac}_{cartpole,pendulum}/..._sN with config.json, plus odd runs."""
    data = tmp_path / "data"
    for exp in ("ppo_cartpole", "ppo_pendulum", "sac_pendulum"):
        for seed in (0, 10, 20):
            table = TABLE.format(a=seed, b=seed + 1.5)
            if exp == "sac_pendulum":  # off-policy: Performance is AverageTestEpRet
                table = table.replace("AverageEpRet", "AverageTestEpRet")
            write_run(data / exp / f"{exp}_s{seed}", table, {"exp_name": exp, "seed": seed})
    write_run(data / "ppo_cartpole" / "ppo_cartpole_s30", b"", {"exp_name": "ppo_cartpole"})
    write_run(data / "noconfig" / "noconfig_s0", TABLE.format(a=1, b=2))
    write_run(data / "extra_cols" / "extra_cols_s0", "Epoch\tLossPi\n0\t0.5\n", {"seed": 0})
    return data


def reference_table(data_dirs: list[str], legend=None) -> pd.DataFrame:
    """The long table built with pandas, file by file, following get_datasets' rules."""
    frames, units, idx = [], {}, 0
    for i, logdir in enumerate(data_dirs):
        for root, _, files in os.walk(logdir):
            if "progress.txt" not in files:
                continue
            try:
                exp_name = json.load(open(os.path.join(root, "config.json"))).get("exp_name")
            except OSError:
                exp_name = None
            cond = (legend[i] if legend else None) or exp_name or "exp"
            unit, units[cond], c2, idx = units.get(cond, 0), units.get(cond, 0) + 1, idx, idx + 1
            try:
                df = pd.read_table(os.path.join(root, "progress.txt"))
            except pd.errors.EmptyDataError:
                continue
            perf = next((c for c in ("AverageTestEpRet", "AverageEpRet") if c in df), None)
            df["Unit"], df["Condition1"], df["Condition2"] = unit, cond, f"{cond}-{c2}"
            df["Performance"] = df[perf] if perf else np.nan
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_long_table_matches_pandas_reference(sweep):
    runs = load_runs(f"{sweep}/")
    pdt.assert_frame_equal(
        runs.to_pandas(), reference_table([f"{sweep}/"]), check_exact=True, check_dtype=False
    )
    assert [e.path for _, e in runs.errors] == [
        str(sweep / "ppo_cartpole" / "ppo_cartpole_s30" / "progress.txt")
    ]
    assert isinstance(runs.errors[0][1], ProgressParseError)


def test_run_fields(sweep):
    runs = {run.path: run for run in load_runs(f"{sweep}/")}
    run = runs[str(sweep / "sac_pendulum" / "sac_pendulum_s10")]
    assert (run.exp_name, run.seed, run.condition) == ("sac_pendulum", 10, "sac_pendulum")
    assert run.config == {"exp_name": "sac_pendulum", "seed": 10}
    assert run.performance.tolist() == [10.0, 11.5]
    bare = runs[str(sweep / "noconfig" / "noconfig_s0")]
    assert (bare.config, bare.exp_name, bare.condition, bare.seed) == (None, None, "exp", 0)
    assert runs[str(sweep / "extra_cols" / "extra_cols_s0")].performance is None


def test_prefix_completion_select_exclude_and_legend(sweep):
    assert find_logdirs([sweep / "ppo"]) == [
        str(sweep / "ppo_cartpole"),
        str(sweep / "ppo_pendulum"),
    ]
    # a prefix matches any entry containing it, as in Spinning Up
    assert len(find_logdirs([sweep / "p"])) == 3
    assert find_logdirs([sweep / "p"], select=["ppo", "pend"]) == [str(sweep / "ppo_pendulum")]
    assert find_logdirs([sweep / "p"], exclude=["cart", "sac"]) == [str(sweep / "ppo_pendulum")]
    runs = load_runs(sweep / "ppo", legend=["A", "B"])
    assert sorted({r.condition for r in runs}) == ["A", "B"]
    pdt.assert_frame_equal(
        runs.to_pandas(),
        reference_table(runs.logdirs, legend=["A", "B"]),
        check_exact=True,
        check_dtype=False,
    )
    with pytest.raises(ValueError, match="one legend entry per logdir"):
        load_runs(sweep / "ppo", legend=["A"])


def test_bare_name_completes_against_working_directory(sweep, monkeypatch):
    monkeypatch.chdir(sweep)
    assert find_logdirs(["sac"]) == ["sac_pendulum"]
    assert len(load_runs("sac")) == 3


def test_threads_give_the_same_runs(sweep):
    one = load_runs(f"{sweep}/", threads=1).to_pandas()
    pdt.assert_frame_equal(one, load_runs(f"{sweep}/", threads=3).to_pandas())
    with pytest.raises(ValueError, match="threads"):
        load_runs(f"{sweep}/", threads=0)


def test_nothing_found_is_empty_not_an_error(tmp_path):
    runs = load_runs(tmp_path / "nothing_here")
    assert (len(runs), runs.errors) == (0, [])
    assert list(runs.to_pandas().columns) == ["Unit", "Condition1", "Condition2", "Performance"]


def test_matches_spinning_up_loader_on_corpus(corpus, tmp_path, capsys):
    """Spinning Up's get_all_datasets is the oracle, on the corpus minus the runs it
    cannot load (no AverageEpRet: it raises KeyError) and the NUL-tailed file (it makes
    that column text); spinfast must still give those runs."""
    spinup = spinup_plot_module()
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    with pytest.raises(KeyError):
        spinup.get_all_datasets([f"{copy}/"])
    runs = load_runs(f"{copy}/")
    no_perf = [r for r in runs if r.performance is None]
    assert len(no_perf) == 3  # two log only EpRet, one AverageEpRetS
    assert np.isnan(runs.to_pandas()["Performance"]).sum() >= sum(len(r.progress) for r in no_perf)

    for run in [*no_perf, *(r for r in runs if r.progress.truncated)]:
        shutil.rmtree(run.path)
    spinup = spinup_plot_module()
    expected = pd.concat(spinup.get_all_datasets([f"{copy}/"]), ignore_index=True)
    capsys.readouterr()
    ours = load_runs(f"{copy}/").to_pandas()
    pdt.assert_frame_equal(ours, expected, check_exact=True, check_dtype=False)


def test_matches_spinning_up_loader_with_prefixes_and_legend(sweep, capsys):
    spinup = spinup_plot_module()
    shutil.rmtree(sweep / "extra_cols")  # Spinning Up's loader crashes on it
    expected = pd.concat(
        spinup.get_all_datasets(
            [str(sweep / "ppo"), f"{sweep}/sac_pendulum/"], legend=["x", "y", "z"]
        ),
        ignore_index=True,
    )
    capsys.readouterr()
    ours = load_runs(str(sweep / "ppo"), f"{sweep}/sac_pendulum/", legend=["x", "y", "z"])
    pdt.assert_frame_equal(ours.to_pandas(), expected, check_exact=True, check_dtype=False)
