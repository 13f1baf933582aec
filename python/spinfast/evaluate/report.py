"""What is shown of the rows: the tables (one row per snapshot, one per episode), the
summary by condition, the progress bar and the plot of score against snapshot."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from spinfast.evaluate.tasks import COLUMNS, KEY_COLUMNS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "Progress",
    "episodes_frame",
    "plot_scores",
    "rows_frame",
    "summarize",
    "summary_text",
]

#: The columns of :func:`rows_frame`: a row's, without the per-episode lists.
ROW_COLUMNS = tuple(c for c in COLUMNS if c not in ("EpRets", "EpLens"))
#: The columns of :func:`episodes_frame` before ``episode``, ``ret``, ``length``:
#: the run, the snapshot and the protocol.
EPISODE_COLUMNS = ROW_COLUMNS[: ROW_COLUMNS.index(KEY_COLUMNS[-1]) + 1]


def rows_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per (run, snapshot): the columns :data:`ROW_COLUMNS`.

    ``snapshot`` and ``train_seed`` are nullable integers (``<NA>``: the unnumbered
    snapshot, or no seed known); scores are NaN and ``error`` a message where a row failed,
    and ``error`` is None where it did not.
    """
    import pandas as pd

    frame = pd.DataFrame([{c: row[c] for c in ROW_COLUMNS} for row in rows], columns=ROW_COLUMNS)
    for column in ("snapshot", "train_seed"):
        frame[column] = frame[column].astype("Int64")
    for column in ("AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet", "AverageEpLen", "seconds"):
        frame[column] = frame[column].astype(float)
    for column in ("episodes", "seed", "max_ep_len", "env_steps"):
        frame[column] = frame[column].astype("int64")
    frame["deterministic"] = frame["deterministic"].astype(bool)
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    return frame


def episodes_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per episode: the run, snapshot and protocol, then ``episode``, ``ret``, ``length``.

    Failed rows have no episodes, so they have no line here.
    """
    import pandas as pd

    records = [
        {**{c: row[c] for c in EPISODE_COLUMNS}, "episode": k, "ret": ret, "length": length}
        for row in rows
        for k, (ret, length) in enumerate(zip(row["EpRets"], row["EpLens"], strict=True))
    ]
    frame = pd.DataFrame(records, columns=[*EPISODE_COLUMNS, "episode", "ret", "length"])
    for column in ("snapshot", "train_seed"):
        frame[column] = frame[column].astype("Int64")
    frame["ret"] = frame["ret"].astype(float)
    for column in ("episode", "length"):
        frame[column] = frame[column].astype("int64")
    return frame


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Per condition and snapshot: how many runs (seeds) scored, how many failed, and the mean
    and standard deviation over those runs of their ``AverageEpRet`` (the std with ``ddof=1``,
    as the band of the plots; NaN with one run).

    The unnumbered snapshot is ``<NA>``, listed after the numbered ones.
    """
    ok = frame["error"].isna()
    groups = frame.assign(ok=ok, failed=~ok, score=frame["AverageEpRet"].where(ok)).groupby(
        ["condition", "snapshot"], dropna=False, sort=False
    )
    table = groups.agg(
        runs=("ok", "sum"),
        failed=("failed", "sum"),
        mean=("score", "mean"),
        std=("score", "std"),
        env_steps=("env_steps", "sum"),
    ).reset_index()
    table = table.sort_values(["condition", "snapshot"], na_position="last", kind="stable")
    return table.reset_index(drop=True)


def summary_text(table: pd.DataFrame) -> str:
    """The summary as the lines printed on stdout (the unnumbered snapshot is ``-``)."""
    import pandas as pd

    def text(value: Any, digits: bool = True) -> str:
        if pd.isna(value):
            return "-"
        return f"{float(value):.3f}" if digits else str(value)

    width = max([len("condition"), *(len(str(c)) for c in table["condition"])])

    def line(first: str, cells: tuple[str, ...]) -> str:
        right = (f"{c:>{w}}" for c, w in zip(cells, _WIDTHS, strict=True))
        return "  ".join([first.ljust(width), *right])

    lines = [line("condition", ("snapshot", "runs", "failed", "mean", "std"))]
    for r in table.itertuples(index=False):
        cells = (text(r.snapshot, False), str(r.runs), str(r.failed), text(r.mean), text(r.std))
        lines.append(line(str(r.condition), cells))
    return "\n".join(lines)


_WIDTHS = (8, 4, 6, 10, 10)


def plot_scores(frame: pd.DataFrame, path: str | os.PathLike[str] | None = None) -> Figure:
    """Score (``AverageEpRet``) against snapshot number, one line per condition: the mean over
    its runs with a band of one standard deviation, as ``spinfast plot`` draws learning curves.

    Failed rows are left out. Unnumbered snapshots have no number to plot: where the table
    has only those, each condition's scores are drawn as a point with the same band.

    Raises:
        ValueError: no row has a score.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    scored = frame[frame["error"].isna()]
    if scored.empty:
        raise ValueError("no row has a score to plot (every row failed)")
    numbered = scored[scored["snapshot"].notna()]
    with sns.axes_style("darkgrid"), sns.plotting_context(font_scale=1.5):
        figure = plt.figure()
        ax = figure.add_subplot()
        if numbered.empty:
            sns.pointplot(
                data=scored, x="condition", y="AverageEpRet", errorbar="sd", linestyle="none", ax=ax
            )
        else:
            data = numbered.assign(snapshot=numbered["snapshot"].astype(float))
            sns.lineplot(
                data=data, x="snapshot", y="AverageEpRet", hue="condition", errorbar="sd",
                marker="o", ax=ax,
            )  # fmt: skip
            if ax.get_legend() is not None:
                sns.move_legend(ax, "best", title=None)
        ax.set_ylabel("AverageEpRet")
        figure.tight_layout(pad=0.5)
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        figure.savefig(path)
    return figure


class Progress:
    """A one-line progress bar on stderr (tasks done, failed, env steps per second),
    drawn only when the stream is a terminal."""

    def __init__(self, total: int, skipped: int = 0, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = total > 0 and _is_terminal(self.stream)
        self.total, self.done, self.failed, self.steps = total, 0, 0, 0
        self.skipped = skipped
        self.start = time.perf_counter()

    def update(self, row: dict[str, Any]) -> None:
        self.done += 1
        self.failed += row["error"] is not None
        self.steps += row["env_steps"] or 0
        if self.enabled:
            elapsed = max(time.perf_counter() - self.start, 1e-9)
            failed = f", {self.failed} failed" if self.failed else ""
            self.stream.write(
                f"\r\x1b[Kevaluate: {self.done}/{self.total} snapshots{failed}, "
                f"{self.steps / elapsed:,.0f} env steps/s, {elapsed:.0f} s"
            )
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
