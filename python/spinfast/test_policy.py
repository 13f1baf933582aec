"""Load a trained Spinning Up agent and watch it act: ``spinfast test_policy DIR``.

Spinning Up's ``spinup/utils/test_policy.py`` on today's stack (TensorFlow 2 in
compat mode, Gymnasium, NumPy 2), for both snapshot layouts (``simple_save/``,
``tf1_save/``), and with a clear message for every way loading can fail.

From the shell::

    spinfast test_policy data/ppo/ppo_s0 -n 10 -nr      # or: python -m spinfast.run test_policy
    spinfast test_policy data/ppo/ppo_s0 --env CartPole-v1 --seed 0 --json
    spinfast test_policy data/ppo/ppo_s0 -n 20 --num-envs 8 --seed 0 -nr   # 8 envs in lockstep

From Python, the seed page's recipe as written::

    from spinfast.test_policy import load_policy, run_policy
    env, get_action = load_policy("data/ppo/ppo_s0")
    if env is None:  # it could not be restored; a warning said why
        env = gymnasium.make("CartPole-v1")
    run_policy(env, get_action, num_episodes=10, render=False, seed=0)

``vars.pkl`` is a pickle: loading it (``load_policy``, or ``test_policy`` without
``--env``) runs code from the file. Only load agents you trust.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import os.path as osp
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, final

from spinfast.engines import ENGINES, Engine, check_engine, run_engine
from spinfast.envs import make_env, restore_env
from spinfast.errors import (
    EnvironmentMismatch,
    EnvironmentNotFound,
    NativePolicyError,
    SnapshotError,
)
from spinfast.native_policy import BACKENDS, Backend, check_backend
from spinfast.rollout import Episode
from spinfast.snapshots import Snapshot, find_snapshot

__all__ = [
    "PolicyRun",
    "load_policy",
    "load_policy_and_env",
    "main",
    "restore_tf_graph",
    "run_policy",
]


def restore_tf_graph(sess: Any, fpath: str | os.PathLike[str]) -> dict:
    """Load a snapshot folder into ``sess`` and return its tensors by name
    (``x``, ``pi``, ``v``, ``q``, ... as given to ``setup_tf_saver``).

    See :func:`spinfast.tf_model.restore_tf_graph`. Example, reading a value function::

        import numpy as np, tensorflow as tf
        sess = tf.compat.v1.Session(graph=tf.Graph())
        model = restore_tf_graph(sess, "data/ppo/ppo_s0/simple_save")
        obs = np.zeros(model["x"].shape[1], np.float32)
        value = sess.run(model["v"], feed_dict={model["x"]: obs[None]})[0]
    """
    from spinfast.tf_model import restore_tf_graph as restore

    return restore(sess, fpath)


def load_policy(
    fpath: str | os.PathLike[str],
    itr: int | Literal["last"] = "last",
    deterministic: bool = False,
    *,
    seed: int | None = None,
    backend: Backend = "auto",
) -> tuple[Any, Callable[[Any], Any]]:
    """Load a saved agent and, when it can be restored, its environment.

    Arguments:
        fpath: the run's output folder.
        itr: the snapshot number, or ``"last"``: the highest number, else the
            unnumbered snapshot.
        deterministic: act with ``mu`` (SAC's mean action). An agent with no
            ``mu`` acts with ``pi``, after a warning.
        seed: seed the policy's sampling (``pi``), so that it repeats.
        backend: ``"auto"`` (default): the policy runs natively in Rust
            (:class:`spinfast.native_policy.NativePolicy`, no TF session per step)
            when every op from ``x`` to the action has a native kernel, else in the
            TF session, after one line on stderr naming the ops; ``"native"``:
            natively or not at all; ``"tf"``: in the TF session.

    Returns:
        ``(env, get_action)``: the env unpickled from ``vars[itr].pkl``, or None
        (with a warning saying why) when it cannot be restored; and a function
        from one observation to one action (its ``batch`` method takes a batch).

    Raises:
        SnapshotError: no such folder or snapshot, or an incomplete or unreadable one.
        NativePolicyError: ``backend="native"`` and the policy cannot run natively.
        ValueError: an unknown backend.

    Example::

        env, get_action = load_policy("data/sac/sac_s0", itr=10, deterministic=True)
        action = get_action(env.reset(seed=0)[0])
    """
    check_backend(backend)
    snapshot = find_snapshot(fpath, itr)
    get_action = _get_action(snapshot, deterministic, seed, backend)
    try:
        env = restore_env(snapshot)
    except EnvironmentNotFound as err:
        print(f"Warning: {err}", file=sys.stderr)
        env = None
    return env, get_action


#: The later Spinning Up releases' name for :func:`load_policy` (same arguments, same result).
load_policy_and_env = load_policy


def _get_action(
    snapshot: Snapshot, deterministic: bool, seed: int | None, backend: Backend = "auto"
) -> Any:
    """The one place an agent's ``get_action`` is built."""
    from spinfast.tf_model import TFPolicy

    print(f"Loading from {snapshot.path}.", file=sys.stderr)
    policy = TFPolicy(snapshot.path, deterministic=deterministic, seed=seed)
    if policy.action_key == "mu":
        print("Using deterministic action op.", file=sys.stderr)
    elif deterministic:
        print(
            "Warning: this agent has no deterministic action op 'mu' (only SAC's "
            "has one): using its default action op 'pi' (already deterministic for "
            "DDPG and TD3; sampled for VPG, PPO and TRPO).",
            file=sys.stderr,
        )
    else:
        print("Using default action op.", file=sys.stderr)
    if backend == "tf":
        return policy
    from spinfast.native_policy import from_tf_policy

    try:
        native = from_tf_policy(policy, seed)
    except NativePolicyError as err:
        if backend == "native":
            raise
        print(f"Running the policy in the TF session: {err}", file=sys.stderr)
        return policy
    policy.session.close()  # the weights are in the native policy now
    return native


@final
@dataclass(frozen=True, slots=True)
class PolicyRun:
    """What :func:`run_policy` did.

    Attributes:
        episodes: the episodes, in order.
        summary: the row logged to progress.txt (``AverageEpRet``, ``StdEpRet``,
            ``MaxEpRet``, ``MinEpRet``, ``EpLen``), as the numbers written there.
        output_dir: the folder holding that progress.txt.
    """

    episodes: list[Episode]
    summary: dict[str, float]
    output_dir: str


def run_policy(
    env: Any,
    get_action: Callable[[Any], Any],
    max_ep_len: int | None = None,
    num_episodes: int = 100,
    render: bool = True,
    seed: int | None = None,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    engine: Engine = "rust",
    progress: bool = False,
) -> PolicyRun:
    """Run an agent for some episodes, printing and logging each, then a summary.

    Prints ``Logging data to <output_dir>/progress.txt``, then one line per
    episode, ``Episode 0 \\t EpRet 500.000 \\t EpLen 500``, then the table of
    EpRet's average, std, max, min and EpLen's average, which is also written
    to progress.txt.

    Arguments:
        env: a Gymnasium env (``reset(seed=)`` gives ``(obs, info)``, ``step`` a
            5-tuple) or an old gym one (``reset()`` gives obs, ``step`` a 4-tuple);
            or a list of envs, stepped in lockstep (see :mod:`spinfast.engines`:
            each env's share of the episodes is fixed up front, and episodes are
            numbered round by round).
        get_action: one observation in, one action out (from :func:`load_policy`).
            With a list of envs, its ``batch`` method (load_policy's agents have
            one) gets the stacked observations, one call per step.
        max_ep_len: end each episode after this many steps; None or 0: no limit
            but the env's own.
        num_episodes: how many episodes.
        render: call ``env.render()`` before each step.
        seed: episode ``k`` resets with seed ``seed + k``.
        output_dir: where progress.txt goes; default a new folder under
            ``spinfast.user_config.DEFAULT_DATA_DIR``/test_policy.
        engine: ``"rust"`` (the loop in Rust) or ``"python"`` (the reference
            loop): the same episodes for the same seed.
        progress: a progress bar on stderr (episodes done, steps per second),
            drawn only when stderr is a terminal.

    Raises:
        EnvironmentNotFound: ``env`` is None (an ``AssertionError``, as in Spinning Up).

    Example::

        _, get_action = load_policy("data/ppo/ppo_s0")
        result = run_policy(gymnasium.make("CartPole-v1"), get_action, render=False, seed=0)
        envs = [gymnasium.make("CartPole-v1") for _ in range(8)]  # 8 in lockstep
        result = run_policy(envs, get_action, num_episodes=20, render=False, seed=0)
        result.summary["AverageEpRet"]
    """
    if env is None:
        raise EnvironmentNotFound(
            "run_policy was given env=None: the environment was not restored with the agent",
            "Make it anew and pass it: _, get_action = load_policy(fpath); "
            "run_policy(gymnasium.make(ENV_ID), get_action)",
        )
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be at least 1, not {num_episodes}")
    check_engine(engine)
    from spinfast.logx import EpochLogger

    logger = EpochLogger(output_dir=os.fspath(output_dir or _new_output_dir()))

    def report(episode: Episode) -> None:
        logger.store(EpRet=episode.ret, EpLen=episode.length)
        print(f"Episode {episode.index} \t EpRet {episode.ret:.3f} \t EpLen {episode.length}")

    try:
        episodes = run_engine(
            env,
            get_action,
            num_episodes,
            max_ep_len,
            render,
            seed,
            report,
            engine=engine,
            progress=progress,
        )
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("EpLen", average_only=True)
        # the numbers exactly as dump_tabular writes them to progress.txt
        summary = {key: float(str(value)) for key, value in logger.log_current_row.items()}
        logger.dump_tabular()
    finally:
        logger.close()
    return PolicyRun(episodes, summary, logger.output_dir)


def _new_output_dir(fpath: str | None = None) -> str:
    """A folder that does not exist yet under ``DEFAULT_DATA_DIR/test_policy``,
    named by the time (and the run folder tested)."""
    from spinfast.user_config import DEFAULT_DATA_DIR

    name = time.strftime("%Y-%m-%d_%H-%M-%S")
    if fpath is not None:
        name += "_" + osp.basename(osp.abspath(fpath))
    base = osp.join(DEFAULT_DATA_DIR, "test_policy", name)
    path, n = base, 0
    while osp.exists(path):
        n += 1
        path = f"{base}_{n}"
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spinfast test_policy",
        description="Load a trained Spinning Up agent (simple_save/ or tf1_save/) and run it "
        "in its environment (unpickled from vars.pkl, which runs code from that file; "
        "or made anew with --env).",
    )
    parser.add_argument("fpath", help="the run's output folder")
    parser.add_argument(
        "--len", "-l", type=_at_least(0), default=0,
        help="max episode length; 0 (default): no limit but the env's own",
    )  # fmt: skip
    parser.add_argument(
        "--episodes", "-n", type=_at_least(1), default=100,
        help="number of episodes (default 100)",
    )  # fmt: skip
    parser.add_argument("--norender", "-nr", action="store_true", help="do not render")
    parser.add_argument(
        "--itr", "-i", type=_at_least(-1), default=-1,
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
        "--seed", type=_at_least(0), default=None,
        help="episode k resets with seed S+k, and the policy's sampling is seeded",
    )  # fmt: skip
    parser.add_argument(
        "--out", metavar="DIR",
        help="folder for this test's progress.txt (default: a new one under the data dir)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print episodes and summary as JSON")
    parser.add_argument(
        "--engine", choices=ENGINES, default="rust",
        help="the episode loop: rust (default) or python (the reference); same episodes",
    )  # fmt: skip
    parser.add_argument(
        "--num-envs", type=_at_least(1), default=1, metavar="N",
        help="step N copies of the env in lockstep, one batched policy call per step "
        "(copies: a fresh unpickle of vars.pkl each, or gymnasium.make with --env)",
    )  # fmt: skip
    parser.add_argument(
        "--policy", choices=BACKENDS, default="auto",
        help="run the policy natively in Rust (native), in the TF session (tf), or "
        "natively unless an op has no native kernel (auto, the default)",
    )  # fmt: skip
    return parser


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, not {value}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    """``spinfast test_policy DIR [options]``; returns the exit code."""
    args = _parser().parse_args(argv)
    # TF's C++ start-up notes (CPU features, MLIR) are noise here; warnings still show
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    stdout = sys.stdout
    try:
        # with --json, stdout is the JSON alone: everything else goes to stderr
        with contextlib.redirect_stdout(sys.stderr if args.json else stdout):
            report = _test_policy(args)
    except (SnapshotError, EnvironmentNotFound, EnvironmentMismatch) as err:
        print(err if isinstance(err, EnvironmentNotFound) else f"error: {err}", file=sys.stderr)
        return 1
    except NativePolicyError as err:
        print(f"error: {err} (--policy tf runs it in the TF session)", file=sys.stderr)
        return 1
    except ModuleNotFoundError as err:
        if err.name not in ("tensorflow", "gymnasium", "joblib"):
            raise
        print(f"error: test_policy needs {err.name}: pip install 'spinfast[tf]'", file=sys.stderr)
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
        print(f"error: {err}; or do not render: -nr", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2), file=stdout)
    return 0


def _test_policy(args: argparse.Namespace) -> dict[str, Any]:
    snapshot = find_snapshot(args.fpath, "last" if args.itr == -1 else args.itr)
    out = args.out or _new_output_dir(args.fpath)
    if osp.isfile(osp.join(out, "progress.txt")):
        raise FileExistsError(f"--out {out} already holds a progress.txt: give another folder")
    render = not args.norender
    # the env before the agent: a run that cannot have one fails before TF is imported
    envs = [
        make_env(args.env, render) if args.env else restore_env(snapshot)
        for _ in range(args.num_envs)
    ]
    get_action = _get_action(snapshot, args.deterministic, args.seed, args.policy)
    _check_obs_shape(envs[0], getattr(get_action, "obs_shape", None))
    result = run_policy(
        envs if args.num_envs > 1 else envs[0],
        get_action,
        args.len,
        args.episodes,
        render,
        args.seed,
        output_dir=out,
        engine=args.engine,
        progress=not args.json,
    )
    return {
        "snapshot": snapshot.path,
        "env": args.env or snapshot.vars_path,
        "action": getattr(get_action, "action_key", None),
        "policy": getattr(get_action, "backend", None),
        "seed": args.seed,
        "engine": args.engine,
        "num_envs": args.num_envs,
        "output_dir": result.output_dir,
        "episodes": [asdict(ep) for ep in result.episodes],
        "summary": result.summary,
    }


def _check_obs_shape(env: Any, obs_shape: tuple | None) -> None:
    space = getattr(env, "observation_space", None)
    env_shape = getattr(space, "shape", None)
    if obs_shape is None or env_shape is None or None in obs_shape:
        return
    if tuple(env_shape) != tuple(obs_shape):
        raise EnvironmentMismatch(
            f"the agent takes observations of shape {tuple(obs_shape)}, and the environment "
            f"{env} gives shape {tuple(env_shape)}"
        )
