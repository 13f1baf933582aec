"""Many run folders at once: :func:`load_runs`, :class:`Runs` and :class:`Run`.

Run discovery is Spinning Up's plotter's (``get_all_datasets`` and
``get_datasets`` in spinup/utils/plot.py): every folder holding a progress.txt
under each logdir, a logdir without a trailing slash completed against its
parent folder's entries, ``select``/``exclude`` substrings, and ``exp_name`` from
config.json. The files are then read in parallel in Rust with the GIL released,
and a broken file is reported, never fatal.
"""

from __future__ import annotations

import json
import os
import os.path as osp
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, final

import numpy as np

from spinfast import _core
from spinfast.curves.progress import Progress
from spinfast.errors import ProgressParseError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Run", "Runs", "load_runs", "find_logdirs"]

#: The columns Spinning Up's plotter adds to each run's rows.
LABEL_COLUMNS = ("Unit", "Condition1", "Condition2", "Performance")


@final
@dataclass(frozen=True, slots=True)
class Run:
    """One run folder: its progress table, its config and the plotter's labels.

    Attributes:
        path: the run folder (the one holding progress.txt).
        progress: its progress.txt.
        config: its config.json as a dict, or None when absent or unreadable.
        exp_name: ``config["exp_name"]``, or None.
        condition: the legend entry for its logdir, else ``exp_name``, else
            ``"exp"`` (Spinning Up's ``Condition1``).
        unit: the run's number among those with the same condition (``Unit``).
        index: the run's number among all folders found (``Condition2`` is
            ``f"{condition}-{index}"``), counting broken ones, as Spinning Up does.
    """

    path: str
    progress: Progress
    config: dict[str, Any] | None
    exp_name: str | None
    condition: str
    unit: int
    index: int

    @property
    def performance(self) -> np.ndarray | None:
        """``AverageTestEpRet`` where the run has it, else ``AverageEpRet``, else None."""
        for column in ("AverageTestEpRet", "AverageEpRet"):
            if column in self.progress:
                return self.progress[column]
        return None

    @property
    def seed(self) -> int | None:
        """``config["seed"]`` where it is an int, else the ``_sN`` folder suffix, else None."""
        seed = (self.config or {}).get("seed")
        if isinstance(seed, int):
            return seed
        head, sep, tail = osp.basename(osp.normpath(self.path)).rpartition("_s")
        return int(tail) if sep and tail.isdigit() else None


@final
@dataclass(slots=True)
class Runs:
    """What :func:`load_runs` found: the runs it read and the files it could not.

    Attributes:
        runs: the good runs, in discovery order.
        errors: ``(path, error)`` for each progress.txt that could not be read.
        logdirs: the logdirs searched, after prefix completion and selection.
    """

    runs: list[Run] = field(default_factory=list)
    errors: list[tuple[str, ProgressParseError]] = field(default_factory=list)
    logdirs: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __getitem__(self, i: int) -> Run:
        return self.runs[i]

    def to_pandas(self) -> pd.DataFrame:
        """All rows of all runs in one long table, as Spinning Up's plotter builds it.

        Each run's columns plus ``Unit``, ``Condition1``, ``Condition2`` and
        ``Performance``; columns a run lacks are NaN in its rows. A run with
        neither ``AverageTestEpRet`` nor ``AverageEpRet`` has ``Performance`` NaN
        (Spinning Up's loader crashes there).
        """
        import pandas as pd

        order: dict[str, None] = {}  # pd.concat's column order: first seen, first
        for run in self.runs:
            order.update(dict.fromkeys(run.progress.columns))
            order.update(dict.fromkeys(LABEL_COLUMNS))
        order.update(dict.fromkeys(LABEL_COLUMNS))
        names = [name for name in order if name not in LABEL_COLUMNS]

        lengths = np.array([len(run.progress) for run in self.runs], dtype=np.int64)
        values = np.concatenate(
            [_aligned(run.progress, names) for run in self.runs] or [np.empty((len(names), 0))],
            axis=1,
        )
        nan = np.full(lengths.max(initial=0), np.nan)
        labels = {
            "Unit": np.repeat([run.unit for run in self.runs], lengths),
            "Condition1": np.repeat(
                np.array([run.condition for run in self.runs], object), lengths
            ),
            "Condition2": np.repeat(
                np.array([f"{run.condition}-{run.index}" for run in self.runs], object), lengths
            ),
            "Performance": np.concatenate(
                [
                    nan[:n] if run.performance is None else run.performance
                    for run, n in zip(self.runs, lengths, strict=True)
                ]
                or [np.empty(0)]
            ),
        }
        rows = dict(zip(names, values, strict=True))
        return pd.DataFrame({name: rows.get(name, labels.get(name)) for name in order}, copy=False)


def _aligned(progress: Progress, names: list[str]) -> np.ndarray:
    """``progress``'s values as ``(len(names), rows)``, NaN where it lacks a column."""
    if progress.columns == names:
        return progress.to_numpy().T
    out = np.full((len(names), len(progress)), np.nan)
    for i, name in enumerate(names):
        if name in progress:
            out[i] = progress[name]
    return out


def find_logdirs(
    logdirs: Sequence[str | os.PathLike[str]],
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> list[str]:
    """Resolve logdirs as Spinning Up's plotter does.

    A path that is a folder and ends with a separator is taken as it is; any other
    is a prefix: every entry of its parent folder whose name contains it is taken,
    sorted. Then only the paths containing every ``select`` substring and none of
    the ``exclude`` ones are kept. (Unlike Spinning Up, a bare name with no folder
    part is completed against the working directory instead of crashing.)
    """
    found: list[str] = []
    for logdir in map(os.fspath, logdirs):
        if osp.isdir(logdir) and logdir.endswith(os.sep):
            found.append(logdir)
            continue
        basedir, prefix = osp.split(logdir)
        try:
            entries = os.listdir(basedir or os.curdir)
        except OSError:
            continue
        found += sorted(osp.join(basedir, name) for name in entries if prefix in name)
    if select:
        found = [d for d in found if all(s in d for s in select)]
    if exclude:
        found = [d for d in found if not any(s in d for s in exclude)]
    return found


def load_runs(
    *logdirs: str | os.PathLike[str],
    legend: Sequence[str] | None = None,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    threads: int | None = None,
) -> Runs:
    """Find and read every run under the given logdirs.

    Args:
        logdirs: folders, or prefixes of folders, as for Spinning Up's plotter.
        legend: one label per resolved logdir, used as the runs' condition.
        select: keep only logdirs containing all of these substrings.
        exclude: drop logdirs containing any of these substrings.
        threads: threads for parsing (default: one per core).

    Returns:
        :class:`Runs`: the runs read, and ``(path, error)`` for each broken file.

    Example:
        >>> import pathlib, tempfile
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for seed in (0, 10):
        ...     run = root / "ppo" / f"ppo_s{seed}"
        ...     run.mkdir(parents=True)
        ...     _ = (run / "progress.txt").write_text("Epoch\\tAverageEpRet\\n0\\t1.5\\n")
        >>> _ = (root / "ppo" / "broken_s1").mkdir()
        >>> _ = (root / "ppo" / "broken_s1" / "progress.txt").write_text("")
        >>> runs = load_runs(root / "ppo")
        >>> sorted(run.seed for run in runs), len(runs.errors)
        ([0, 10], 1)
    """
    resolved = find_logdirs(logdirs, select, exclude)
    if legend and len(legend) != len(resolved):
        raise ValueError(
            f"give one legend entry per logdir: {len(legend)} given for "
            f"{len(resolved)} logdirs {resolved}"
        )
    folders: list[tuple[str, str | None]] = []  # (run folder, legend entry)
    for i, logdir in enumerate(resolved):
        for root, _, files in os.walk(logdir):
            if "progress.txt" in files:
                folders.append((root, legend[i] if legend else None))

    results = _core.read_run_folders([path for path, _ in folders], threads)
    runs = Runs(logdirs=resolved)
    units: dict[str, int] = {}
    for index, ((path, label), folder) in enumerate(zip(folders, results, strict=True)):
        config = _parse_config(folder.config_json)
        exp_name = config.get("exp_name") if config is not None else None
        condition = label or exp_name or "exp"
        unit = units.get(condition, 0)
        units[condition] = unit + 1
        if folder.table is None:
            runs.errors.append((folder.error.path, folder.error))
            continue
        progress = Progress(osp.join(path, "progress.txt"), folder.table)
        runs.runs.append(Run(path, progress, config, exp_name, condition, unit, index))
    return runs


def _parse_config(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        config = json.loads(text)
    except ValueError:
        return None
    return config if isinstance(config, dict) else None
