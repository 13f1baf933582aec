"""The episode loop: run an agent in an environment for a number of episodes.

Kept apart from printing and logging (``spinfast.test_policy.run_policy`` does
those), so that another engine can replace this loop and give the same episodes.

Example:
    >>> from spinfast.envs import make_env
    >>> from spinfast.rollout import run_episodes, summarize
    >>> env = make_env("CartPole-v1")
    >>> episodes = run_episodes(env, lambda obs: int(obs[2] > 0), num_episodes=3, seed=0)
    >>> [ep.index for ep in episodes]
    [0, 1, 2]
    >>> sorted(summarize(episodes))
    ['AverageEpRet', 'EpLen', 'MaxEpRet', 'MinEpRet', 'StdEpRet']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, final

import numpy as np

from spinfast.envs import reset, step

__all__ = ["Episode", "run_episodes", "summarize"]


@final
@dataclass(frozen=True, slots=True)
class Episode:
    """One finished episode.

    Attributes:
        index: its number, from 0.
        ret: its return (the sum of its rewards).
        length: its number of steps.
    """

    index: int
    ret: float
    length: int


def run_episodes(
    env: Any,
    get_action: Callable[[Any], Any],
    num_episodes: int,
    max_ep_len: int | None = None,
    render: bool = False,
    seed: int | None = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """Run ``num_episodes`` episodes and return them in order.

    Arguments:
        env: a Gymnasium or old gym environment (see :mod:`spinfast.envs`).
        get_action: one observation in, one action out.
        num_episodes: how many episodes.
        max_ep_len: end an episode after this many steps; None or 0: only when
            the environment ends it.
        render: call ``env.render()`` before each step.
        seed: episode ``k`` resets with seed ``seed + k``; None: unseeded resets.
        on_episode: called with each episode as it ends.
    """
    limit = max_ep_len or None
    episodes = []
    for k in range(num_episodes):
        obs = reset(env, None if seed is None else seed + k)
        ep_ret, ep_len, done = 0.0, 0, False
        while not done and ep_len != limit:
            if render:
                env.render()
                time.sleep(1e-3)
            obs, reward, done = step(env, get_action(obs))
            ep_ret += reward
            ep_len += 1
        episode = Episode(k, ep_ret, ep_len)
        episodes.append(episode)
        if on_episode is not None:
            on_episode(episode)
    return episodes


def summarize(episodes: list[Episode]) -> dict[str, float]:
    """The summary row test_policy logs: EpRet's average, std, max and min, and
    EpLen's average (population std, as Spinning Up's logger computes it)."""
    rets = np.array([ep.ret for ep in episodes], dtype=np.float64)
    lens = np.array([ep.length for ep in episodes], dtype=np.float64)
    return {
        "AverageEpRet": float(rets.mean()),
        "StdEpRet": float(rets.std()),
        "MaxEpRet": float(rets.max()),
        "MinEpRet": float(rets.min()),
        "EpLen": float(lens.mean()),
    }
