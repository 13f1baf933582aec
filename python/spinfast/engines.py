"""The two rollout engines behind ``run_policy``: ``"rust"`` (the default) and
``"python"`` (the reference). Both give the same episodes for the same seed.

- ``"rust"``: ``spinfast._core.rollout``, the loop in Rust, calling the env's
  ``reset``/``step`` and the policy back in Python. Signals are checked after
  every step (Ctrl-C raises ``KeyboardInterrupt``), exceptions from the env or
  the policy come out as raised, with their traceback.
- ``"python"``: :func:`spinfast.rollout.run_episodes` for one env, and
  :func:`run_lockstep` here for several.

Several envs (a list) are stepped in lockstep, one policy call per step:

- The episodes are shared out before the first step, as stable-baselines3's
  ``evaluate_policy`` does: env ``i`` runs ``(num_episodes + i) // num_envs`` of
  them (:func:`episode_shares`), so exactly ``num_episodes`` episodes run and
  an env that draws short episodes does not run more of them than its share.
- They are numbered round by round (:func:`episode_numbers`): ``0..N-1`` are the
  first episode of each env, in env order, then the second ones, and so on.
  Episode ``k`` resets with seed ``seed + k``, as with one env; so with a
  deterministic policy, episode ``k`` is the same whatever the number of envs.
- They are reported (``on_episode``) and returned in number order: an episode
  that ends early waits for those before it.
- The policy: if ``get_action`` has a ``batch`` method (the agents of
  ``load_policy`` do), it is called once per step with the observations of the
  envs still running stacked by ``numpy.stack``, shape ``(n, *obs_shape)``, and
  gives ``n`` actions; otherwise ``get_action`` is called once per observation.

Example:
    >>> import gymnasium
    >>> from spinfast.engines import run_engine
    >>> envs = [gymnasium.make("CartPole-v1") for _ in range(3)]
    >>> policy = lambda obs: int(obs[2] > 0)
    >>> rust = run_engine(envs, policy, num_episodes=5, seed=0)
    >>> [ep.index for ep in rust]
    [0, 1, 2, 3, 4]
    >>> rust == run_engine(envs, policy, num_episodes=5, seed=0, engine="python")
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from spinfast import _core
from spinfast.envs import reset, step
from spinfast.rollout import Episode, run_episodes

__all__ = [
    "ENGINES",
    "Engine",
    "check_engine",
    "episode_numbers",
    "episode_shares",
    "run_engine",
    "run_lockstep",
]

Engine = Literal["rust", "python"]
ENGINES: tuple[Engine, ...] = ("rust", "python")


def run_engine(
    env: Any,
    get_action: Callable[[Any], Any],
    num_episodes: int,
    max_ep_len: int | None = None,
    render: bool = False,
    seed: int | None = None,
    on_episode: Callable[[Episode], None] | None = None,
    *,
    engine: Engine = "rust",
    progress: bool = False,
) -> list[Episode]:
    """Run ``num_episodes`` episodes with ``engine`` and return them in order.

    Arguments:
        env: one env, or a list of envs stepped in lockstep (see the module).
        get_action: one observation in, one action out; with a list of envs, its
            ``batch`` method, if it has one, takes the stacked observations.
        num_episodes: how many episodes, at least 1.
        max_ep_len, render, seed, on_episode: as for
            :func:`spinfast.rollout.run_episodes` (whose signature this keeps).
        engine: ``"rust"`` or ``"python"``.
        progress: show a progress bar on stderr (only when it is a terminal).

    Raises:
        ValueError: an unknown engine, ``num_episodes`` < 1, an empty list of
            envs, or a batched policy giving a wrong number of actions.
    """
    check_engine(engine)
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be at least 1, not {num_episodes}")
    limit = max_ep_len if max_ep_len and max_ep_len > 0 else None
    lockstep = isinstance(env, (list, tuple))
    envs = list(env) if lockstep else [env]
    if not envs:
        raise ValueError("the list of envs is empty")
    batch = getattr(get_action, "batch", None) if lockstep else None
    policy = batch or get_action
    if engine == "rust":
        report = None if on_episode is None else (lambda *row: on_episode(Episode(*row)))
        rows = _core.rollout(
            envs,
            policy,
            num_episodes,
            batched=batch is not None,
            max_ep_len=limit,
            render=render,
            seed=seed,
            on_episode=report,
            progress=progress,
        )
        return [Episode(*row) for row in rows]
    bar = _core.EpisodeBar(num_episodes, progress)

    def report_python(episode: Episode) -> None:
        bar.advance(episode.length, 1)
        if on_episode is not None:
            bar.suspend(lambda: on_episode(episode))

    try:
        if not lockstep:
            return run_episodes(env, get_action, num_episodes, limit, render, seed, report_python)
        batched = batch is not None
        return run_lockstep(
            envs, policy, num_episodes, limit, render, seed, report_python, batched=batched
        )
    finally:
        bar.close()


def check_engine(engine: str) -> None:
    """Raise ValueError unless ``engine`` is one of :data:`ENGINES`."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")


def episode_shares(num_episodes: int, num_envs: int) -> list[int]:
    """How many episodes each env runs: stable-baselines3's ``evaluate_policy``
    ``episode_count_targets``.

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


def run_lockstep(
    envs: Sequence[Any],
    policy: Callable[[Any], Any],
    num_episodes: int,
    max_ep_len: int | None = None,
    render: bool = False,
    seed: int | None = None,
    on_episode: Callable[[Episode], None] | None = None,
    *,
    batched: bool = False,
) -> list[Episode]:
    """The Python engine for several envs: the reference for ``_core.rollout``.

    Each step renders the running envs (if asked), calls the policy once on
    their observations (``batched``: stacked; else one call per observation),
    then steps each env; see the module for the shares, numbers and order.
    """
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
        batch = [obs[i] for i in running]
        if batched:
            out = policy(np.stack(batch))
            if len(out) != len(batch):
                raise ValueError(
                    f"the policy gave {len(out)} actions for {len(batch)} observations"
                )
            actions = [out[k] for k in range(len(out))]
        else:
            actions = [policy(o) for o in batch]
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
