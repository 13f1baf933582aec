"""``spinfast plot``: learning curves as Spinning Up's plotter draws them, headless.

The drawing is :func:`spinfast.curves.plot.make_plots`; this module is the command:
its flags (Spinning Up's, plus ``--savefig`` and ``--show``), the check for the
``plot`` extra and for a display, and the notes on stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import warnings

from spinfast.curves.plot import (
    DEFAULT_SAVEFIG,
    DEFAULT_VALUE,
    DEFAULT_XAXIS,
    NAMED_RUNS,
    PlotError,
    PlotNote,
    make_plots,
    savefig_paths,
)

__all__ = ["main"]


def _no_window_reason() -> str | None:
    """Why ``--show`` cannot open a window here, or None when it can."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.backends import BackendFilter, backend_registry

        backend = plt.get_backend()  # resolves the default: a GUI one when there is a display
    except ImportError as err:  # e.g. MPLBACKEND=tkagg with no display
        return str(err)
    if backend.lower() in backend_registry.list_builtin(BackendFilter.INTERACTIVE):
        return None
    return f"no display found (matplotlib backend {backend!r} cannot open a window)"


def _notes(messages: list[Warning | str], verbose: bool) -> list[str]:
    """The lines for the warnings caught: without ``verbose``, each note's brief
    form, and the unreadable files past the first :data:`NAMED_RUNS` counted."""
    lines: list[str] = []
    shown = hidden = 0
    at = 0  # where the count of the files not shown goes: after the last one shown
    for message in messages:
        if not isinstance(message, PlotNote):
            lines.append(f"warning: {message}")
            continue
        if not verbose and message.skipped is not None:
            if shown == NAMED_RUNS:
                hidden += 1
                continue
            shown += 1
            at = len(lines) + 1
        lines.append(f"note: {message if verbose else message.brief}")
    if hidden:
        lines.insert(
            at,
            f"note: skipping {hidden} more unreadable progress.txt file(s) (--verbose names "
            "them all; spinfast summary lists each with its reason)",
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spinfast plot",
        description="Learning curves from Spinning Up runs, as spinup/utils/plot.py draws "
        "them: one figure per -y value, one line per logdir (or exp_name), the mean over "
        "its seeds with a band of one standard deviation. Headless: without --show the "
        f"figures are written to files (--savefig, default {DEFAULT_SAVEFIG}).",
    )
    parser.add_argument("logdir", nargs="+", help="run folders, or prefixes of them")
    parser.add_argument("--legend", "-l", nargs="*", help="one legend entry per logdir found")
    parser.add_argument("--xaxis", "-x", default=DEFAULT_XAXIS, help="x column (%(default)s)")
    parser.add_argument(
        "--value",
        "-y",
        default=[DEFAULT_VALUE],
        nargs="*",
        help="y column(s), one figure each (Performance: AverageTestEpRet, else AverageEpRet)",
    )
    parser.add_argument("--count", action="store_true", help="one line per run, not per logdir")
    parser.add_argument("--smooth", "-s", type=int, default=1, help="smoothing window (epochs)")
    parser.add_argument("--select", nargs="*", help="keep logdirs containing all of these")
    parser.add_argument("--exclude", nargs="*", help="drop logdirs containing any of these")
    parser.add_argument("--est", default="mean", help="numpy estimator over seeds (mean)")
    parser.add_argument(
        "--savefig",
        metavar="PATH",
        help="write the figures here (.png, .svg or .pdf); with several -y values, one "
        "file per value: PATH-VALUE.ext",
    )
    parser.add_argument("--show", action="store_true", help="open a window (needs a display)")
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="name every run a note leaves out and every unreadable file skipped "
        "(without it: the first few, and a count)",
    )
    args = parser.parse_args(argv)

    missing = [m for m in ("matplotlib", "seaborn", "pandas") if not importlib.util.find_spec(m)]
    if missing:
        print(
            f"spinfast plot: needs {', '.join(missing)}: pip install 'spinfast[plot]'",
            file=sys.stderr,
        )
        return 1
    import matplotlib

    if args.show:
        reason = _no_window_reason()
        if reason:
            print(f"spinfast plot: --show: {reason}; use --savefig PATH", file=sys.stderr)
            return 1
    else:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    savefig = args.savefig or (None if args.show else DEFAULT_SAVEFIG)
    values = list(dict.fromkeys(args.value or [DEFAULT_VALUE]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            figures = make_plots(
                args.logdir,
                args.legend,
                args.xaxis,
                values,
                args.count,
                smooth=args.smooth,
                select=args.select,
                exclude=args.exclude,
                estimator=args.est,
                savefig=savefig,
            )
        except (PlotError, OSError) as err:
            error = err
        else:
            error = None
    for line in _notes([w.message for w in caught], args.verbose):
        print(line, file=sys.stderr)
    if error is not None:
        print(f"spinfast plot: {error}", file=sys.stderr)
        return 1
    for path in savefig_paths(savefig, values) if savefig else []:
        print(f"wrote {path}")
    if args.show:
        plt.show()
    for figure in figures:
        plt.close(figure)
    return 0
