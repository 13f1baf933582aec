"""``spinfast evaluate LOGDIR...``: score every run and snapshot of a sweep under one protocol.

Each (run, snapshot) found is evaluated as ``spinfast test_policy RUN -i N -n
EPISODES --seed S -nr`` would, in a pool of local worker processes (one per
core by default) or on a Ray cluster (``--ray``); one row each, appended to
``--out`` as it finishes, then a summary by condition and snapshot on stdout.
The Python API is :func:`spinfast.evaluate`.

Examples::

    spinfast evaluate data/ppo data/sac -n 10 --snapshots all --out scores.csv
    spinfast evaluate data/ --select cartpole -d --seed 0 --json
    spinfast evaluate data/ --out scores.csv --plot scores.png --ray auto

Exit code: 0 when every row was scored, 1 when a row failed or no run was found
(or a bad results file), 130 on Ctrl-C (every finished row is kept in ``--out``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any

from spinfast.cli.args import add_video_arguments, at_least, check_video_arguments

__all__ = ["main"]


def _snapshots(text: str) -> Any:
    from spinfast.evaluate.tasks import parse_snapshots

    try:
        return parse_snapshots(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spinfast evaluate",
        description="Evaluate every run (a folder with a progress.txt, found as 'spinfast "
        "summary' finds them) at each snapshot asked for, under one protocol: the episodes "
        "'spinfast test_policy RUN -i N -n EPISODES --seed S -nr' runs. One row per (run, "
        "snapshot), then a summary by condition and snapshot. Restoring an env from "
        "vars.pkl runs code from that file: only evaluate agents you trust.",
    )
    parser.add_argument("logdir", nargs="+", help="run folders, or prefixes of them")
    parser.add_argument(
        "--episodes", "-n", type=at_least(1), default=100,
        help="episodes per snapshot (default 100)",
    )  # fmt: skip
    parser.add_argument(
        "--snapshots", type=_snapshots, default="last", metavar="last|all|N,N,...",
        help="which snapshots: the last (default: the highest number, else the unnumbered "
        "one), all, or these numbers",
    )  # fmt: skip
    parser.add_argument(
        "--deterministic", "-d", action="store_true",
        help="act with 'mu' (SAC's mean action); agents without one use 'pi'",
    )  # fmt: skip
    parser.add_argument(
        "--len", "-l", type=at_least(0), default=0, metavar="L",
        help="max episode length; 0 (default): no limit but the env's own",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=at_least(0), default=0,
        help="episode k resets with seed S+k; the policy's sampling is seeded (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--env", metavar="ID",
        help="make every env with gymnasium.make(ID) ('module:Id' too), not from vars.pkl",
    )  # fmt: skip
    parser.add_argument("--select", nargs="*", help="keep logdirs containing all of these")
    parser.add_argument("--exclude", nargs="*", help="drop logdirs containing any of these")
    parser.add_argument(
        "--out", metavar="CSV",
        help="append each row to this CSV as it finishes; a rerun skips the rows already "
        "there under the same protocol",
    )  # fmt: skip
    parser.add_argument(
        "--per-episode", metavar="CSV",
        help="also write one row per episode (run, snapshot, protocol, episode, ret, length)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="rows and summary as JSON on stdout")
    parser.add_argument(
        "--plot", metavar="PNG",
        help="draw score against snapshot per condition (mean over seeds, band of one std)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", "-w", type=at_least(1), default=None, metavar="N",
        help="local worker processes (default: one per core)",
    )  # fmt: skip
    parser.add_argument(
        "--ray", metavar="auto|ADDRESS",
        help="run one Ray task per (run, snapshot) on this Ray cluster (pip install "
        "'spinfast[ray]'); the run folders must be at the same paths on every node",
    )  # fmt: skip
    parser.add_argument(
        "--retries", type=at_least(0), default=1,
        help="times a task is retried when its worker process dies (default 1)",
    )  # fmt: skip
    add_video_arguments(parser, "each row's first episodes (the rows are the same)", "10")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``spinfast evaluate LOGDIR... [options]``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    from spinfast.agent.video import VideoExtraMissing

    try:
        check_video_arguments(parser, args)
    except VideoExtraMissing as err:
        print(f"error: --video: {err}", file=sys.stderr)
        return 1
    if args.plot:
        missing = [m for m in ("matplotlib", "seaborn") if not _has(m)]
        if missing:
            print(f"error: --plot needs {', '.join(missing)}: pip install 'spinfast[plot]'",
                  file=sys.stderr)  # fmt: skip
            return 1
    if not _has("pandas"):
        print("error: evaluate needs pandas: pip install 'spinfast[plot]'", file=sys.stderr)
        return 1
    from spinfast.evaluate import NoRunsFound, ResultsFileError, evaluate_rows
    from spinfast.evaluate.ray_backend import RayUnavailable
    from spinfast.evaluate.report import episodes_frame, rows_frame, summarize, summary_text

    options = dict(
        episodes=args.episodes,
        snapshots=args.snapshots,
        deterministic=args.deterministic,
        max_ep_len=args.len,
        seed=args.seed,
        env=args.env,
        select=args.select,
        exclude=args.exclude,
        out=args.out,
        workers=args.workers,
        ray=args.ray,
        retries=args.retries,
        video=args.video,
        video_episodes=args.video_episodes,
    )
    try:
        rows = evaluate_rows(*args.logdir, **options, progress=not args.json)
    except NoRunsFound as err:
        print(f"spinfast evaluate: {err}", file=sys.stderr)
        return 1
    except (ResultsFileError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except RayUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        kept = f"; every finished row is in {args.out}" if args.out else ""
        print(f"interrupted{kept}", file=sys.stderr)
        return 130

    frame = rows_frame(rows)
    summary = summarize(frame)
    failed = frame[frame["error"].notna()]
    if args.per_episode:
        _write_csv(episodes_frame(rows), args.per_episode)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from spinfast.evaluate.report import plot_scores

        try:
            plt.close(plot_scores(frame, args.plot))
        except ValueError as err:
            print(f"note: --plot: {err}", file=sys.stderr)
    if args.json:
        records = [
            record | {"EpRets": row["EpRets"], "EpLens": row["EpLens"]}
            for record, row in zip(_records(frame), rows, strict=True)
        ]
        print(json.dumps({"rows": records, "summary": _records(summary)}, indent=2))
    else:
        print(summary_text(summary))
        if args.plot and os.path.exists(args.plot):
            print(f"wrote {args.plot}")
    for row in failed.itertuples(index=False):
        snapshot = "unnumbered" if row.snapshot is None or _na(row.snapshot) else row.snapshot
        print(f"error: {row.path} snapshot {snapshot}: {row.error}", file=sys.stderr)
    if len(failed):
        print(f"{len(failed)} of {len(frame)} rows failed", file=sys.stderr)
    return 1 if len(failed) else 0


def _write_csv(frame: Any, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    frame.to_csv(path, index=False)


def _na(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def _records(frame: Any) -> list[dict[str, Any]]:
    def plain(value: Any) -> Any:
        if value is None or _na(value):
            return None
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    return [{k: plain(v) for k, v in record.items()} for record in frame.to_dict("records")]


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
