"""Spinning Up's own code, loaded at test time as an oracle (never kept in this repo).

The source is ``../shared/spinningup`` beside the repo (openai/spinningup, MIT,
unmodified; its commit in ``COMMIT``), or the folder in ``SPINFAST_SPINNINGUP``.
It is there in CI too, so no test skips for want of it: without it they fail.
Its imports of torch, mpi4py, psutil and tqdm are stubbed: one process, rank 0, where an
MPI all-reduce is the identity, so ``mpi_statistics_scalar`` runs its own code.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

import pytest

REPO = Path(
    os.environ.get("SPINFAST_SPINNINGUP", Path(__file__).resolve().parents[2] / "shared/spinningup")
)

# the files of spinup that logx and run_utils need
_FILES = [
    "spinup/user_config.py",
    "spinup/utils/logx.py",
    "spinup/utils/mpi_tools.py",
    "spinup/utils/run_utils.py",
    "spinup/utils/serialization_utils.py",
]
_MODULES = ["spinup", "spinup.utils"] + [f[:-3].replace("/", ".") for f in _FILES]


def spinup_source(path: str) -> str:
    """The text of one file of Spinning Up; fails the test when it is not there."""
    if not (REPO / path).is_file():
        pytest.fail(
            f"Spinning Up's {path} is not in {REPO}: tests compare with Spinning Up's own "
            "code from ../shared/spinningup (or SPINFAST_SPINNINGUP)"
        )
    return (REPO / path).read_text()


class _OneProcessComm:
    """mpi4py's COMM_WORLD for a single process."""

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 1

    def Allreduce(self, x, buff, op=None) -> None:  # over one process: a copy
        buff[...] = x

    def Bcast(self, x, root=0) -> None:
        pass


def load_spinup(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: str = "spinup.utils.logx",
    tensorflow=None,
):
    """Import one of Spinning Up's modules (logx, run_utils, ...) from its source.

    ``tensorflow`` is the module its ``import tensorflow as tf`` gets: a stub by
    default (enough for progress.txt and config.json), or ``tf.compat.v1`` to run
    its TF1 saving and loading on TensorFlow 2. monkeypatch undoes it all.
    """
    root = tmp_path / "spinningup_oracle"
    for path in _FILES:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(spinup_source(path))
    for package in ("spinup", "spinup/utils"):  # not the real ones: they import every algo
        (root / package / "__init__.py").write_text("")

    mpi = types.ModuleType("mpi4py.MPI")
    mpi.COMM_WORLD = _OneProcessComm()
    mpi.SUM, mpi.MIN, mpi.MAX = "sum", "min", "max"
    mpi4py = types.ModuleType("mpi4py")
    mpi4py.MPI = mpi
    tqdm = types.ModuleType("tqdm")  # run_utils' progress bars and process tools
    tqdm.trange = range
    stubs = {
        "mpi4py": mpi4py,
        "mpi4py.MPI": mpi,
        "torch": types.ModuleType("torch"),
        "psutil": types.ModuleType("psutil"),
        "tqdm": tqdm,
        "tensorflow": tensorflow or types.ModuleType("tensorflow"),
    }
    for name in _MODULES:
        # absent from sys.modules now, and again once monkeypatch undoes this
        # (undo runs backwards: the delitem restores the placeholder, the setitem
        # then removes it), whatever the import below puts there meanwhile
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
        monkeypatch.delitem(sys.modules, name)
    for name, stub in stubs.items():
        monkeypatch.setitem(sys.modules, name, stub)
    monkeypatch.syspath_prepend(str(root))
    return importlib.import_module(module)


def spinup_plot_module() -> types.ModuleType:
    """A fresh copy of spinup/utils/plot.py (fresh globals: exp_idx and units at 0).

    Its imports (seaborn, pandas, matplotlib) are real; ``tsplot`` is only reached
    by ``plot_data``, which callers replace or avoid.
    """
    module = types.ModuleType("spinup_plot")
    source = spinup_source("spinup/utils/plot.py")
    exec(compile(source, "spinup/utils/plot.py", "exec"), module.__dict__)
    return module
