"""The local backend: a pool of worker processes on this machine, one per core by default.

Workers are started with the ``spawn`` method (TensorFlow and ``fork`` do not
mix), each imports TensorFlow once and then evaluates one task after another,
sent to it one at a time over its own pipe, so a slow task never holds others
back. A worker that dies mid-task (killed, out of memory, a crash in native
code) is replaced, and its task is retried up to ``retries`` times, then given
an error row: the rest of the sweep goes on either way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from spinfast.evaluate.tasks import Protocol, Task, error_row
from spinfast.evaluate.worker import worker_loop

__all__ = ["default_workers", "run_local"]


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class _Worker:
    process: Any
    conn: Connection
    log: str
    task: tuple[int, Task] | None = None


def _start(context: Any) -> _Worker:
    fd, log = tempfile.mkstemp(prefix="spinfast-evaluate-", suffix=".log")
    os.close(fd)
    parent, child = context.Pipe()
    process = context.Process(target=worker_loop, args=(child, log), daemon=True)
    process.start()
    child.close()
    return _Worker(process, parent, log)


def _death(worker: _Worker) -> str:
    """How a worker died: the signal, or the exit code and the last line on its stderr
    (the exception, when Python itself failed)."""
    code = worker.process.exitcode
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    try:
        with open(worker.log, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        lines = []
    return f"exit code {code}: {lines[-1].strip()}" if lines else f"exit code {code}"


def run_local(
    tasks: Sequence[Task],
    protocol: Protocol,
    on_row: Callable[[int, dict[str, Any]], None],
    workers: int | None = None,
    retries: int = 1,
) -> None:
    """Evaluate ``tasks`` in a pool of worker processes; ``on_row(i, row)`` as each finishes.

    Rows come in the order tasks finish. On ``KeyboardInterrupt`` (or any
    exception from ``on_row``) the workers are stopped and the exception goes on.
    """
    pending = deque(enumerate(tasks))
    if not pending:
        return
    workers = max(1, min(workers or default_workers(), len(pending)))
    context = multiprocessing.get_context("spawn")
    pool = [_start(context) for _ in range(workers)]
    deaths: dict[int, int] = {}
    try:
        while pending or any(w.task is not None for w in pool):
            for worker in pool:
                if worker.task is None and pending:
                    worker.task = pending.popleft()
                    try:
                        worker.conn.send((worker.task[1], protocol))
                    except OSError:  # it died idle: seen below as a death with this task
                        pass
            busy = [w for w in pool if w.task is not None]
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for worker in list(pool):
                if worker.task is None:
                    continue
                row = None
                if worker.conn.poll():
                    try:
                        row = worker.conn.recv()
                    except (EOFError, OSError):
                        row = None
                if row is not None:
                    index, _ = worker.task
                    worker.task = None
                    on_row(index, row)
                elif not worker.process.is_alive():
                    index, task = worker.task
                    worker.process.join()
                    why = _death(worker)
                    _close(worker)
                    deaths[index] = deaths.get(index, 0) + 1
                    if deaths[index] > retries:
                        on_row(
                            index,
                            error_row(
                                task,
                                protocol,
                                f"the worker process died evaluating this snapshot ({why}), "
                                f"{deaths[index]} times",
                            ),
                        )
                    else:
                        pending.appendleft((index, task))
                    pool.remove(worker)
                    if pending:
                        pool.append(_start(context))
    finally:
        _stop(pool)


def _stop(pool: list[_Worker]) -> None:
    for worker in pool:
        if worker.task is None and worker.process.is_alive():
            try:
                worker.conn.send(None)
            except OSError:
                pass
    for worker in pool:
        if worker.task is not None:
            worker.process.terminate()  # mid-task: its row is lost, never half written
    for worker in pool:
        worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        _close(worker)


def _close(worker: _Worker) -> None:
    worker.conn.close()
    with contextlib.suppress(OSError):
        os.remove(worker.log)
