"""Learning curves, as Spinning Up's plotter draws them: :func:`make_plots`.

The command, ``spinfast plot``, is :mod:`spinfast.cli.plot`.

This is spinup/utils/plot.py on today's seaborn (``lineplot``; ``tsplot`` is gone),
headless by default, and fed by :func:`spinfast.load_runs`, so run discovery
(logdir prefix completion, ``select``/``exclude``, one legend entry per logdir,
``exp_name`` from config.json) is the plotter's. What is drawn is the plotter's
too: each run's ``value`` column smoothed over a window of ``smooth`` epochs
(within the run), then one line per condition, the ``estimator`` (the mean by
default) over its runs at each x, with a band of one standard deviation.

Where Spinning Up crashes, this reports and goes on: a broken progress.txt is
named in a :class:`PlotNote` warning and the other runs are plotted; runs that
lack the x-axis or a ``-y`` column are left out of that figure, with a note
that, when most runs lack the x-axis, names an x they all have.

Command line (the flags of Spinning Up's plotter, plus ``--savefig`` and ``--show``)::

    $ spinfast plot data/ppo data/sac -y AverageEpRet LossV -s 10 --savefig curves.png
    wrote curves-AverageEpRet.png
    wrote curves-LossV.png
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spinfast.curves.runs import Run, load_runs

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PlotError", "PlotNote", "make_plots", "savefig_paths", "smooth_curve"]

#: The x-axis when none is given (the default of Spinning Up's ``plot`` command).
DEFAULT_XAXIS = "TotalEnvInteracts"
#: The y value when none is given: AverageTestEpRet where a run has it, else AverageEpRet.
DEFAULT_VALUE = "Performance"
#: The file written when neither ``--savefig`` nor ``--show`` is given.
DEFAULT_SAVEFIG = "curves.png"
#: Above this largest x, the x tick labels are in scientific notation (as in Spinning Up).
SCI_XTICKS_ABOVE = 5e3
#: Legends with more entries than this go beside the axes instead of over the curves.
LEGEND_INSIDE_MAX = 6
#: The x columns Spinning Up's algorithms log, in the order a note offers them in
#: place of a missing x: the plotter's default, plot_data's default, wall-clock time.
X_COLUMNS = ("TotalEnvInteracts", "Epoch", "Time")
#: A note's ``brief`` (:class:`PlotNote`) names this many runs and counts the rest.
NAMED_RUNS = 3


class PlotError(ValueError):
    """Nothing sensible can be drawn: no runs, an unknown column, a bad option.

    Example:
        >>> str(PlotError("no run has a column 'Foo'"))
        "no run has a column 'Foo'"
    """


class PlotNote(UserWarning):
    """Something was left out of the figures (a broken file, runs lacking a column).

    ``str()`` is the whole note. A note about runs lacking a column names every
    one of them; its ``brief`` names the first :data:`NAMED_RUNS` and counts the
    others (what ``spinfast plot`` prints without ``--verbose``). When most runs
    lack the x column, the note also names an x column (:data:`X_COLUMNS`) that
    all of them have.

    Example:
        >>> note = PlotNote("5 files skipped: a, b, c, d, e", brief="5 files skipped: a, ...")
        >>> str(note), note.brief
        ('5 files skipped: a, b, c, d, e', '5 files skipped: a, ...')
        >>> PlotNote("one file skipped: a").brief
        'one file skipped: a'
    """

    def __init__(self, message: str, brief: str | None = None, *, skipped: str | None = None):
        super().__init__(message)
        #: the note in a few lines' worth: at most NAMED_RUNS runs named
        self.brief = message if brief is None else brief
        #: the unreadable progress.txt, when the note is that one was skipped
        self.skipped = skipped


def smooth_curve(y: np.ndarray, smooth: int) -> np.ndarray:
    """Spinning Up's smoothing: the mean of ``y`` over a centred window of ``smooth`` points.

    ``np.convolve(y, ones(smooth), 'same') / np.convolve(ones(len(y)), ones(smooth), 'same')``,
    so the window shrinks at the ends; NaN spreads over its window, as in Spinning Up.
    Also defined when ``len(y) < smooth`` (where Spinning Up crashes). ``smooth <= 1``
    returns ``y`` unchanged.

    Example:
        >>> smooth_curve(np.array([0.0, 3.0, 6.0, 9.0]), 3).tolist()
        [1.5, 3.0, 6.0, 7.5]
    """
    if smooth <= 1 or len(y) == 0:
        return y
    window = np.ones(smooth)
    start = (smooth - 1) // 2  # where 'same' starts within 'full'
    sums = np.convolve(y, window, "full")[start : start + len(y)]
    counts = np.convolve(np.ones(len(y)), window, "full")[start : start + len(y)]
    return sums / counts


def savefig_paths(savefig: str | os.PathLike[str], values: Sequence[str]) -> list[Path]:
    """The file each figure goes to: ``savefig`` itself for one value, else one per value.

    With several values, ``curves.png`` becomes ``curves-AverageEpRet.png``,
    ``curves-LossV.png``, ... (characters unsafe in a file name become ``_``).
    A path without an extension gets ``.png``.

    Example:
        >>> [str(p) for p in savefig_paths("out/curves.svg", ["AverageEpRet", "Loss/pi"])]
        ['out/curves-AverageEpRet.svg', 'out/curves-Loss_pi.svg']
    """
    path = Path(savefig)
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    if len(values) == 1:
        return [path]
    return [
        path.with_name(f"{path.stem}-{re.sub(r'[^A-Za-z0-9._+-]', '_', v)}{path.suffix}")
        for v in values
    ]


def make_plots(
    all_logdirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    legend: Sequence[str] | None = None,
    xaxis: str | None = None,
    values: str | Sequence[str] | None = None,
    count: bool = False,
    smooth: int = 1,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    estimator: str | Callable[..., float] = "mean",
    savefig: str | os.PathLike[str] | None = None,
    *,
    font_scale: float = 1.5,
) -> list[Figure]:
    """Draw one figure of learning curves per value, as Spinning Up's ``make_plots``.

    Args:
        all_logdirs: folders, or prefixes of folders, as for :func:`spinfast.load_runs`.
        legend: one legend entry per logdir found (instead of config.json's exp_name).
        xaxis: the x column (default ``TotalEnvInteracts``).
        values: the y column(s), one figure each (default ``Performance``:
            AverageTestEpRet where a run has it, else AverageEpRet).
        count: one line per run (``Condition2``) instead of one per condition.
        smooth: smoothing window, in epochs, applied to each run (1: none).
        select: keep only logdirs containing all of these substrings.
        exclude: drop logdirs containing any of these substrings.
        estimator: what the line shows at each x over a condition's runs: the name
            of a numpy function (``"mean"``, ``"median"``, ``"max"``...) or a callable.
        savefig: also write the figures there (see :func:`savefig_paths`); PNG, SVG
            or PDF by extension.
        font_scale: seaborn's font scale.

    Returns:
        The figures (pyplot figures: ``plt.show()`` shows them, ``plt.close`` frees them).

    Raises:
        PlotError: no runs found, no run has a column asked for, a bad option.
        OSError: a file could not be written.

    A :class:`PlotNote` warning names each broken progress.txt, and one the runs
    left out of a figure because they lack its x or y column (its ``brief``
    names a few of them and counts the rest).

    Example:
        >>> import pathlib, tempfile
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for seed in (0, 1):
        ...     run = root / "ppo" / f"ppo_s{seed}"
        ...     run.mkdir(parents=True)
        ...     rows = "".join(f"{e}\\t{1000 * (e + 1)}\\t{e + seed}\\n" for e in range(3))
        ...     _ = (run / "progress.txt").write_text(
        ...         "Epoch\\tTotalEnvInteracts\\tAverageEpRet\\n" + rows)
        >>> [fig] = make_plots([root / "ppo"], savefig=root / "curves.png")
        >>> line = fig.axes[0].lines[0]
        >>> line.get_ydata().tolist()  # the mean over the two seeds
        [0.5, 1.5, 2.5]
        >>> (root / "curves.png").exists()
        True
    """
    logdirs = [all_logdirs] if isinstance(all_logdirs, str | os.PathLike) else list(all_logdirs)
    xaxis = xaxis or DEFAULT_XAXIS
    if values is None:
        values = [DEFAULT_VALUE]
    elif isinstance(values, str):
        values = [values]
    values = list(dict.fromkeys(values))  # a value asked twice is drawn once
    estimate = _estimator(estimator)
    paths = savefig_paths(savefig, values) if savefig is not None else []
    _check_formats(paths)

    try:
        runs = load_runs(*logdirs, legend=legend, select=select, exclude=exclude)
    except ValueError as err:  # a legend that does not fit the logdirs
        raise PlotError(str(err)) from None
    for path, error in runs.errors:
        warnings.warn(PlotNote(f"skipping {path}: {error.reason}", skipped=path), stacklevel=2)
    if not runs.runs:
        raise PlotError(_nothing_found(logdirs, runs.logdirs, len(runs.errors), select, exclude))

    plotted = _runs_per_value(runs.runs, xaxis, values)
    table = runs.to_pandas()
    condition = "Condition2" if count else "Condition1"
    figures = [
        _draw(table, kept, xaxis, value, condition, smooth, estimate, font_scale)
        for value, kept in plotted.items()
    ]
    for figure, path in zip(figures, paths, strict=False):
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    return figures


def _estimator(estimator: str | Callable[..., float]) -> Callable[..., float]:
    if callable(estimator):
        return estimator
    function = getattr(np, estimator, None)
    if not callable(function):
        raise PlotError(
            f"--est {estimator!r} is not a numpy function; try mean, median, max, min or std"
        )
    return function


def _check_formats(paths: list[Path]) -> None:
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    for path in paths:
        if path.suffix[1:].lower() not in formats:
            raise PlotError(
                f"cannot write {path}: {path.suffix!r} is not a figure format; "
                f"use .png, .svg or .pdf (or one of {', '.join(sorted(formats))})"
            )


def _nothing_found(
    given: Sequence[str | os.PathLike[str]],
    searched: list[str],
    broken: int,
    select: Sequence[str] | None,
    exclude: Sequence[str] | None,
) -> str:
    named = ", ".join(map(os.fspath, given))
    if not searched:
        rules = "".join(
            f" {flag} {' '.join(words)}"
            for flag, words in (("--select", select), ("--exclude", exclude))
            if words
        )
        return (
            f"no runs found: no folder matches {named}{rules} (a logdir without a trailing "
            f"'{os.sep}' is completed as a prefix of the names in its parent folder)"
        )
    where = ", ".join(searched)
    if broken:
        return f"no runs to plot: none of the {broken} progress.txt files under {where} is readable"
    return f"no runs found: no progress.txt under {where}"


def _columns(run: Run) -> list[str]:
    """The columns a run can plot: its own, and Performance where it has one."""
    extra = [DEFAULT_VALUE] if run.performance is not None else []
    return [*run.progress.columns, *extra]


def _runs_per_value(runs: list[Run], xaxis: str, values: list[str]) -> dict[str, list[Run]]:
    """The runs each value's figure shows; notes the runs left out, errors on unknown columns."""
    known: dict[str, None] = {}
    for run in runs:
        known.update(dict.fromkeys(_columns(run)))
    for column in (xaxis, *values):
        if column not in known:
            hint = _x_instead(runs, xaxis) if column == xaxis else None
            who = f"all {len(runs)} runs have" if len(runs) > 1 else "the run has"
            instead = f"; {who} {hint!r}: use -x {hint}" if hint else ""
            raise PlotError(
                f"no run has a column {column!r}{instead}; the columns are: {', '.join(known)}"
            )
    with_x = [run for run in runs if xaxis in _columns(run)]
    without_x = [run for run in runs if xaxis not in _columns(run)]
    # most runs lack the x: say which x they could all be drawn against instead
    hint = _x_instead(without_x, xaxis) if len(without_x) > len(runs) / 2 else None
    _note_left_out(without_x, xaxis, "every figure", len(with_x), hint)
    plotted: dict[str, list[Run]] = {}
    for value in values:
        kept = [run for run in with_x if value in _columns(run)]
        if not kept:
            raise PlotError(f"no run has both {xaxis!r} and {value!r}")
        lacking = [run for run in with_x if value not in _columns(run)]
        _note_left_out(lacking, value, f"the {value} figure", len(kept))
        plotted[value] = kept
    return plotted


def _x_instead(runs: list[Run], xaxis: str) -> str | None:
    """The first of :data:`X_COLUMNS` (other than ``xaxis``) that every one of ``runs`` has."""
    for column in X_COLUMNS:
        if column != xaxis and all(column in run.progress for run in runs):
            return column
    return None


def _note_left_out(
    runs: list[Run], column: str, figure: str, drawn: int, hint: str | None = None
) -> None:
    """Warn that ``runs`` lack ``column``; the note's ``brief`` names NAMED_RUNS of them."""
    if not runs:
        return
    paths = [run.path for run in runs]
    head = (
        f"{len(runs)} run(s) without a {column!r} column left out of {figure} "
        f"({drawn} of {len(runs) + drawn} runs drawn)"
    )
    if hint:
        head += f"; all {len(runs)} have {hint!r}: use -x {hint}"
    whole = f"{head}. Left out: {', '.join(paths)}"
    brief = None
    if len(paths) > NAMED_RUNS:
        more = len(paths) - NAMED_RUNS
        named = ", ".join(paths[:NAMED_RUNS])
        brief = f"{head}. Left out: {named} and {more} more (--verbose lists them all)"
    warnings.warn(PlotNote(whole, brief), stacklevel=3)


def _draw(
    table: pd.DataFrame,
    runs: list[Run],
    xaxis: str,
    value: str,
    condition: str,
    smooth: int,
    estimator: Callable[..., float],
    font_scale: float,
) -> Figure:
    import matplotlib.pyplot as plt
    import seaborn as sns

    names = {f"{run.condition}-{run.index}" for run in runs}  # Condition2: one per run
    data = table.loc[table["Condition2"].isin(names), [xaxis, value, "Condition1", "Condition2"]]
    if smooth > 1:
        by_run = data.groupby("Condition2", sort=False)[value]
        data[value] = by_run.transform(lambda y: smooth_curve(y.to_numpy(), smooth))

    with sns.axes_style("darkgrid"), sns.plotting_context(font_scale=font_scale):
        figure = plt.figure()
        ax = figure.add_subplot()
        sns.lineplot(
            data=data, x=xaxis, y=value, hue=condition, estimator=estimator, errorbar="sd", ax=ax
        )
        _place_legend(figure, ax)
        xs = data[xaxis].to_numpy()
        if np.isfinite(xs).any() and np.nanmax(xs) > SCI_XTICKS_ABOVE:
            ax.ticklabel_format(style="sci", axis="x", scilimits=(0, 0))
        figure.tight_layout(pad=0.5)
    return figure


def _place_legend(figure: Figure, ax: Axes) -> None:
    """Spinning Up's legend (``loc='best'``, no title, draggable), or beside the curves.

    With more than :data:`LEGEND_INSIDE_MAX` entries (e.g. ``--count`` on a sweep)
    it would hide the curves: it goes to the right, in a smaller font, and the
    figure is widened by its width so the axes keep their size.
    """
    import seaborn as sns

    legend = ax.get_legend()
    if legend is None:
        return
    if len(legend.get_texts()) <= LEGEND_INSIDE_MAX:
        sns.move_legend(ax, "best", title=None)
    else:
        sns.move_legend(
            ax, "upper left", bbox_to_anchor=(1.01, 1), title=None, fontsize="small", frameon=False
        )
        extent = ax.get_legend().get_window_extent(figure.canvas.get_renderer())
        figure.set_figwidth(figure.get_figwidth() + extent.width / figure.dpi)
    ax.get_legend().set_draggable(True)
