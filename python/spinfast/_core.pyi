"""Type stub for ``spinfast._core``, the compiled Rust module.

Users call the documented wrappers in ``spinfast``; this stub tells readers,
IDEs and type checkers what crosses the boundary.
"""

from collections.abc import Sequence
from os import PathLike

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
