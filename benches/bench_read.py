"""progress.txt reading: spinfast against the loops people use today.

Run (all groups side by side in one run):
    python -m pytest benches/bench_read.py --benchmark-group-by=group \
        --benchmark-columns=min,median,mean,rounds
"""

from __future__ import annotations

import json
import os

import pandas as pd
import polars as pl
import pytest

import spinfast


def run_folders(root):
    return [r for r, _, files in os.walk(root) if "progress.txt" in files]


def per_run_loop(root, read_table):
    """What Spinning Up's plotter does per run (get_datasets): json.load + one table read."""
    out = []
    for folder in run_folders(root):
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        out.append((config, read_table(os.path.join(folder, "progress.txt"))))
    return out


def pandas_loop(root):
    return per_run_loop(root, pd.read_table)


def polars_loop(root):
    return per_run_loop(root, lambda path: pl.read_csv(path, separator="\t"))


def polars_scan_concat(root):
    frames = []
    for folder in run_folders(root):
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        lazy = pl.scan_csv(os.path.join(folder, "progress.txt"), separator="\t")
        frames.append(lazy.with_columns(pl.lit(config["exp_name"]).alias("exp_name")))
    return pl.concat(frames, how="diagonal").collect()


@pytest.mark.benchmark(group="1000 runs (100 rows x 25 columns + config.json)")
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda root: spinfast.load_runs(f"{root}/"), id="spinfast.load_runs"),
        pytest.param(pandas_loop, id="pandas loop (Spinning Up)"),
        pytest.param(polars_loop, id="polars read_csv loop"),
        pytest.param(polars_scan_concat, id="polars scan_csv + concat"),
    ],
)
def bench_thousand_runs(benchmark, thousand_runs, reader):
    result = benchmark(reader, thousand_runs)
    assert len(result) in (1000, 100_000)


@pytest.mark.benchmark(group="1000 runs to one long table")
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda root: spinfast.load_runs(f"{root}/").to_pandas(), id="spinfast"),
        pytest.param(
            lambda root: pd.concat([df for _, df in pandas_loop(root)], ignore_index=True),
            id="pandas loop + concat",
        ),
    ],
)
def bench_thousand_runs_table(benchmark, thousand_runs, reader):
    assert len(benchmark(reader, thousand_runs)) == 100_000


@pytest.mark.benchmark(group="one file, 20,000 rows x 25 columns")
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(spinfast.read_progress, id="spinfast.read_progress"),
        pytest.param(pd.read_table, id="pandas.read_table"),
        pytest.param(lambda p: pl.read_csv(p, separator="\t"), id="polars.read_csv"),
    ],
)
def bench_big_file(benchmark, big_file, reader):
    assert len(benchmark(reader, big_file)) == 20_000
