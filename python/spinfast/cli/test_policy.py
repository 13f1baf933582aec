"""``spinfast test_policy DIR``: load a trained Spinning Up agent and watch it act.

Spinning Up's ``spinup/utils/test_policy.py`` command on today's stack, for both
snapshot layouts (``simple_save/``, ``tf1_save/``), with a clear message for
every way loading can fail: one line on stderr and exit code 1. The Python API
(``load_policy``, ``run_policy``) is :mod:`spinfast.test_policy`.

Examples::

    spinfast test_policy data/ppo/ppo_s0 -n 10 -nr
    spinfast test_policy data/ppo/ppo_s0 --env CartPole-v1 --seed 0 --json
    spinfast test_policy data/ppo/ppo_s0 -n 20 --num-envs 8 --seed 0 -nr   # 8 envs in lockstep
    spinfast test_policy data/ppo/ppo_s0 -n 5 --seed 0 --video videos/    # 5 MP4 files, headless

``vars.pkl`` is a pickle: loading it (without ``--env``) runs code from the file.
Only run agents you trust.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import os.path as osp
import sys
import time
from typing import Any

from spinfast.agent.envs import (
    ENV_BACKENDS,
    check_obs_shape,
    make_env,
    restore_env,
    with_backend,
)
from spinfast.agent.load import load_agent
from spinfast.agent.policy import BACKENDS
from spinfast.agent.snapshots import Snapshot, find_snapshot
from spinfast.agent.video import (
    DEFAULT_MAX_VIDEOS,
    CannotRecord,
    Recording,
    VideoExtraMissing,
    record,
    rgb_array_env,
)
from spinfast.cli.args import add_video_arguments, at_least, check_video_arguments
from spinfast.errors import (
    EnvironmentMismatch,
    EnvironmentNotFound,
    NativePolicyError,
    SnapshotError,
)
from spinfast.test_policy import TIME_NAME, run_policy
from spinfast.writing import user_config

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spinfast test_policy",
        description="Load a trained Spinning Up agent (simple_save/, tf1_save/ or pyt_save/) "
        "and run it "
        "in its environment (unpickled from vars.pkl, which runs code from that file; "
        "or made anew with --env).",
    )
    parser.add_argument("fpath", help="the run's output folder")
    parser.add_argument(
        "--len", "-l", type=at_least(0), default=0,
        help="max episode length; 0 (default): no limit but the env's own",
    )  # fmt: skip
    parser.add_argument(
        "--episodes", "-n", type=at_least(1), default=100,
        help="number of episodes (default 100)",
    )  # fmt: skip
    parser.add_argument("--norender", "-nr", action="store_true", help="do not render")
    parser.add_argument(
        "--itr", "-i", type=at_least(-1), default=-1,
        help="snapshot number; -1 (default): the highest, else the unnumbered one",
    )  # fmt: skip
    parser.add_argument(
        "--deterministic", "-d", action="store_true",
        help="act with 'mu' (SAC's mean action); agents without one use 'pi', with a warning",
    )  # fmt: skip
    parser.add_argument(
        "--env", metavar="ID",
        help="make the env with gymnasium.make(ID) ('module:Id' too), not from vars.pkl",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=at_least(0), default=None,
        help="episode k resets with seed S+k, and the policy's sampling is seeded",
    )  # fmt: skip
    parser.add_argument(
        "--out", metavar="DIR",
        help="folder for this test's progress.txt (default: a new one under the data dir)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print episodes and summary as JSON")
    parser.add_argument(
        "--num-envs", type=at_least(1), default=1, metavar="N",
        help="step N copies of the env in lockstep, one batched policy call per step "
        "(copies: a fresh unpickle of vars.pkl each, or gymnasium.make with --env)",
    )  # fmt: skip
    parser.add_argument(
        "--env-backend", choices=ENV_BACKENDS, default="auto",
        help="step Gymnasium's classic-control envs in Rust, bit for bit (native), as they "
        "are (python), or natively where the env allows (auto, the default)",
    )  # fmt: skip
    parser.add_argument(
        "--policy", choices=BACKENDS, default="auto",
        help="run the policy natively in Rust (native), in the TF session (tf), with "
        "torch.load, which runs the file's code (torch), or natively unless a TF op has "
        "no native kernel (auto, the default)",
    )  # fmt: skip
    add_video_arguments(parser, "episodes, one file each", f"all, at most {DEFAULT_MAX_VIDEOS}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``spinfast test_policy DIR [options]``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    # TF's C++ start-up notes (CPU features, MLIR) are noise here; warnings still show
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    stdout = sys.stdout
    try:
        # with --json, stdout is the JSON alone: everything else goes to stderr
        with contextlib.redirect_stdout(sys.stderr if args.json else stdout):
            report = _test_policy(args, parser)
    except (SnapshotError, EnvironmentNotFound, EnvironmentMismatch) as err:
        print(err if isinstance(err, EnvironmentNotFound) else f"error: {err}", file=sys.stderr)
        return 1
    except NativePolicyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except VideoExtraMissing as err:
        print(f"error: --video: {err}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as err:
        extra = {"tensorflow": ("TensorFlow", "tf"), "torch": ("PyTorch", "torch")}.get(err.name)
        if extra is None:
            raise
        print(f'error: this needs {extra[0]}: pip install "spinfast[{extra[1]}]"', file=sys.stderr)
        return 1
    except OSError as err:  # e.g. --out already holds a progress.txt
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        gym_error = sys.modules.get("gymnasium.error")
        if gym_error is None or not isinstance(err, gym_error.DependencyNotInstalled):
            raise
        instead = "record no video (no --video)" if args.video else "do not render: -nr"
        print(f"error: {err}; or {instead}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2), file=stdout)
    return 0


def _test_policy(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    check_video_arguments(parser, args)  # before anything is loaded
    snapshot = find_snapshot(args.fpath, "last" if args.itr == -1 else args.itr)
    if args.out and osp.isfile(osp.join(args.out, "progress.txt")):
        raise FileExistsError(f"--out {args.out} already holds a progress.txt: give another folder")
    render = not args.norender and not args.video  # a video is rendered for files, not a window
    # the env before the agent: a run that cannot have one fails before TF is imported
    envs = [
        make_env(args.env, render) if args.env else restore_env(snapshot)
        for _ in range(args.num_envs)
    ]
    video = _record(args, snapshot, envs) if args.video else None
    envs = [with_backend(env, args.env_backend, render) for env in envs]
    get_action = load_agent(snapshot, args.deterministic, args.seed, args.policy)
    check_obs_shape(envs[0], getattr(get_action, "obs_shape", None))
    name = f"{time.strftime(TIME_NAME)}_{osp.basename(osp.abspath(args.fpath))}"
    out = args.out or user_config.new_dir(
        osp.join(user_config.DEFAULT_DATA_DIR, "test_policy", name)
    )
    with video or contextlib.nullcontext():
        result = run_policy(
            envs if args.num_envs > 1 else envs[0],
            get_action,
            args.len,
            args.episodes,
            render,
            args.seed,
            output_dir=out,
            progress=not args.json,
        )
    if video is not None and video.paths:
        count = len(video.paths)
        print(f"{count} video{'' if count == 1 else 's'} in {video.folder}")
    return {
        "snapshot": snapshot.path,
        "env": args.env or snapshot.vars_path,
        "action": getattr(get_action, "action_key", None),
        "policy": getattr(get_action, "backend", None),
        "seed": args.seed,
        "num_envs": args.num_envs,
        "env_backend": "native" if _is_native(envs[0]) else "python",
        "output_dir": result.output_dir,
        "episodes": [
            {"index": ep.index, "ret": ep.ret, "length": ep.length} for ep in result.episodes
        ],
        "summary": result.summary,
        **({"videos": video.paths if video else []} if args.video else {}),
    }


def _record(args: argparse.Namespace, snapshot: Snapshot, envs: list[Any]) -> Recording | None:
    """Make ``envs`` record the first episodes (in place); None, after one line saying
    why, when they cannot render frames: the episodes then run unrecorded."""
    try:
        for i, env in enumerate(envs):
            envs[i] = rgb_array_env(env)
    except CannotRecord as err:
        print(f"note: no video: {err}; the episodes run without it", file=sys.stderr)
        return None
    prefix = f"{osp.basename(osp.abspath(args.fpath))}-{snapshot.name}"
    count = args.video_episodes or DEFAULT_MAX_VIDEOS
    video = record(envs, args.video, prefix, args.episodes, count)
    envs[:] = video.envs
    return video


def _is_native(env: Any) -> bool:
    from spinfast.native import NativeEnv

    return isinstance(env, NativeEnv)
