"""What ``spinfast evaluate`` does, as data: the protocol, the tasks and the rows.

- :class:`Protocol`: how every agent is evaluated (episodes, seed, ``-d``, ``-l``,
  ``--env``). It is part of each row's key, so rows evaluated under another
  protocol are never mixed with these.
- :class:`Task`: one (run, snapshot) to evaluate; :func:`find_tasks` lists them
  for some logdirs, finding runs as :func:`spinfast.load_runs` does.
- A row: one dict per task, with the columns :data:`COLUMNS`, made by
  :func:`spinfast.evaluate.worker.run_task` (or :func:`error_row`).

Everything here is plain data (picklable, cheap to send to a worker process or
a Ray task) and imports neither TensorFlow nor pandas.
"""

from __future__ import annotations

import json
import os
import os.path as osp
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, final

from spinfast.agent.snapshots import find_snapshot, list_snapshots
from spinfast.curves.runs import find_logdirs
from spinfast.errors import SnapshotError

__all__ = [
    "COLUMNS",
    "KEY_COLUMNS",
    "SCORE_COLUMNS",
    "NoRunsFound",
    "Protocol",
    "Task",
    "error_row",
    "find_tasks",
    "parse_snapshots",
    "row_key",
]

#: The columns of a row, in the order of the results file.
COLUMNS = (
    # the agent
    "path",
    "exp_name",
    "condition",
    "train_seed",
    "snapshot",
    # the protocol
    "episodes",
    "seed",
    "deterministic",
    "max_ep_len",
    "env",
    # the scores, as test_policy's summary (Spinning Up's float32 statistics)
    "AverageEpRet",
    "StdEpRet",
    "MaxEpRet",
    "MinEpRet",
    "AverageEpLen",
    "env_steps",
    "seconds",
    "policy",
    "error",
    # each episode's return and length, space-separated, in episode order
    "EpRets",
    "EpLens",
)
#: What identifies a row: the run, the snapshot and the protocol.
KEY_COLUMNS = ("path", "snapshot", "episodes", "seed", "deterministic", "max_ep_len", "env")
SCORE_COLUMNS = ("AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet", "AverageEpLen")

Snapshots = Literal["last", "all"] | Sequence[int]


class NoRunsFound(ValueError):
    """No run folder (one holding a progress.txt) was found; the message names what was searched."""


@final
@dataclass(frozen=True, slots=True)
class Protocol:
    """How each snapshot is evaluated: the same for every row of one ``evaluate``.

    Attributes:
        episodes: episodes per snapshot.
        seed: episode ``k`` resets with ``seed + k``; the policy's sampling is seeded with it.
        deterministic: act with ``mu`` (SAC's mean action) where the agent has one.
        max_ep_len: end an episode after this many steps; 0: only when the env ends it.
        env: a Gymnasium id to make the env with, or ``""``: unpickle it from ``varsN.pkl``.
        video: a folder to record the first ``video_episodes`` episodes of each row
            in (``""``: none). Not part of a row's key: a video never changes the
            evaluation.
        video_episodes: how many episodes of each row to record.
    """

    episodes: int = 100
    seed: int = 0
    deterministic: bool = False
    max_ep_len: int = 0
    env: str = ""
    video: str = ""
    video_episodes: int = 0

    def __post_init__(self) -> None:
        for name, low in (("episodes", 1), ("seed", 0), ("max_ep_len", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, not {value!r}")

    def as_dict(self) -> dict[str, Any]:
        """The fields that make a row's protocol (its key and columns)."""
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("video", "video_episodes")
        }


@final
@dataclass(frozen=True, slots=True)
class Task:
    """One (run, snapshot) to evaluate.

    Attributes:
        path: the run folder, absolute (workers may run elsewhere: on a Ray
            cluster the folders must be at the same path on every node).
        exp_name: config.json's ``exp_name``, or None.
        condition: ``exp_name``, else ``"exp"`` (Spinning Up's plotter's ``Condition1``).
        train_seed: config.json's ``seed``, else the ``_sN`` folder suffix, else None.
        snapshot: the snapshot number, or None for the unnumbered one.
        problem: why this task cannot run (e.g. no such snapshot); its row is
            then an error row, made without a worker.
    """

    path: str
    exp_name: str | None
    condition: str
    train_seed: int | None
    snapshot: int | None
    problem: str | None = None


def row_key(row: dict[str, Any]) -> tuple:
    """A row's key: the run, the snapshot and the protocol (see :data:`KEY_COLUMNS`)."""
    return tuple(row[column] for column in KEY_COLUMNS)


def task_key(task: Task, protocol: Protocol) -> tuple:
    """The key of the row ``task`` gives under ``protocol``."""
    return row_key(_agent_columns(task) | protocol.as_dict())


def _agent_columns(task: Task) -> dict[str, Any]:
    return {
        "path": task.path,
        "exp_name": task.exp_name,
        "condition": task.condition,
        "train_seed": task.train_seed,
        "snapshot": task.snapshot,
    }


def base_row(task: Task, protocol: Protocol) -> dict[str, Any]:
    """A row with the agent and protocol filled in, and nothing evaluated yet."""
    row = dict.fromkeys(COLUMNS)
    row.update(_agent_columns(task))
    row.update(protocol.as_dict())
    row["env_steps"] = 0
    row["seconds"] = 0.0
    row["EpRets"] = []
    row["EpLens"] = []
    return row


def error_row(task: Task, protocol: Protocol, error: str, seconds: float = 0.0) -> dict[str, Any]:
    """The row of a task that failed: its agent and protocol, the error, no scores."""
    row = base_row(task, protocol)
    row["error"] = " ".join(error.split()) or "failed"  # one line: the results file is line-based
    row["seconds"] = seconds
    return row


def parse_snapshots(text: str) -> Snapshots:
    """``--snapshots``: ``last``, ``all``, or snapshot numbers separated by commas.

    Example:
        >>> parse_snapshots("0,10, 20")
        [0, 10, 20]
    """
    text = text.strip()
    if text in ("last", "all"):
        return text  # type: ignore[return-value]
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(
            f"--snapshots takes last, all, or numbers separated by commas (0,10,20), not {text!r}"
        ) from None
    if any(n < 0 for n in numbers):
        raise ValueError(f"snapshot numbers are >= 0, not {text!r}")
    return list(dict.fromkeys(numbers))


def find_tasks(
    logdirs: Sequence[str | os.PathLike[str]],
    snapshots: Snapshots = "last",
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> list[Task]:
    """Every (run, snapshot) to evaluate under ``logdirs``, in discovery order.

    Runs are found as :func:`spinfast.load_runs` finds them (Spinning Up's
    plotter: prefix completion, ``select``/``exclude``, every folder holding a
    progress.txt), without reading the progress files. Snapshots: ``"last"``
    (the highest number, else the unnumbered one, as ``test_policy`` picks it),
    ``"all"`` (unnumbered first, then by number), or a list of numbers. A run
    lacking a snapshot asked for, or having none, gives a task with a
    ``problem``: an error row, not a failed sweep.

    Raises:
        NoRunsFound: no run folder under the logdirs (the message names them).
    """
    snapshots = _check_snapshots(snapshots)
    resolved = find_logdirs(logdirs, select, exclude)
    folders: dict[str, None] = {}  # a run under two logdirs given is evaluated once
    for logdir in resolved:
        for root, dirs, files in os.walk(logdir):
            dirs.sort()
            if "progress.txt" in files:
                folders[osp.abspath(root)] = None
    if not folders:
        raise NoRunsFound(_nothing_found(logdirs, resolved, select, exclude))
    tasks = []
    for folder in folders:
        tasks += _run_tasks(folder, snapshots)
    return tasks


def _check_snapshots(snapshots: Snapshots | str) -> Snapshots:
    if isinstance(snapshots, str):
        return parse_snapshots(snapshots)
    numbers = list(snapshots)
    if not numbers or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers
    ):
        raise ValueError(
            f"snapshots must be 'last', 'all' or snapshot numbers (ints >= 0), not {snapshots!r}"
        )
    return list(dict.fromkeys(numbers))


def _run_tasks(folder: str, snapshots: Snapshots) -> list[Task]:
    config = _read_config(folder)
    exp_name = config.get("exp_name") if config is not None else None
    exp_name = exp_name if isinstance(exp_name, str) else None
    run = Task(folder, exp_name, exp_name or "exp", _train_seed(folder, config), None)

    def task(snapshot: int | None, problem: str | None = None) -> Task:
        return Task(run.path, run.exp_name, run.condition, run.train_seed, snapshot, problem)

    try:
        if snapshots == "last":
            return [task(find_snapshot(folder, "last", check=False).itr)]
        found = list_snapshots(folder)
        if not found:
            find_snapshot(folder, "last", check=False)  # raises, saying why
        if snapshots == "all":
            return [task(itr) for itr in dict.fromkeys(s.itr for s in found)]
    except SnapshotError as err:
        return [task(None, str(err))]
    have = {s.itr for s in found}
    names = ", ".join(s.name for s in found)
    return [
        task(n)
        if n in have
        else task(n, f"{folder}: no snapshot number {n}; the snapshots here: {names}")
        for n in snapshots
    ]


def _read_config(folder: str) -> dict[str, Any] | None:
    try:
        with open(osp.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def _train_seed(folder: str, config: dict[str, Any] | None) -> int | None:
    """As :attr:`spinfast.Run.seed`: config.json's seed, else the ``_sN`` folder suffix."""
    seed = (config or {}).get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    _, sep, tail = osp.basename(osp.normpath(folder)).rpartition("_s")
    return int(tail) if sep and tail.isdigit() else None


def _nothing_found(
    given: Sequence[str | os.PathLike[str]],
    searched: list[str],
    select: Sequence[str] | None,
    exclude: Sequence[str] | None,
) -> str:
    named = " ".join(map(os.fspath, given))
    rules = "".join(
        f" {flag} {' '.join(words)}"
        for flag, words in (("--select", select), ("--exclude", exclude))
        if words
    )
    if not searched:
        return (
            f"no runs found: no folder matches {named}{rules} (a logdir without a trailing "
            f"'{os.sep}' is completed as a prefix of the names in its parent folder)"
        )
    return f"no runs found: no progress.txt under {', '.join(searched)}{rules}"
