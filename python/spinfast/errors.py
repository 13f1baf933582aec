"""The exceptions spinfast raises. Each names the file it is about."""

from __future__ import annotations

__all__ = ["NativePolicyError", "ProgressParseError"]


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
