"""Score every run and snapshot of a sweep under one protocol: :func:`evaluate`
(``spinfast evaluate LOGDIR...``).

Runs are found as :func:`spinfast.load_runs` finds them; each (run, snapshot) is
one task, evaluated as ``spinfast test_policy RUN -i N -n EPISODES --seed S -nr``
evaluates it (episode k resets with seed S+k, the policy's sampling seeded with
S), so a row's episodes are the ones that command prints, and rows are
comparable across agents. Tasks run in a pool of local worker processes (one per
core by default), or as Ray tasks on an existing cluster (``ray="auto"`` or an
address; the ``ray`` extra). With ``out``, each finished row is appended to a
CSV file at once, whole (:mod:`spinfast.evaluate.results`); a rerun with the same
protocol evaluates only the rows not there yet.

Example::

    import spinfast
    scores = spinfast.evaluate("data/ppo", episodes=10, snapshots="all", out="scores.csv")
    scores.groupby(["condition", "snapshot"])["AverageEpRet"].agg(["mean", "std"])
    episodes = spinfast.evaluate("data/ppo", episodes=10, snapshots="all",
                                 out="scores.csv", per_episode=True)  # read back, not rerun

``vars.pkl`` is a pickle: restoring an env from it (without ``env=``) runs code
from the file. Only evaluate agents you trust.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from spinfast.agent.video import DEFAULT_MAX_VIDEOS
from spinfast.evaluate.report import Progress, episodes_frame, rows_frame
from spinfast.evaluate.results import ResultsFile, ResultsFileError, latest, read_rows
from spinfast.evaluate.tasks import (
    COLUMNS,
    KEY_COLUMNS,
    NoRunsFound,
    Protocol,
    Task,
    error_row,
    find_tasks,
    task_key,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "KEY_COLUMNS",
    "NoRunsFound",
    "Protocol",
    "ResultsFileError",
    "Task",
    "evaluate",
    "evaluate_rows",
    "find_tasks",
    "read_results",
]


def evaluate(
    *logdirs: str | os.PathLike[str],
    episodes: int = 100,
    snapshots: Literal["last", "all"] | Sequence[int] | str = "last",
    deterministic: bool = False,
    max_ep_len: int = 0,
    seed: int = 0,
    env: str | None = None,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    ray: str | None = None,
    retries: int = 1,
    per_episode: bool = False,
    video: str | os.PathLike[str] | None = None,
    video_episodes: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Evaluate every (run, snapshot) under ``logdirs`` and return one row each.

    Arguments:
        logdirs: folders, or prefixes of folders, as for :func:`spinfast.load_runs`.
        episodes: episodes per snapshot.
        snapshots: ``"last"`` (the highest number, else the unnumbered one),
            ``"all"``, or snapshot numbers (a list, or ``"0,10,20"``).
        deterministic: act with ``mu`` (SAC's mean action) where the agent has one.
        max_ep_len: end an episode after this many steps; 0: only when the env ends it.
        seed: episode k resets with seed ``seed + k``; the policy's sampling is seeded.
        env: make every env with ``gymnasium.make(env)`` instead of unpickling ``varsN.pkl``.
        select, exclude: keep logdirs containing all of / none of these substrings.
        out: the results CSV: each row appended as it finishes; rows already there
            under the same protocol (without an error) are not evaluated again.
        workers: local worker processes (default: one per core). Ignored with ``ray``.
        ray: ``"auto"`` or a cluster address: run one Ray task per (run, snapshot)
            there (the folders must be readable at the same paths on every node).
            A process already connected (``ray.init`` called) uses its cluster.
        retries: how many times a task is retried when its worker process dies.
        per_episode: return one row per episode instead (see below).
        video: a folder to record each row's first episodes in, as MP4 files named
            ``<run>-<snapshot>-episode-<k>.mp4`` (the ``video`` extra; envs that
            cannot render run unrecorded). The rows are the same without it.
        video_episodes: how many episodes of each row to record (default 10).
        progress: a progress bar on stderr (when it is a terminal).

    Returns:
        A DataFrame, one row per (run, snapshot) in discovery order (snapshots in
        number order, the unnumbered one first), with the columns ``path``,
        ``exp_name``, ``condition``, ``train_seed``, ``snapshot`` (``<NA>``: the
        unnumbered one), the protocol (``episodes``, ``seed``, ``deterministic``,
        ``max_ep_len``, ``env``), ``AverageEpRet``, ``StdEpRet``, ``MaxEpRet``,
        ``MinEpRet``, ``AverageEpLen`` (as test_policy's summary), ``env_steps``,
        ``seconds``, ``policy`` (``native`` or ``tf``) and ``error`` (None, or why
        the row failed: its scores are then NaN). With ``per_episode``: the run,
        snapshot and protocol columns, then ``episode``, ``ret``, ``length``.

    Raises:
        NoRunsFound: no run under the logdirs (the message names what was searched).
        ResultsFileError: ``out`` is not a results file, or another evaluation writes it.
        ValueError: a bad argument.
        KeyboardInterrupt: Ctrl-C; every row finished before it is in ``out``.
    """
    rows = evaluate_rows(
        *logdirs,
        episodes=episodes,
        snapshots=snapshots,
        deterministic=deterministic,
        max_ep_len=max_ep_len,
        seed=seed,
        env=env,
        select=select,
        exclude=exclude,
        out=out,
        workers=workers,
        ray=ray,
        retries=retries,
        video=video,
        video_episodes=video_episodes,
        progress=progress,
    )
    return episodes_frame(rows) if per_episode else rows_frame(rows)


def evaluate_rows(
    *logdirs: str | os.PathLike[str],
    episodes: int = 100,
    snapshots: Literal["last", "all"] | Sequence[int] | str = "last",
    deterministic: bool = False,
    max_ep_len: int = 0,
    seed: int = 0,
    env: str | None = None,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    ray: str | None = None,
    retries: int = 1,
    video: str | os.PathLike[str] | None = None,
    video_episodes: int | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """:func:`evaluate`'s rows as dicts, in the same order, each with its episodes'
    returns and lengths in ``EpRets`` and ``EpLens`` (lists); the same arguments
    but ``per_episode``, the same exceptions."""
    protocol = Protocol(
        episodes,
        seed,
        bool(deterministic),
        max_ep_len,
        env or "",
        os.fspath(video) if video else "",
        video_episodes or DEFAULT_MAX_VIDEOS,
    )
    if retries < 0:
        raise ValueError(f"retries must be >= 0, not {retries}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, not {workers}")
    tasks = find_tasks(logdirs, snapshots, select, exclude)
    rows: list[dict[str, Any] | None] = [None] * len(tasks)
    results = ResultsFile(out) if out is not None else None
    try:
        finished = results.done() if results is not None else {}
        todo: list[int] = []
        for i, task in enumerate(tasks):
            rows[i] = finished.get(task_key(task, protocol))
            if rows[i] is None:
                todo.append(i)
        bar = Progress(len(todo), stream=None) if progress else None

        def on_row(j: int, row: dict[str, Any]) -> None:
            rows[todo[j]] = row
            if results is not None:
                results.append(row)
            if bar is not None:
                bar.update(row)

        try:
            _run([tasks[i] for i in todo], protocol, on_row, workers, ray, retries)
        finally:
            if bar is not None:
                bar.close()
    finally:
        if results is not None:
            results.close()
    return [row for row in rows if row is not None]


def _run(
    tasks: list[Task],
    protocol: Protocol,
    on_row: Any,
    workers: int | None,
    ray: str | None,
    retries: int,
) -> None:
    # a task that cannot run (no such snapshot) gets its error row here, without a worker
    runnable = []
    for j, task in enumerate(tasks):
        if task.problem is not None:
            on_row(j, error_row(task, protocol, task.problem))
        else:
            runnable.append(j)

    def on_runnable(k: int, row: dict[str, Any]) -> None:
        on_row(runnable[k], row)

    todo = [tasks[j] for j in runnable]
    if ray is not None:
        from spinfast.evaluate.ray_backend import run_ray

        run_ray(todo, protocol, on_runnable, ray, retries)
    else:
        from spinfast.evaluate.local import run_local

        run_local(todo, protocol, on_runnable, workers, retries)


def read_results(path: str | os.PathLike[str], per_episode: bool = False) -> pd.DataFrame:
    """The rows of a results file, the last one of each key (run, snapshot, protocol),
    in file order; as :func:`evaluate` returns them (``per_episode``: one row per episode).

    Raises:
        ResultsFileError: not a results file ``evaluate`` wrote.
        OSError: it cannot be read.
    """
    rows = list(latest(read_rows(path)).values())
    return episodes_frame(rows) if per_episode else rows_frame(rows)
