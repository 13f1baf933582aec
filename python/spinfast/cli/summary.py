"""``spinfast summary LOGDIR...``: one line per run, then the files that could not be read.

Example::

    $ spinfast summary data/ppo
    experiment  seed  epochs  last_perf  best_perf  path
    ppo            0      50    498.120    500.000  data/ppo/ppo_s0
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from spinfast.curves.runs import Run, load_runs


def _row(run: Run) -> dict:
    perf = run.performance if run.performance is not None else np.empty(0)
    finite = perf[~np.isnan(perf)]
    last = float(perf[-1]) if len(perf) else math.nan
    return {
        "experiment": run.condition,
        "seed": run.seed,
        "epochs": len(run.progress),
        "last_performance": None if math.isnan(last) else last,
        "best_performance": float(finite.max()) if len(finite) else None,
        "truncated": run.progress.truncated,
        "path": run.path,
    }


def _text(value: object, width: int, right: bool = True) -> str:
    if value is None:
        value = "-"
    elif isinstance(value, float):
        value = f"{value:.3f}"
    return f"{value!s:>{width}}" if right else f"{value!s:<{width}}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spinfast summary",
        description="One line per run found under the logdirs (as Spinning Up's plotter "
        "finds them): experiment, seed, epochs, last and best performance "
        "(AverageTestEpRet, else AverageEpRet). Then each file that could not be read.",
    )
    parser.add_argument("logdir", nargs="+", help="run folders, or prefixes of them")
    parser.add_argument("--select", nargs="*", help="keep logdirs containing all of these")
    parser.add_argument("--exclude", nargs="*", help="drop logdirs containing any of these")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    runs = load_runs(*args.logdir, select=args.select, exclude=args.exclude)
    rows = [_row(run) for run in runs]
    errors = [{"path": path, "line": err.line, "reason": err.reason} for path, err in runs.errors]

    if args.json:
        print(json.dumps({"runs": rows, "errors": errors}, indent=2))
    else:
        width = max([len("experiment"), *(len(str(r["experiment"])) for r in rows)])
        if rows:  # a header over no rows, before the errors, reads as an empty result
            print(f"{'experiment':<{width}}  seed  epochs  last_perf  best_perf  path")
        for r in rows:
            cut = "  (truncated)" if r["truncated"] else ""
            print(
                f"{_text(r['experiment'], width, right=False)}  {_text(r['seed'], 4)}"
                f"  {_text(r['epochs'], 6)}  {_text(r['last_performance'], 9)}"
                f"  {_text(r['best_performance'], 9)}  {r['path']}{cut}"
            )
        for _, err in runs.errors:
            print(f"error: {err}")
        if not rows and not errors:
            print(f"no progress.txt found under {' '.join(args.logdir)}", file=sys.stderr)
    return 0 if rows else 1
