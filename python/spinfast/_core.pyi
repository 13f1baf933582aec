"""Type stub for ``spinfast._core``, the compiled Rust module.

Users call the documented wrappers in ``spinfast``; this stub tells readers,
IDEs and type checkers what crosses the boundary.
"""

from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np
import numpy.typing as npt

from spinfast.errors import ProgressParseError

_Table = tuple[list[str], npt.NDArray[np.float64], bool]

def read_progress(path: str | PathLike[str]) -> _Table:
    """Read and parse one progress.txt with the GIL released.

    Arguments:
        path: the file.

    Returns:
        ``(columns, values, truncated)``: the column names in file order; a
        ``(n_columns, n_rows)`` float64 array (each column contiguous); and
        whether the file ended in a row cut mid-write or a block of NUL bytes.

    Raises:
        ProgressParseError: the file is missing, empty, not UTF-8, has a row with
            more fields than the header, or a cell that is not a number.
    """

def read_run_folders(
    folders: Sequence[str | PathLike[str]], threads: int | None = None
) -> list[tuple[_Table | ProgressParseError, str | None]]:
    """Read ``progress.txt`` and ``config.json`` of many run folders in parallel.

    The GIL is released while rayon reads and parses on ``threads`` threads
    (default: one per core). A panic while parsing one file becomes that file's
    error.

    Arguments:
        folders: run folders, each expected to hold a progress.txt.
        threads: number of threads, at least 1; None for rayon's default pool.

    Returns:
        One ``(table_or_error, config_text)`` per folder, in input order: the
        table as from :func:`read_progress`, or the ``ProgressParseError`` it
        would have raised (returned, not raised); and the text of config.json,
        or None when it is absent or not UTF-8.

    Raises:
        ValueError: ``threads`` is 0.
    """

# Native policy inference (rust/src/policy/, wrapped in rust/src/python/policy.rs).

_AttrValue = bool | int | float | str | list[int]
_Node = tuple[str, str, list[tuple[str, int]], dict[str, _AttrValue], npt.NDArray[Any] | None]

def native_ops() -> list[str]:
    """The TensorFlow op types the native evaluator runs."""

class NativePolicy:
    """One action output of a policy graph, compiled into Rust kernels.

    Subclassed by :class:`spinfast.native_policy.NativePolicy`, which builds it
    from a :class:`spinfast.policy_graph.PolicyGraph`. For each observation shape a plan
    (shapes, buffers, folded constants) is laid out on first use and kept (up to 8);
    calls then allocate nothing in the evaluator. The GIL is held while it runs.

    Arguments:
        nodes: ``(name, op, inputs, attrs, value)`` per node, inputs as
            ``(node, output index)``; ``value`` a float32/int32/int64 array for
            constants and variables.
        input: the observation placeholder's node name.
        output: the action node's name (its first output).
        seed: seeds the ChaCha8 generator used by RandomStandardNormal and Multinomial.

    Raises:
        NativePolicyError: an op without a kernel (``ops`` lists them all), an
            unsupported dtype, or a graph that does not compute the output from
            the input alone.
    """

    def __init__(self, nodes: list[_Node], input: str, output: str, seed: int) -> None: ...
    def seed(self, seed: int) -> None:
        """Restart the sampling generator."""
    def prepare(self, shape: Sequence[int]) -> None:
        """Lay out the plan for observations of ``shape`` (batch first) now."""
    @property
    def input_shape(self) -> list[int | None] | None:
        """The placeholder's declared shape (None: any size), or None if undeclared."""
    def act(self, obs: npt.ArrayLike) -> Any:
        """One observation in, one action out: row 0 of the batch of one, as a NumPy
        array, or a NumPy scalar for a scalar action (e.g. np.int64 for a category).

        Raises:
            ValueError: ``obs`` does not fit the placeholder's shape.
        """
    def __call__(self, obs: npt.ArrayLike) -> Any:
        """The same as :meth:`act`."""
    def act_batch(self, obs: npt.ArrayLike) -> npt.NDArray[Any]:
        """``(N, *obs_shape)`` observations in, the N actions out.

        Raises:
            ValueError: ``obs`` does not fit the placeholder's shape.
        """
