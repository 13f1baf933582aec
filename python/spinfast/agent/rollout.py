"""The episode loop: run an agent in one env, or in several stepped in lockstep.

The loop is in Rust (``spinfast._core.rollout``); this module is its documented
face. It calls the env's ``reset``/``step`` in Python (Gymnasium's 5-tuple or old
gym's 4-tuple; how an env takes its seed is decided once per env), and the policy:

- a native policy (:class:`spinfast.agent.policy.NativePolicy`, what
  ``load_policy`` gives by default) is evaluated in Rust, on the observations of
  the running envs batched there: no Python frame per step;
- any other callable is called once per observation, or, given a list of envs,
  through its ``batch`` method if it has one (TF-session agents do), once per
  step on the observations stacked by ``numpy.stack``.

Signals are checked after every step (Ctrl-C raises ``KeyboardInterrupt``), and
exceptions from the env or the policy come out as raised, with their traceback.

Several envs (a list) are stepped in lockstep, one policy call per step:

- The episodes are shared out before the first step, as stable-baselines3's
  ``evaluate_policy`` does: env ``i`` runs ``(num_episodes + i) // num_envs`` of
  them, so exactly ``num_episodes`` episodes run and an env that draws short
  episodes does not run more of them than its share.
- They are numbered round by round: ``0..N-1`` are the first episode of each
  env, in env order, then the second ones, and so on. Episode ``k`` resets with
  seed ``seed + k``, as with one env; so with a deterministic policy, episode
  ``k`` is the same whatever the number of envs.
- They are reported (``on_episode``) and returned in number order: an episode
  that ends early waits for those before it.

Example:
    >>> import gymnasium
    >>> from spinfast.agent.rollout import run_episodes
    >>> policy = lambda obs: int(obs[2] > 0)
    >>> one = run_episodes(gymnasium.make("CartPole-v1"), policy, num_episodes=5, seed=0)
    >>> [ep.index for ep in one]
    [0, 1, 2, 3, 4]
    >>> envs = [gymnasium.make("CartPole-v1") for _ in range(3)]
    >>> run_episodes(envs, policy, num_episodes=5, seed=0) == one
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spinfast import _core
from spinfast._core import Episode

__all__ = ["Episode", "run_episodes"]


def run_episodes(
    env: Any,
    get_action: Callable[[Any], Any],
    num_episodes: int,
    max_ep_len: int | None = None,
    render: bool = False,
    seed: int | None = None,
    on_episode: Callable[[Episode], None] | None = None,
    *,
    progress: bool = False,
) -> list[Episode]:
    """Run ``num_episodes`` episodes and return them in number order.

    Arguments:
        env: a Gymnasium or old gym env, or a list of envs stepped in lockstep.
        get_action: one observation in, one action out (see the module for
            native policies and ``batch`` methods).
        num_episodes: how many episodes, at least 1.
        max_ep_len: end an episode after this many steps; None or 0: only when
            the env ends it.
        render: call ``env.render()`` before each step.
        seed: episode ``k`` resets with seed ``seed + k``; None: unseeded resets.
        on_episode: called with each episode, in number order, as soon as it and
            all before it have ended.
        progress: show a progress bar on stderr (only when it is a terminal).

    Raises:
        ValueError: ``num_episodes`` < 1, an empty list of envs, or a batched
            policy giving a wrong number of actions.
        EnvironmentMismatch: a seed was asked for, and an env takes none.
    """
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be at least 1, not {num_episodes}")
    lockstep = isinstance(env, (list, tuple))
    envs = list(env) if lockstep else [env]
    if not envs:
        raise ValueError("the list of envs is empty")
    return _core.rollout(
        envs,
        get_action,
        num_episodes,
        batched=lockstep,
        max_ep_len=max_ep_len if max_ep_len and max_ep_len > 0 else None,
        render=render,
        seed=seed,
        on_episode=on_episode,
        progress=progress,
    )
