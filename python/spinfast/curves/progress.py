"""One progress.txt file as a table: :func:`read_progress` and :class:`Progress`.

progress.txt is what Spinning Up's ``Logger.dump_tabular`` writes: a header of
tab-separated column names, then one row per epoch. The parsing happens in Rust
(``spinfast._core``); this module is the thin, typed face of it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, final

import numpy as np

from spinfast import _core

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Progress", "read_progress"]


@final
class Progress:
    """The columns of one progress.txt, as float64 arrays.

    Every cell holds the value Python's ``float()`` gives for it; empty cells and
    pandas' missing-value markers are NaN, so :meth:`to_pandas` equals
    ``pandas.read_table(path)``.

    Attributes:
        path: the file that was read.
        columns: the column names, in file order.
        truncated: True when the file ended in a row cut mid-write or in a block of
            NUL bytes (a crash); the complete rows before it are all here.
    """

    __slots__ = ("path", "columns", "truncated", "_values", "_index")

    def __init__(self, path: str, table: _core.Table):
        self.path = path
        self.columns = table.columns
        self.truncated = table.truncated
        self._values = table.values  # shape (n_columns, n_rows): each column is contiguous
        self._index = {name: i for i, name in enumerate(self.columns)}

    def __len__(self) -> int:
        """The number of rows (epochs)."""
        return self._values.shape[1]

    def __contains__(self, column: object) -> bool:
        return column in self._index

    def __getitem__(self, column: str) -> np.ndarray:
        """The values of one column, e.g. ``p["AverageEpRet"]``."""
        try:
            return self._values[self._index[column]]
        except KeyError:
            raise KeyError(
                f"{column!r} is not a column of {self.path}; its columns are {self.columns}"
            ) from None

    def to_numpy(self) -> np.ndarray:
        """The table as a ``(rows, columns)`` float64 array (a view, no copy)."""
        return self._values.T

    def to_pandas(self) -> pd.DataFrame:
        """The table as a pandas DataFrame with the file's column names."""
        import pandas as pd

        return pd.DataFrame(self.to_numpy(), columns=list(self.columns), copy=False)

    def __repr__(self) -> str:
        cut = ", truncated" if self.truncated else ""
        return f"<Progress {self.path!r}: {len(self)} rows x {len(self.columns)} columns{cut}>"


def read_progress(path: str | os.PathLike[str]) -> Progress:
    """Read one progress.txt file.

    Raises:
        spinfast.ProgressParseError: the file is empty, has a row with more fields
            than the header, holds bytes that are not UTF-8 or a cell that is not a
            number. The error's ``.path`` and ``.line`` say where.

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "progress.txt"
        >>> _ = f.write_text("Epoch\\tAverageEpRet\\n0\\t-12.5\\n1\\t3.25\\n")
        >>> p = read_progress(f)
        >>> p.columns, len(p), p["AverageEpRet"].tolist()
        (['Epoch', 'AverageEpRet'], 2, [-12.5, 3.25])
    """
    path = os.fspath(path)
    return Progress(path, _core.read_progress(path))
