"""progress.txt reading: spinfast against the loops people use today, doing the same work.

Each group compares variants that produce the same thing, and each bench checks
that it did: the same number of runs, rows and cells as spinfast (the long
tables: the same shape and column names). Every variant of a group runs the
same number of rounds (one warm-up round, then ``ROUNDS[group]`` timed rounds of
one call each).

Run (all groups side by side in one run):
    python -m pytest benches/bench_read.py --benchmark-group-by=group \\
        --benchmark-columns=min,median,mean,rounds
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import polars as pl
import pytest

import spinfast
from conftest import COLUMNS

ARRAYS = "1000 runs: float64 column arrays + config dict per run"
TABLE = "1000 runs: one long table (Spinning Up's plotter's)"
BIG = "one file, 20,000 rows x 25 columns: float64 column arrays"
#: timed rounds per group, the same for every variant of the group
ROUNDS = {ARRAYS: 5, TABLE: 5, BIG: 20}


def run_folders(root):
    return [r for r, _, files in os.walk(root) if "progress.txt" in files]


def load_config(folder):
    with open(os.path.join(folder, "config.json")) as f:
        return json.load(f)


# ---------------------------------------------------------------- per-run arrays


def pandas_columns(path):
    """One progress.txt as spinfast holds it: contiguous float64 arrays, one per column."""
    table = pd.read_table(path)
    values = np.ascontiguousarray(table.to_numpy(dtype=np.float64).T)
    return dict(zip(table.columns, values, strict=True))


def polars_columns(path):
    table = pl.read_csv(path, separator="\t")
    values = table.cast(pl.Float64).to_numpy().T  # Fortran order: .T is C-contiguous
    return dict(zip(table.columns, values, strict=True))


def pandas_arrays_loop(root):
    """Spinning Up's per-run reading (json.load + pd.read_table), kept as float64 arrays."""
    return [
        (load_config(f), pandas_columns(os.path.join(f, "progress.txt"))) for f in run_folders(root)
    ]


def polars_arrays_loop(root):
    return [
        (load_config(f), polars_columns(os.path.join(f, "progress.txt"))) for f in run_folders(root)
    ]


def arrays_work(result):
    """(runs, rows, cells, configs) of a result, spinfast's or a loop's."""
    if isinstance(result, spinfast.Runs):
        tables = [
            (run.config, {c: run.progress[c] for c in run.progress.columns}) for run in result
        ]
    else:
        tables = result
    for _, columns in tables:
        assert all(a.dtype == np.float64 and a.flags["C_CONTIGUOUS"] for a in columns.values())
    rows = sum(len(next(iter(columns.values()))) for _, columns in tables)
    cells = sum(len(a) for _, columns in tables for a in columns.values())
    configs = sum(isinstance(config, dict) for config, _ in tables)
    return len(tables), rows, cells, configs


@pytest.mark.benchmark(group=ARRAYS)
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda root: spinfast.load_runs(f"{root}/"), id="spinfast.load_runs"),
        pytest.param(pandas_arrays_loop, id="pandas loop (Spinning Up's reads)"),
        pytest.param(polars_arrays_loop, id="polars read_csv loop"),
    ],
)
def bench_thousand_runs(benchmark, thousand_runs, reader):
    result = benchmark.pedantic(
        reader, args=(thousand_runs,), rounds=ROUNDS[ARRAYS], iterations=1, warmup_rounds=1
    )
    assert arrays_work(result) == (1000, 100_000, 100_000 * COLUMNS, 1000)


# ---------------------------------------------------------------- the long table


def pandas_long_table(root):
    """Spinning Up's get_datasets + pd.concat: each run's table with its four labels."""
    frames, units = [], {}
    for index, folder in enumerate(run_folders(root)):
        condition1 = load_config(folder).get("exp_name") or "exp"
        unit = units.setdefault(condition1, 0)
        units[condition1] += 1
        table = pd.read_table(os.path.join(folder, "progress.txt"))
        performance = "AverageTestEpRet" if "AverageTestEpRet" in table else "AverageEpRet"
        table.insert(len(table.columns), "Unit", unit)
        table.insert(len(table.columns), "Condition1", condition1)
        table.insert(len(table.columns), "Condition2", f"{condition1}-{index}")
        table.insert(len(table.columns), "Performance", table[performance])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def polars_long_table(root):
    """The same table from polars' lazy reader (a polars DataFrame, not a pandas one)."""
    frames, units = [], {}
    for index, folder in enumerate(run_folders(root)):
        condition1 = load_config(folder).get("exp_name") or "exp"
        unit = units.setdefault(condition1, 0)
        units[condition1] += 1
        lazy = pl.scan_csv(os.path.join(folder, "progress.txt"), separator="\t")
        names = lazy.collect_schema().names()
        performance = "AverageTestEpRet" if "AverageTestEpRet" in names else "AverageEpRet"
        frames.append(
            lazy.with_columns(
                pl.lit(unit).alias("Unit"),
                pl.lit(condition1).alias("Condition1"),
                pl.lit(f"{condition1}-{index}").alias("Condition2"),
                pl.col(performance).alias("Performance"),
            )
        )
    return pl.concat(frames, how="diagonal").collect()


@pytest.fixture(scope="module")
def spinfast_table(thousand_runs):
    """(shape, column names) of spinfast's long table, which every variant must match."""
    table = spinfast.load_runs(f"{thousand_runs}/").to_pandas()
    return table.shape, list(table.columns)


@pytest.mark.benchmark(group=TABLE)
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda root: spinfast.load_runs(f"{root}/").to_pandas(), id="spinfast"),
        pytest.param(pandas_long_table, id="pandas loop + concat (Spinning Up)"),
        pytest.param(polars_long_table, id="polars scan_csv + concat"),
    ],
)
def bench_thousand_runs_table(benchmark, thousand_runs, spinfast_table, reader):
    table = benchmark.pedantic(
        reader, args=(thousand_runs,), rounds=ROUNDS[TABLE], iterations=1, warmup_rounds=1
    )
    assert (table.shape, list(table.columns)) == spinfast_table
    assert table.shape == (100_000, COLUMNS + 4)


# ---------------------------------------------------------------- one big file


def big_work(result):
    """(rows, cells) of one file read, as float64 column arrays or a DataFrame."""
    if isinstance(result, spinfast.Progress):
        columns = [result[c] for c in result.columns]
    elif isinstance(result, dict):
        columns = list(result.values())
    else:  # a DataFrame
        return len(result), result.shape[0] * result.shape[1]
    assert all(a.dtype == np.float64 and a.flags["C_CONTIGUOUS"] for a in columns)
    return len(columns[0]), sum(len(a) for a in columns)


@pytest.mark.benchmark(group=BIG)
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(spinfast.read_progress, id="spinfast.read_progress"),
        pytest.param(pandas_columns, id="pandas.read_table + to_numpy"),
        pytest.param(polars_columns, id="polars.read_csv + to_numpy"),
        pytest.param(pd.read_table, id="pandas.read_table alone (less: a DataFrame)"),
    ],
)
def bench_big_file(benchmark, big_file, reader):
    result = benchmark.pedantic(
        reader, args=(big_file,), rounds=ROUNDS[BIG], iterations=1, warmup_rounds=1
    )
    assert big_work(result) == (20_000, 20_000 * COLUMNS)
