"""The results file (``--out results.csv``): one CSV line per finished row, never half a row.

Each row is appended as one line, the moment it is finished: one ``write`` of
the whole line to a file opened for appending, then ``fsync``; so a crash or a
Ctrl-C leaves every finished row whole, and at worst an unfinished last line,
which the next run cuts off (with a note) before appending. The file is locked
while an evaluation appends to it, so two evaluations cannot interleave in it.

A rerun reads the rows already there: a row with the same key (run, snapshot and
protocol, :data:`~spinfast.evaluate.tasks.KEY_COLUMNS`) and no error is not
evaluated again; a row with an error is (it may have been fixed since), and the
later row wins. Rows under another protocol stay in the file, untouched.

Numbers are written with ``repr``, so they read back exactly; the per-episode
returns and lengths are space-separated in the ``EpRets`` and ``EpLens`` columns.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from spinfast.evaluate.tasks import COLUMNS, row_key

__all__ = ["ResultsFile", "ResultsFileError", "format_row", "parse_row", "read_rows"]

_INT = {"train_seed", "snapshot", "episodes", "seed", "max_ep_len", "env_steps"}
_FLOAT = {"AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet", "AverageEpLen", "seconds"}
_OPTIONAL_STR = {"exp_name", "policy", "error"}


class ResultsFileError(ValueError):
    """A results file that cannot be used: not one ``spinfast evaluate`` wrote, or in use."""


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "EpRets":
        return " ".join(repr(float(v)) for v in value)
    if column == "EpLens":
        return " ".join(str(int(v)) for v in value)
    if column in _FLOAT:
        return repr(float(value))
    return str(value)


def format_row(row: dict[str, Any]) -> str:
    """One row as one CSV line (ending with a newline; no newline inside)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(_cell(c, row[c]) for c in COLUMNS)
    line = buffer.getvalue()
    if line.count("\n") != 1:  # a newline in a path: quoted by csv, but the file is line-based
        raise ResultsFileError(f"cannot write a row whose fields hold a newline: {row['path']!r}")
    return line


def parse_row(cells: list[str]) -> dict[str, Any]:
    """A row from the cells of one CSV line (the inverse of :func:`format_row`).

    Raises:
        ValueError: a cell that is not what its column holds.
    """
    if len(cells) != len(COLUMNS):
        raise ValueError(f"{len(cells)} fields, expected {len(COLUMNS)}")
    row: dict[str, Any] = {}
    for column, text in zip(COLUMNS, cells, strict=True):
        if column in _INT:
            value: Any = int(text) if text else None
        elif column in _FLOAT:
            value = float(text) if text else None
        elif column == "deterministic":
            if text not in ("True", "False"):
                raise ValueError(f"deterministic is True or False, not {text!r}")
            value = text == "True"
        elif column == "EpRets":
            value = [float(v) for v in text.split()]
        elif column == "EpLens":
            value = [int(v) for v in text.split()]
        elif column in _OPTIONAL_STR:
            value = text or None
        else:
            value = text
        row[column] = value
    for column in ("episodes", "seed", "max_ep_len", "env_steps"):
        if row[column] is None:
            raise ValueError(f"{column} is empty")
    return row


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every row of a results file, in file order (an unfinished last line is left out).

    Raises:
        ResultsFileError: the file does not start with the header ``evaluate`` writes,
            or a line is not a row.
        OSError: the file cannot be read.
    """
    with open(path, "rb") as f:
        data = f.read()
    return _parse(os.fspath(path), data[: data.rfind(b"\n") + 1])


def _parse(path: str, data: bytes) -> list[dict[str, Any]]:
    lines = data.decode("utf-8").splitlines()
    if not lines:
        return []
    header = next(csv.reader([lines[0]]))
    if tuple(header) != COLUMNS:
        raise ResultsFileError(
            f"{path}: not a results file of spinfast evaluate (its header is not "
            f"{','.join(COLUMNS)}); give another --out"
        )
    rows = []
    for number, cells in enumerate(csv.reader(lines[1:]), start=2):
        try:
            rows.append(parse_row(cells))
        except ValueError as err:
            raise ResultsFileError(f"{path}, line {number}: not a row ({err})") from None
    return rows


class ResultsFile:
    """A results file opened for appending rows, locked against other evaluations.

    Opening it creates it with its header, or reads the rows already there
    (cutting off an unfinished last line). Use it as a context manager.

    Attributes:
        path: the file.
        rows: the rows that were in it when opened, in file order.

    Raises:
        ResultsFileError: not a results file, or another evaluation is writing it.
        OSError: it cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self._lock()
            self.rows = self._prepare()
        except BaseException:
            os.close(self._fd)
            raise

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResultsFileError(
                f"{self.path}: another spinfast evaluate is writing this file; wait for it, "
                "or give another --out"
            ) from None

    def _prepare(self) -> list[dict[str, Any]]:
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        whole = data.rfind(b"\n") + 1
        if whole < len(data):  # a crash mid-line: drop the unfinished line, never mix it in
            dropped = data[whole:].decode("utf-8", "replace")
            print(
                f"note: {self.path}: dropped an unfinished last line ({len(dropped)} characters: "
                "an evaluation was cut off while writing it)",
                file=sys.stderr,
            )
            os.ftruncate(self._fd, whole)
            data = data[:whole]
        if not data:
            self._write_line(",".join(COLUMNS) + "\n")
            return []
        return _parse(self.path, data)

    def _write_line(self, line: str) -> None:
        data = line.encode("utf-8")
        with _no_interrupt():  # Ctrl-C waits until the line is whole
            while data:  # one write in practice; a short write resumes where it stopped
                written = os.write(self._fd, data)
                data = data[written:]
            os.fsync(self._fd)

    def append(self, row: dict[str, Any]) -> None:
        """Write one row as one line, and make it durable (``fsync``) before returning."""
        self._write_line(format_row(row))

    def done(self) -> dict[tuple, dict[str, Any]]:
        """The rows already evaluated without an error, by key (the last one wins)."""
        return {row_key(row): row for row in self.rows if row["error"] is None}

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """SIGINT held back (delivered on exit) where the platform and thread allow it."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:
        yield
        return
    old = block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, old)


def latest(rows: Iterable[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """The last row of each key."""
    return {row_key(row): row for row in rows}
