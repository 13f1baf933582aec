"""The plain Python episode loop: the oracle the Rust loop is compared with, and the
pure-Python baseline the benches measure. Not part of the product.

It runs one env, or several in lockstep, as ``spinfast.agent.rollout`` documents:
each env's share of the episodes fixed up front (stable-baselines3's
``evaluate_policy``), episodes numbered round by round, episode ``k`` reset with
seed ``seed + k``, reported and returned in number order. Envs are reset and
stepped through :mod:`spinfast.agent.envs`; a policy with a ``batch`` method gets,
given a list of envs, the observations stacked by ``numpy.stack``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from spinfast._core import Episode
from spinfast.agent.envs import reset, step


def episode_shares(num_episodes: int, num_envs: int) -> list[int]:
    """How many episodes each env runs: stable-baselines3's ``episode_count_targets``.

    >>> episode_shares(20, 8)
    [2, 2, 2, 2, 3, 3, 3, 3]
    """
    return [(num_episodes + i) // num_envs for i in range(num_envs)]


def episode_numbers(shares: Sequence[int]) -> list[list[int]]:
    """The number of each env's episodes, given round by round in env order.

    >>> episode_numbers([1, 2, 2])
    [[0], [1, 3], [2, 4]]
    """
    numbers: list[list[int]] = [[] for _ in shares]
    k = 0
    for round_ in range(max(shares, default=0)):
        for env, share in enumerate(shares):
            if round_ < share:
                numbers[env].append(k)
                k += 1
    return numbers


def run_reference(
    env: Any,
    get_action: Callable[[Any], Any],
    num_episodes: int,
    max_ep_len: int | None = None,
    render: bool = False,
    seed: int | None = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """Run ``num_episodes`` episodes on ``env`` (one, or a list in lockstep)."""
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be at least 1, not {num_episodes}")
    lockstep = isinstance(env, (list, tuple))
    envs = list(env) if lockstep else [env]
    batch = getattr(get_action, "batch", None) if lockstep else None
    shares = episode_shares(num_episodes, len(envs))
    numbers = episode_numbers(shares)
    limit = max_ep_len or None

    def seed_of(number: int) -> int | None:
        return None if seed is None else seed + number

    running = [i for i, share in enumerate(shares) if share > 0]
    count = dict.fromkeys(running, 0)
    number = {i: numbers[i][0] for i in running}
    ret = dict.fromkeys(running, 0.0)
    length = dict.fromkeys(running, 0)
    obs = {i: reset(envs[i], seed_of(number[i])) for i in running}
    finished: dict[int, Episode] = {}
    next_report = 0
    while running:
        if render:
            for i in running:
                envs[i].render()
                time.sleep(1e-3)
        observations = [obs[i] for i in running]
        if batch is not None:
            out = batch(np.stack(observations))
            if len(out) != len(observations):
                raise ValueError(
                    f"the policy gave {len(out)} actions for {len(observations)} observations"
                )
            actions = [out[k] for k in range(len(out))]
        else:
            actions = [get_action(o) for o in observations]
        leaving = set()
        for i, action in zip(running, actions, strict=True):
            obs[i], reward, done = step(envs[i], action)
            ret[i] += reward
            length[i] += 1
            if not done and length[i] != limit:
                continue
            finished[number[i]] = Episode(number[i], ret[i], length[i])
            while next_report in finished:
                if on_episode is not None:
                    on_episode(finished[next_report])
                next_report += 1
            count[i] += 1
            if count[i] < shares[i]:
                number[i], ret[i], length[i] = numbers[i][count[i]], 0.0, 0
                obs[i] = reset(envs[i], seed_of(number[i]))
            else:
                leaving.add(i)
        running = [i for i in running if i not in leaving]
    return [finished[k] for k in range(num_episodes)]
