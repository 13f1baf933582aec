"""Generated run folders for the benches (made once per session, outside the timings)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

COLUMNS = 25


def write_runs(root: Path, n_runs: int, rows: int, seed: int = 0) -> Path:
    """``n_runs`` Spinning Up-style run folders: progress.txt (rows x 25) + config.json.

    The columns: Epoch, AverageEpRet (so that Spinning Up's plotter finds its
    Performance), 21 more metrics, TotalEnvInteracts and Time.
    """
    rng = random.Random(seed)
    metrics = ["AverageEpRet", *(f"Metric{i}" for i in range(1, COLUMNS - 3))]
    names = ["Epoch", *metrics, "TotalEnvInteracts", "Time"]
    for i in range(n_runs):
        exp, run_seed = f"exp{i // 10}", i % 10
        folder = root / exp / f"{exp}_s{run_seed}"
        folder.mkdir(parents=True)
        lines = ["\t".join(names)]
        for epoch in range(rows):
            metrics = (repr(rng.gauss(0, 100)) for _ in range(COLUMNS - 3))
            lines.append(
                "\t".join([str(epoch), *metrics, str(4000 * (epoch + 1)), repr(rng.random())])
            )
        (folder / "progress.txt").write_text("\n".join(lines) + "\n")
        config = {"exp_name": exp, "seed": run_seed, "epochs": rows, "env_name": "CartPole-v1"}
        (folder / "config.json").write_text(json.dumps(config, indent=4))
    return root


@pytest.fixture(scope="session")
def thousand_runs(tmp_path_factory) -> Path:
    return write_runs(tmp_path_factory.mktemp("runs"), n_runs=1000, rows=100)


@pytest.fixture(scope="session")
def big_file(tmp_path_factory) -> Path:
    root = write_runs(tmp_path_factory.mktemp("big"), n_runs=1, rows=20_000)
    return next(root.rglob("progress.txt"))
