"""Gymnasium's classic-control envs, stepped in Rust, bit for bit.

``make(ID)`` gives an env with Gymnasium's API whose every observation (float32
bits), reward, ``terminated`` and ``truncated`` equal ``gymnasium.make(ID)``'s for
the same seeds and actions (NumPy's SeedSequence + PCG64, Gymnasium's arithmetic
term by term), at native speed: CartPole-v0/v1, Pendulum-v1, Acrobot-v1,
MountainCar-v0 and MountainCarContinuous-v0. Actions are checked as Gymnasium
checks them, with the same exceptions. They do not render.

``test_policy``, ``run_policy`` and ``evaluate`` use one by themselves where the
env is one of these (:func:`from_gymnasium`); with a native policy too, the whole
episode loop then runs in Rust with the GIL released.

Example:
    >>> import gymnasium
    >>> from spinfast import native
    >>> env = native.make("CartPole-v1")
    >>> obs, info = env.reset(seed=0)
    >>> theirs, _ = gymnasium.make("CartPole-v1").reset(seed=0)
    >>> obs.tobytes() == theirs.tobytes()
    True
    >>> env.step(1)[1:4]
    (1.0, False, False)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium
import numpy as np

from spinfast import _core

__all__ = ["IDS", "NativeEnv", "from_gymnasium", "make"]

#: The env ids that run natively.
IDS: tuple[str, ...] = tuple(_core.native_env_ids())

#: The keyword arguments ``gymnasium.make`` takes for these envs, by id prefix.
_KWARGS = {
    "CartPole": ("sutton_barto_reward",),
    "Pendulum": ("g",),
    "MountainCar": ("goal_velocity",),
}
#: Gymnasium's wrappers that ``gymnasium.make`` puts on, which the native env
#: reproduces (the passive checker only warns, once, on the first calls).
_STANDARD_WRAPPERS = ("TimeLimit", "OrderEnforcing", "PassiveEnvChecker")
#: Attributes of Gymnasium's classic-control envs that are constants of the
#: dynamics (a changed one is carried over to the native env).
_CONSTANTS = {
    "CartPoleEnv": (
        "gravity", "masscart", "masspole", "total_mass", "length", "polemass_length",
        "force_mag", "tau", "kinematics_integrator", "theta_threshold_radians",
        "x_threshold", "_sutton_barto_reward",
    ),
    "PendulumEnv": ("max_speed", "max_torque", "dt", "g", "m", "l"),
    "AcrobotEnv": (
        "dt", "LINK_LENGTH_1", "LINK_LENGTH_2", "LINK_MASS_1", "LINK_MASS_2",
        "LINK_COM_POS_1", "LINK_COM_POS_2", "LINK_MOI", "MAX_VEL_1", "MAX_VEL_2",
        "torque_noise_max", "book_or_nips",
    ),
    "MountainCarEnv": (
        "min_position", "max_position", "max_speed", "goal_position", "goal_velocity",
        "force", "gravity",
    ),
    "Continuous_MountainCarEnv": (
        "min_action", "max_action", "min_position", "max_position", "max_speed",
        "goal_position", "goal_velocity", "power",
    ),
}  # fmt: skip


class NativeEnv(_core.NativeEnv, gymnasium.Env):
    """One of Gymnasium's classic-control envs, stepped in Rust, as
    ``gymnasium.make(id, **kwargs)`` makes it (time limit included).

    Attributes:
        spec: Gymnasium's ``EnvSpec`` for ``id`` (with the kwargs given).
        observation_space, action_space: Gymnasium's spaces, as the env's.
    """

    metadata = {"render_modes": []}

    def __new__(cls, id: str, **kwargs: Any) -> NativeEnv:
        return super().__new__(cls, id, **kwargs)

    def __init__(self, id: str, **kwargs: Any) -> None:
        kwargs = dict(kwargs)
        spec = gymnasium.spec(id)
        steps = kwargs.pop("max_episode_steps", spec.max_episode_steps)
        self.spec = dataclasses.replace(
            spec, kwargs={**spec.kwargs, **kwargs}, max_episode_steps=steps
        )
        low, high = self.observation_bounds
        self.observation_space = gymnasium.spaces.Box(low, high, dtype=np.float32)
        bounds = self.action_bounds
        if isinstance(bounds, int):
            self.action_space = gymnasium.spaces.Discrete(bounds)
        else:
            self.action_space = gymnasium.spaces.Box(*bounds, dtype=np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Gymnasium's ``reset``: ``(obs, {})``."""
        return self.native_reset(seed, options), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Gymnasium's ``step``: ``(obs, reward, terminated, truncated, {})``."""
        obs, reward, terminated, truncated = self.native_step(action)
        return obs, reward, terminated, truncated, {}

    def __repr__(self) -> str:
        return f"<NativeEnv {self.spec.id}>"


def make(id: str, **kwargs: Any) -> NativeEnv:
    """``gymnasium.make(id, **kwargs)``, stepped in Rust.

    Arguments:
        id: one of :data:`IDS`.
        kwargs: ``max_episode_steps``, and the env's own: CartPole's
            ``sutton_barto_reward``, Pendulum's ``g``, MountainCar's and
            MountainCarContinuous's ``goal_velocity``.

    Raises:
        gymnasium.error.NameNotFound: not one of :data:`IDS`.
        TypeError: a keyword the env does not take.
    """
    return NativeEnv(id, **kwargs)


def from_gymnasium(env: Any) -> tuple[NativeEnv | None, str]:
    """A native env equal to a Gymnasium one, with its constants: ``(env, "")``,
    or ``(None, why not)``.

    It must be exactly Gymnasium's class for one of :data:`IDS` under Gymnasium's
    standard wrappers only (``TimeLimit``, ``OrderEnforcing``, ``PassiveEnvChecker``),
    not rendering. Constants changed on the instance (``env.unwrapped.gravity``)
    stay changed, and its random generator goes on where the instance's is (a
    restored env's unseeded resets draw what Gymnasium's would).
    """
    spec = getattr(env, "spec", None)
    if spec is None or spec.id not in IDS:
        return None, f"{type(env).__name__} is not one of the native envs ({', '.join(IDS)})"
    wrappers, inner = [], env
    while isinstance(inner, gymnasium.Wrapper):
        wrappers.append(type(inner))
        inner = inner.env
    foreign = [w.__name__ for w in wrappers if w.__module__.split(".")[0] != "gymnasium"
               or w.__name__ not in _STANDARD_WRAPPERS]  # fmt: skip
    if foreign:
        return None, f"{spec.id} is wrapped in {', '.join(foreign)}"
    fresh = gymnasium.make(spec.id, **spec.kwargs).unwrapped
    if type(inner) is not type(fresh):
        return None, f"{type(inner).__module__}.{type(inner).__name__} is not Gymnasium's class"
    if getattr(inner, "render_mode", None) is not None:
        return None, f"{spec.id} renders (render_mode={inner.render_mode!r})"
    kwargs = {k: v for k, v in spec.kwargs.items() if k in _KWARGS.get(spec.id.split("-")[0], ())}
    if set(spec.kwargs) - set(kwargs) - {"render_mode"}:
        unknown = sorted(set(spec.kwargs) - set(kwargs) - {"render_mode"})
        return None, f"{spec.id} was made with {', '.join(unknown)}"
    steps = {"max_episode_steps": spec.max_episode_steps} if spec.max_episode_steps else {}
    native = NativeEnv(spec.id, **kwargs, **steps)
    changed = {
        name: getattr(inner, name)
        for name in _CONSTANTS.get(type(inner).__name__, ())
        if _differs(getattr(inner, name, None), getattr(fresh, name, None))
    }
    unknown = native.set_constants(changed) if changed else []
    if unknown:
        return None, f"{spec.id} has changed constants that run only in Python: {unknown}"
    generator = getattr(inner, "_np_random", None)
    if generator is not None:
        state = generator.bit_generator.state
        if state.get("bit_generator") != "PCG64" or state.get("has_uint32"):
            return None, f"{spec.id}'s random generator is not a plain PCG64 one"
        seed = getattr(inner, "_np_random_seed", None)
        native.set_generator(state["state"]["state"], state["state"]["inc"],
                             seed if isinstance(seed, int) and seed >= 0 else None)  # fmt: skip
    return native, ""


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(np.any(np.asarray(a) != np.asarray(b)))
    except (TypeError, ValueError):
        return True
