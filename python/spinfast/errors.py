"""The exceptions spinfast raises. Each names the file it is about."""

from __future__ import annotations

__all__ = [
    "EnvironmentMismatch",
    "EnvironmentNotFound",
    "NativePolicyError",
    "OutputExistsError",
    "ProgressColumnsError",
    "ProgressParseError",
    "SnapshotError",
]


class ProgressParseError(ValueError):
    """A progress.txt file that cannot be read as a table of numbers.

    Attributes:
        path: the file.
        line: the 1-based line of the file where the problem is, or None when no
            line applies (e.g. the file could not be opened).
        reason: what is wrong, without the path and line.

    Example:
        >>> from spinfast.errors import ProgressParseError
        >>> err = ProgressParseError("the file is empty", "run/progress.txt", 1)
        >>> str(err)
        'run/progress.txt, line 1: the file is empty'
        >>> isinstance(err, ValueError)
        True
    """

    def __init__(self, reason: str, path: str, line: int | None = None) -> None:
        where = path if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.path = path
        self.line = line

    def __reduce__(self):  # keep the attributes through pickling (multiprocessing)
        return (type(self), (self.reason, self.path, self.line))


class NativePolicyError(ValueError):
    """A policy graph that the native evaluator cannot run.

    ``load_policy(..., backend="auto")`` runs such a policy with the TF session
    instead; ``backend="native"`` raises this.

    Attributes:
        ops: the TensorFlow op types that have no native kernel (empty when the
            reason is something else, e.g. the action needs another placeholder).

    Example:
        >>> from spinfast.errors import NativePolicyError
        >>> err = NativePolicyError("no native kernel for op Cast (node 'pi/Cast')", ["Cast"])
        >>> err.ops
        ['Cast']
    """

    def __init__(self, message: str, ops: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.ops = list(ops)

    def __reduce__(self):
        return (type(self), (str(self), self.ops))


class SnapshotError(ValueError):
    """A saved agent that cannot be found or loaded: a missing or incomplete snapshot.

    Attributes:
        path: the output folder, snapshot folder or file the problem is about.
        reason: what is wrong, without the path.

    Example:
        >>> from spinfast.errors import SnapshotError
        >>> str(SnapshotError("has no saved_model.pb", "data/ppo_s0/simple_save"))
        'data/ppo_s0/simple_save: has no saved_model.pb'
    """

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason
        self.path = path

    def __reduce__(self):
        return (type(self), (self.reason, self.path))


class EnvironmentNotFound(AssertionError):
    """The environment a saved agent ran in cannot be restored, so the agent cannot run.

    A subclass of ``AssertionError``, because that is what Spinning Up's
    ``run_policy`` raised here: old ``except AssertionError`` code still catches it.
    The message starts with Spinning Up's ``Environment not found!``, says why,
    and ends with the fix.

    Attributes:
        cause: why the environment is not there, without the fix.

    Example:
        >>> from spinfast.errors import EnvironmentNotFound
        >>> err = EnvironmentNotFound("run/vars.pkl does not exist", fix="Use --env ID.")
        >>> str(err)
        'Environment not found! run/vars.pkl does not exist. Use --env ID.'
        >>> isinstance(err, AssertionError)
        True
    """

    def __init__(self, cause: str, fix: str) -> None:
        end = "" if cause.endswith((".", "?", "!")) else "."
        super().__init__(f"Environment not found! {cause}{end} {fix}")
        self.cause = cause
        self.fix = fix

    def __reduce__(self):
        return (type(self), (self.cause, self.fix))


class EnvironmentMismatch(ValueError):
    """An environment an agent cannot run in: its ``reset``/``step`` are neither
    Gymnasium's nor old gym's, it cannot be seeded when a seed is asked for, or
    its observations are not the shape the agent takes.

    Example:
        >>> from spinfast.errors import EnvironmentMismatch
        >>> isinstance(EnvironmentMismatch("MyEnv.step returned 3 values"), ValueError)
        True
    """


class OutputExistsError(FileExistsError):
    """A logger was asked to write a progress file that already holds a run.

    Spinning Up's Logger silently overwrote it; spinfast's refuses before
    writing anything, unless told to append with ``resume=True``.

    Attributes:
        path: the existing file.

    Example:
        >>> from spinfast.errors import OutputExistsError
        >>> err = OutputExistsError("data/ppo/ppo_s0/progress.txt")
        >>> str(err).split(":")[0]
        'data/ppo/ppo_s0/progress.txt'
        >>> isinstance(err, FileExistsError)
        True
    """

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path}: already holds a run; pass resume=True to append to it, "
            "or log to another output_dir"
        )
        self.path = path

    def __reduce__(self):
        return (type(self), (self.path,))


class ProgressColumnsError(ValueError):
    """Rows about to be appended to a progress file whose header has other columns.

    Attributes:
        path: the progress file.
        missing: columns of the file that the new rows lack.
        extra: columns of the new rows that the file lacks.

    Example:
        >>> from spinfast.errors import ProgressColumnsError
        >>> err = ProgressColumnsError("run/progress.txt", ["Epoch"], ["Time"])
        >>> str(err).split(": ")[1]
        "cannot append rows with other columns (missing ['Epoch'], extra ['Time'])"
    """

    def __init__(self, path: str, missing: list[str], extra: list[str]) -> None:
        super().__init__(
            f"{path}: cannot append rows with other columns (missing {missing}, extra {extra})"
        )
        self.path = path
        self.missing = missing
        self.extra = extra

    def __reduce__(self):
        return (type(self), (self.path, self.missing, self.extra))
