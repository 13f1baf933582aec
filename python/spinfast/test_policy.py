"""Load a trained Spinning Up agent and watch it act: ``spinfast test_policy DIR``.

Spinning Up's ``spinup/utils/test_policy.py`` on today's stack (TensorFlow 2 in
compat mode, Gymnasium, NumPy 2), for both snapshot layouts (``simple_save/``,
``tf1_save/``), and with a clear message for every way loading can fail.

This module is Spinning Up's API face (``spinup.utils.test_policy``) and nothing
else; the command is :mod:`spinfast.cli.test_policy` (``spinfast test_policy DIR``).

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

import os
import os.path as osp
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, final

from spinfast.agent.envs import restore_env, with_backend
from spinfast.agent.load import load_agent
from spinfast.agent.policy import Backend
from spinfast.agent.rollout import Episode, run_episodes
from spinfast.agent.snapshots import find_snapshot
from spinfast.errors import EnvironmentNotFound

__all__ = [
    "PolicyRun",
    "load_policy",
    "load_policy_and_env",
    "restore_tf_graph",
    "run_policy",
]


def restore_tf_graph(sess: Any, fpath: str | os.PathLike[str]) -> dict:
    """Load a snapshot folder into ``sess`` and return its tensors by name
    (``x``, ``pi``, ``v``, ``q``, ... as given to ``setup_tf_saver``).

    See :func:`spinfast.agent.tf_model.restore_tf_graph`. Example, reading a value function::

        import numpy as np, tensorflow as tf
        sess = tf.compat.v1.Session(graph=tf.Graph())
        model = restore_tf_graph(sess, "data/ppo/ppo_s0/simple_save")
        obs = np.zeros(model["x"].shape[1], np.float32)
        value = sess.run(model["v"], feed_dict={model["x"]: obs[None]})[0]
    """
    from spinfast.agent.tf_model import restore_tf_graph as restore

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
            (:class:`spinfast.agent.policy.NativePolicy`, no TF session per step)
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
    snapshot = find_snapshot(fpath, itr)
    get_action = load_agent(snapshot, deterministic, seed, backend)
    try:
        env = restore_env(snapshot)
    except EnvironmentNotFound as err:
        print(f"Warning: {err}", file=sys.stderr)
        env = None
    return env, get_action


#: The later Spinning Up releases' name for :func:`load_policy` (same arguments, same result).
load_policy_and_env = load_policy


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
    progress: bool = False,
    env_backend: str = "auto",
) -> PolicyRun:
    """Run an agent for some episodes, printing and logging each, then a summary.

    Prints ``Logging data to <output_dir>/progress.txt``, then one line per
    episode, ``Episode 0 \\t EpRet 500.000 \\t EpLen 500``, then the table of
    EpRet's average, std, max, min and EpLen's average, which is also written
    to progress.txt.

    Arguments:
        env: a Gymnasium env (``reset(seed=)`` gives ``(obs, info)``, ``step`` a
            5-tuple) or an old gym one (``reset()`` gives obs, ``step`` a 4-tuple);
            or a list of envs, stepped in lockstep (see :mod:`spinfast.agent.rollout`:
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
            ``spinfast.writing.user_config.DEFAULT_DATA_DIR``/test_policy.
        progress: a progress bar on stderr (episodes done, steps per second),
            drawn only when stderr is a terminal.
        env_backend: ``"auto"`` (default): an env that is exactly one of
            Gymnasium's classic-control envs under its standard wrappers steps
            natively, in Rust (:mod:`spinfast.native`: the same episodes, bit for
            bit); ``"native"``: natively or not at all; ``"python"``: as given.

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
    if isinstance(env, (list, tuple)):
        env = [with_backend(e, env_backend, render) for e in env]
    else:
        env = with_backend(env, env_backend, render)
    from spinfast.logx import EpochLogger
    from spinfast.writing import user_config

    if output_dir is None:
        output_dir = user_config.new_dir(
            osp.join(user_config.DEFAULT_DATA_DIR, "test_policy", time.strftime(TIME_NAME))
        )
    logger = EpochLogger(output_dir=os.fspath(output_dir))

    def report(episode: Episode) -> None:
        logger.store(EpRet=episode.ret, EpLen=episode.length)
        print(f"Episode {episode.index} \t EpRet {episode.ret:.3f} \t EpLen {episode.length}")

    try:
        episodes = run_episodes(
            env, get_action, num_episodes, max_ep_len, render, seed, report, progress=progress
        )
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("EpLen", average_only=True)
        # the numbers exactly as dump_tabular writes them to progress.txt
        summary = {key: float(str(value)) for key, value in logger.log_current_row.items()}
        logger.dump_tabular()
    finally:
        logger.close()
    return PolicyRun(episodes, summary, logger.output_dir)


#: How a test's output folder is named (under ``DEFAULT_DATA_DIR/test_policy``).
TIME_NAME = "%Y-%m-%d_%H-%M-%S"
