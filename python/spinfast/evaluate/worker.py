"""Evaluating one (run, snapshot): :func:`run_task`, run in a worker process or a Ray task.

It does what ``spinfast test_policy RUN -i N -n EPISODES --seed S -nr`` does, and
nothing else, so that a row's episodes are exactly the ones that command prints:
the env unpickled from ``varsN.pkl`` (or made with ``--env``), then the policy
loaded with its sampling seeded with S (natively when it can run in Rust, as
``--policy auto``), then the episodes in the Rust loop, episode k reset with
seed S+k; the summary is Spinning Up's float32 statistics, as test_policy logs it.

Every failure (no such snapshot, an env that cannot be restored, a policy that
cannot load, an exception from the env) becomes the row's ``error``: the sweep
goes on. What the loaders print (``Loading from ...``) is dropped.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import time
import warnings
from typing import Any

from spinfast.evaluate.tasks import Protocol, Task, base_row, error_row

__all__ = ["run_task", "worker_loop"]


def run_task(task: Task, protocol: Protocol) -> dict[str, Any]:
    """Evaluate one (run, snapshot) under ``protocol`` and return its row.

    Never raises for a bad agent: the row's ``error`` says what went wrong.
    """
    if task.problem is not None:
        return error_row(task, protocol, task.problem)
    _set_worker_environment()
    start = time.perf_counter()
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            row = _evaluate(task, protocol)
    except Exception as err:  # any failure is this row's, never the sweep's
        return error_row(task, protocol, _describe(err), time.perf_counter() - start)
    row["seconds"] = time.perf_counter() - start
    return row


def _evaluate(task: Task, protocol: Protocol) -> dict[str, Any]:
    from spinfast.agent.envs import check_obs_shape, make_env, restore_env, with_backend
    from spinfast.agent.load import load_agent
    from spinfast.agent.rollout import run_episodes
    from spinfast.logx import statistics_scalar

    snapshot = _snapshot(task)
    # the env before the agent, as test_policy: a run that cannot have one fails before TF loads
    env = make_env(protocol.env) if protocol.env else restore_env(snapshot)
    video = _recording(task, snapshot, env, protocol) if protocol.video else None
    if video is not None:
        env = video.envs
    else:  # Gymnasium's classic-control envs step in Rust, bit for bit
        env = with_backend(env)
    get_action = load_agent(snapshot, protocol.deterministic, protocol.seed)
    try:
        check_obs_shape(env, getattr(get_action, "obs_shape", None))
        with video or contextlib.nullcontext():
            episodes = run_episodes(
                env,
                get_action,
                protocol.episodes,
                protocol.max_ep_len or None,
                render=False,
                seed=protocol.seed,
            )
    finally:
        session = getattr(get_action, "session", None)  # a policy left in its TF session
        if session is not None:
            session.close()
        close = getattr(env, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()
    returns = [ep.ret for ep in episodes]
    lengths = [ep.length for ep in episodes]
    mean, std, low, high = statistics_scalar(returns, with_min_and_max=True)
    row = base_row(task, protocol)
    # the numbers exactly as test_policy's summary gives them (float(str(float32)))
    row.update(
        AverageEpRet=float(str(mean)),
        StdEpRet=float(str(std)),
        MaxEpRet=float(str(high)),
        MinEpRet=float(str(low)),
        AverageEpLen=float(str(statistics_scalar(lengths)[0])),
        env_steps=int(sum(lengths)),
        policy=getattr(get_action, "backend", None),
        EpRets=returns,
        EpLens=lengths,
    )
    return row


def _recording(task: Task, snapshot: Any, env: Any, protocol: Protocol) -> Any:
    """The row's first episodes recorded (as ``test_policy --video``): a
    :class:`spinfast.agent.video.Recording`, or None when the env cannot render."""
    from spinfast.agent.video import CannotRecord, record, rgb_array_env

    try:
        env = rgb_array_env(env)
    except CannotRecord:
        return None  # the row runs unrecorded, as test_policy does after its note
    name = f"{os.path.basename(os.path.abspath(task.path))}-{snapshot.name.replace('/', '-')}"
    return record(env, protocol.video, name, protocol.episodes, protocol.video_episodes)


def _snapshot(task: Task) -> Any:
    """The task's snapshot: number N as ``test_policy -i N`` finds it, or the unnumbered one."""
    from spinfast.agent.snapshots import find_snapshot, list_snapshots
    from spinfast.errors import SnapshotError

    if task.snapshot is not None:
        return find_snapshot(task.path, task.snapshot)
    found = list_snapshots(task.path)
    unnumbered = [s for s in found if s.itr is None]
    if len(unnumbered) == len(found):
        return find_snapshot(task.path, "last")  # the only kind here: with find_snapshot's checks
    if not unnumbered:
        raise SnapshotError("has no unnumbered snapshot", task.path)
    return unnumbered[0]  # list_snapshots puts the later layout (tf1_save) first, as find_snapshot


def _describe(err: BaseException) -> str:
    from spinfast.errors import EnvironmentNotFound, SnapshotError

    if isinstance(err, ModuleNotFoundError) and err.name in ("tensorflow", "torch"):
        extra = "tf" if err.name == "tensorflow" else "torch"
        return f'needs {err.name}: pip install "spinfast[{extra}]"'
    if isinstance(err, (SnapshotError, EnvironmentNotFound)):
        return str(err)
    return f"{type(err).__name__}: {err}"


def worker_loop(conn: Any, log_path: str | None = None) -> None:
    """A local worker process: receive ``(task, protocol)``, send back its row; ``None`` ends.

    Its stdout is /dev/null (the parent's stdout is the table, or JSON) and its
    stderr goes to ``log_path`` (TensorFlow's start-up notes; the traceback, if
    the worker itself fails), which the parent reads when the worker dies. It
    ignores Ctrl-C: the parent stops it, keeping every finished row.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd, path in ((1, os.devnull), (2, log_path or os.devnull)):
        target = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(target, fd)
        os.close(target)
    _warm_up()
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the parent is gone
            return
        if job is None:
            return
        conn.send(run_task(*job))


def _warm_up() -> None:
    """Import what every task needs (the loader, the loop, Gymnasium) once, before the
    first task, so that it is not counted in that task's ``seconds``. TensorFlow is
    not imported: agents are read and run natively, and only a graph with an op that
    has no native kernel loads it, in the task that needs it."""
    _set_worker_environment()
    import gymnasium  # noqa: F401

    import spinfast.agent.load  # noqa: F401
    import spinfast.agent.rollout  # noqa: F401


#: Set in a worker before TensorFlow is imported there, unless already set. The pool
#: runs one worker per core: a worker that spread one agent's loading over every
#: core would only slow the others down.
WORKER_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TF's C++ start-up notes
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}


def _set_worker_environment() -> None:
    for name, value in WORKER_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
