"""The environment an agent runs in: restored from ``vars.pkl``, or made by id; and
one way to reset and step both Gymnasium and old gym environments.

``vars.pkl`` is a pickle (joblib): loading it runs code from the file, so load
only agents you trust. ``make_env`` never touches it.

Example:
    >>> from spinfast.agent.envs import make_env, reset, step
    >>> env = make_env("CartPole-v1")
    >>> obs = reset(env, seed=0)  # Gymnasium's (obs, info) or old gym's obs: the obs
    >>> obs.shape
    (4,)
    >>> obs, reward, done = step(env, 1)  # 5-tuple or 4-tuple: done = terminated or truncated
    >>> reward
    1.0
"""

from __future__ import annotations

import inspect
import os.path as osp
import traceback
from typing import Any

from spinfast.agent.snapshots import Snapshot
from spinfast.errors import EnvironmentMismatch, EnvironmentNotFound

__all__ = [
    "ENV_BACKENDS",
    "check_obs_shape",
    "make_env",
    "reset",
    "reset_style",
    "restore_env",
    "step",
    "unpack_step",
    "with_backend",
]

#: Where an env steps: ``"native"`` (in Rust, :mod:`spinfast.native`: Gymnasium's
#: classic-control envs, refusing any other), ``"python"`` (the env as it is), or
#: ``"auto"`` (native where it can be, silently else).
ENV_BACKENDS = ("auto", "native", "python")


def _fix(folder: str) -> str:
    return (
        f"Make the environment anew: spinfast test_policy {folder} --env ENV_ID "
        "(a Gymnasium id, or module:Id), or in Python: "
        f"_, get_action = load_policy('{folder}'); run_policy(env, get_action)"
    )


def restore_env(snapshot: Snapshot) -> Any:
    """Unpickle the environment saved beside a snapshot (``vars.pkl`` or ``varsN.pkl``).

    The file is a pickle: this runs code from it. Only load agents you trust.

    Raises:
        EnvironmentNotFound: with its own message for each cause: the file is
            missing; it is empty (0 bytes: the env could not be pickled, as with
            old Gym's Box2D envs); it holds no ``env``; the env's module cannot
            be imported (named); its class is gone from that module; or the
            file cannot be unpickled at all.
    """
    import joblib

    path = snapshot.vars_path

    def not_found(cause: str) -> EnvironmentNotFound:
        return EnvironmentNotFound(cause, _fix(snapshot.folder))

    if not osp.exists(path):
        raise not_found(f"{path} does not exist, so no environment was saved with this agent")
    if osp.getsize(path) == 0:
        raise not_found(
            f"{path} is empty (0 bytes): the environment could not be pickled when the "
            "agent was saved (as happens with old Gym's Box2D environments)"
        )
    try:
        state = joblib.load(path)
    except Exception as err:
        raise not_found(_unpickling_cause(path, err)) from err
    if not isinstance(state, dict):
        raise not_found(f"{path} holds a {type(state).__name__}, not a dict with an 'env'")
    if state.get("env") is None:
        found = "env=None" if "env" in state else f"only {sorted(map(str, state))}"
        raise not_found(f"{path} holds no environment under 'env' ({found})")
    return state["env"]


def _unpickling_cause(path: str, err: Exception) -> str:
    """Why unpickling failed, naming the module or class the pickle asked for.

    joblib unpickles with the pure-Python ``pickle._Unpickler``, whose
    ``find_class(module, name)`` frame tells what was being looked up.
    """
    lookup = next(
        (
            frame.f_locals
            for frame, _ in traceback.walk_tb(err.__traceback__)
            if frame.f_code.co_name == "find_class" and "module" in frame.f_locals
        ),
        None,
    )
    if lookup is not None and isinstance(err, ImportError):
        return (
            f"{path} needs the module '{lookup['module']}' to rebuild the environment, "
            f"and it cannot be imported ({err})"
        )
    if lookup is not None and isinstance(err, AttributeError):
        return (
            f"{path} needs '{lookup['name']}' from the module '{lookup['module']}' to "
            "rebuild the environment, and that module has no such name any more"
        )
    return f"{path} cannot be unpickled ({type(err).__name__}: {err})"


def make_env(env_id: str, render: bool = False) -> Any:
    """``gymnasium.make(env_id)``, with ``render_mode="human"`` when rendering.

    ``module:Id`` imports ``module`` first (which registers ``Id``), as Gymnasium does.

    Raises:
        EnvironmentNotFound: Gymnasium has no such id, the module cannot be
            imported, or the env needs a package that is not installed.
    """
    import gymnasium

    try:
        # render_mode only when rendering: an env whose __init__ takes none still works
        return gymnasium.make(env_id, **({"render_mode": "human"} if render else {}))
    except (gymnasium.error.Error, ImportError) as err:
        raise EnvironmentNotFound(
            f"--env {env_id}: {err}",
            "Give a registered Gymnasium id (list them: python -c 'import gymnasium; "
            "gymnasium.pprint_registry()'), or module:Id with a module that registers Id",
        ) from err


def with_backend(env: Any, backend: str = "auto", render: bool = False) -> Any:
    """``env``, or the native env equal to it (:func:`spinfast.native.from_gymnasium`),
    as ``backend`` asks: ``"auto"`` swaps it where it can; ``"native"`` also, else
    raises; ``"python"`` never. An env that is to render stays in Python.

    Raises:
        ValueError: an unknown backend.
        EnvironmentMismatch: ``"native"``, and the env cannot run natively (the
            message says why).
    """
    if backend not in ENV_BACKENDS:
        raise ValueError(f"env backend must be one of {', '.join(ENV_BACKENDS)}, not {backend!r}")
    if backend == "python":
        return env
    from spinfast import native

    if isinstance(env, native.NativeEnv):
        made, why = env, "native envs do not render"
    elif render:
        made, why = None, "the env is to render, and native envs do not"
    else:
        made, why = native.from_gymnasium(env)
    if backend == "native" and (made is None or render):
        raise EnvironmentMismatch(f"--env-backend native: {why}")
    return made or env


def check_obs_shape(env: Any, obs_shape: tuple | None) -> None:
    """Check that ``env`` gives observations of the shape the agent takes (its input
    without the batch axis; None or a None dimension: no check), so that a wrong env
    fails with a clear message, not deep in the policy.

    Raises:
        EnvironmentMismatch: the shapes differ.
    """
    env_shape = getattr(getattr(env, "observation_space", None), "shape", None)
    if obs_shape is None or env_shape is None or None in obs_shape:
        return
    if tuple(env_shape) != tuple(obs_shape):
        raise EnvironmentMismatch(
            f"the agent takes observations of shape {tuple(obs_shape)}, and the environment "
            f"{env} gives shape {tuple(env_shape)}"
        )


def reset_style(env: Any) -> str:
    """How ``env`` takes a seed, decided once per env (the rollout asks once):
    ``"keyword"`` (Gymnasium's ``reset(seed=)``), ``"seed_method"`` (old gym's
    ``env.seed(seed)`` then ``reset()``) or ``"none"`` (it cannot be seeded).
    """
    if _takes_seed(env.reset):
        return "keyword"
    if callable(getattr(env, "seed", None)):
        return "seed_method"
    return "none"


def reset(env: Any, seed: int | None = None) -> Any:
    """Reset a Gymnasium or old gym env and return the first observation.

    Gymnasium's ``reset(seed=)`` returns ``(obs, info)``; old gym's ``reset()``
    returns ``obs`` and is seeded through ``env.seed(seed)``.

    Raises:
        EnvironmentMismatch: a seed was asked for, and the env takes none.
    """
    style = None if seed is None else reset_style(env)
    if style is None:
        out = env.reset()
    elif style == "keyword":
        out = env.reset(seed=seed)
    elif style == "seed_method":
        env.seed(seed)
        out = env.reset()
    else:
        raise EnvironmentMismatch(
            f"{type(env).__name__} cannot be seeded: its reset() takes no seed and it has "
            "no seed() method"
        )
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
        return out[0]
    return out


def _takes_seed(method: Any) -> bool:
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: call it the old way
        return False
    return any(p.name == "seed" or p.kind is p.VAR_KEYWORD for p in params)


def step(env: Any, action: Any) -> tuple[Any, float, bool]:
    """Step a Gymnasium (5-tuple) or old gym (4-tuple) env: ``(obs, reward, done)``,
    where ``done`` is ``terminated or truncated`` for Gymnasium.

    Raises:
        EnvironmentMismatch: ``env.step`` returned neither 5 nor 4 values.
    """
    return unpack_step(env, env.step(action))


def unpack_step(env: Any, out: Any) -> tuple[Any, float, bool]:
    """What :func:`step` makes of ``env.step``'s result ``out`` (the Rust loop
    reads tuples itself and leaves anything else to this function).

    Raises:
        EnvironmentMismatch: ``out`` has neither 5 nor 4 values.
    """
    if len(out) == 5:
        obs, reward, terminated, truncated, _ = out
        return obs, float(reward), bool(terminated or truncated)
    if len(out) == 4:
        obs, reward, done, _ = out
        return obs, float(reward), bool(done)
    raise EnvironmentMismatch(
        f"{type(env).__name__}.step returned {len(out)} values; expected 5 (Gymnasium: "
        "obs, reward, terminated, truncated, info) or 4 (old gym: obs, reward, done, info)"
    )
