"""Test agents, built here and saved as Spinning Up saves them: an independent oracle.

Small TF1 graphs (``tf.compat.v1``, graph mode) with known weights, on small
deterministic envs whose returns are computed by hand, written with
``tf.compat.v1.saved_model.simple_save`` + ``joblib.dump(model_info)`` as
Spinning Up's ``Logger._tf_simple_save`` does, and ``vars[N].pkl`` holding
``{'env': env}`` as its ``save_state`` does. Nothing from spinfast writes them.

LineEnv: obs ``[t, 1]`` for t = 0..HORIZON-1, reward = the action, the episode
ends after HORIZON steps. The Gaussian agent's mean action is ``mu = t + bias``,
so its return is ``sum(t) + HORIZON * bias = 10 + 5 * bias``.
"""

from __future__ import annotations

import os
import os.path as osp
from typing import Any

import gymnasium
import joblib
import numpy as np

HORIZON = 5


def line_return(bias: float) -> float:
    """The return of one LineEnv episode acting with ``mu = t + bias``."""
    return sum(t + bias for t in range(HORIZON))


class LineEnv(gymnasium.Env):
    """Gymnasium API: ``reset(seed=)`` gives ``(obs, info)``, ``step`` a 5-tuple.

    ``renders`` counts this env's render calls, ``LineEnv.total_renders`` all
    instances' (an env unpickled inside the command is out of a test's reach)."""

    total_renders = 0

    def __init__(self, discrete: bool = False) -> None:
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        if discrete:
            self.action_space = gymnasium.spaces.Discrete(2)
        else:
            self.action_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.t = 0
        self.seeds: list[int | None] = []
        self.renders = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.t, 1.0], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.seeds.append(seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any):
        reward = float(np.asarray(action).reshape(-1)[0])
        self.t += 1
        return self._obs(), reward, self.t >= HORIZON, False, {}

    def render(self) -> None:
        self.renders += 1
        LineEnv.total_renders += 1


class OldLineEnv:
    """Old gym API: ``reset()`` gives obs, ``step`` a 4-tuple, ``seed(s)`` seeds."""

    def __init__(self) -> None:
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.t = 0
        self.seeds: list[int] = []
        self.renders = 0

    def seed(self, seed: int) -> None:
        self.seeds.append(seed)

    def reset(self) -> np.ndarray:
        self.t = 0
        return np.array([self.t, 1.0], dtype=np.float32)

    def step(self, action: Any):
        reward = float(np.asarray(action).reshape(-1)[0])
        self.t += 1
        return np.array([self.t, 1.0], dtype=np.float32), reward, self.t >= HORIZON, {}

    def render(self) -> None:
        self.renders += 1


gymnasium.register(id="SpinfastLine-v0", entry_point="saved_agents:LineEnv")


def save_snapshots(
    folder: str,
    build: Any,
    weights: dict[int | None, dict[str, Any]],
    env: Any = None,
    layout: str = "simple_save",
) -> str:
    """Build a graph with ``build()`` -> (inputs, outputs, variables by name), then
    for each snapshot number (None: unnumbered) assign its weights and save it as
    Spinning Up does. Returns ``folder``."""
    import tensorflow as tf

    v1 = tf.compat.v1
    os.makedirs(folder, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        inputs, outputs, variables = build()
        sess = v1.Session(graph=graph)
        sess.run(v1.global_variables_initializer())
        info = {
            "inputs": {k: v.name for k, v in inputs.items()},
            "outputs": {k: v.name for k, v in outputs.items()},
        }
        for itr, values in weights.items():
            for name, value in values.items():
                variables[name].load(np.asarray(value, np.float32), sess)
            suffix = "" if itr is None else str(itr)
            path = osp.join(folder, layout + suffix)
            v1.saved_model.simple_save(sess, path, inputs=inputs, outputs=outputs)
            joblib.dump(info, osp.join(path, "model_info.pkl"))
            if env is not None:
                joblib.dump({"env": env}, osp.join(folder, f"vars{suffix}.pkl"))
        sess.close()
    return folder


def gaussian_agent(with_mu: bool = True):
    """A Gaussian policy on 2-d observations: ``mu = x @ w + bias``,
    ``pi = mu + exp(log_std) * N(0, 1)``, and a value ``v = x @ wv``.
    With ``with_mu`` (SAC-like) ``mu`` is an output; without (PPO-like) only pi, v."""

    def build():
        import tensorflow as tf

        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, (None, 2))
        w = v1.get_variable("w", initializer=np.array([[1.0], [0.0]], np.float32))
        bias = v1.get_variable("bias", initializer=np.zeros(1, np.float32))
        log_std = v1.get_variable("log_std", initializer=np.zeros(1, np.float32))
        wv = v1.get_variable("wv", initializer=np.array([[2.0], [3.0]], np.float32))
        mu = tf.matmul(x, w) + bias
        pi = mu + tf.exp(log_std) * v1.random_normal(tf.shape(mu))
        v = tf.squeeze(tf.matmul(x, wv), axis=1)
        outputs = {"mu": mu, "pi": pi, "v": v} if with_mu else {"pi": pi, "v": v}
        variables = {"w": w, "bias": bias, "log_std": log_std, "wv": wv}
        return {"x": x}, outputs, variables

    return build


def categorical_agent():
    """A categorical policy on 2-d observations (VPG/PPO on a discrete env):
    ``logits = x @ w``, ``pi = squeeze(multinomial(logits, 1))``."""

    def build():
        import tensorflow as tf

        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, (None, 2))
        w = v1.get_variable("w", initializer=np.zeros((2, 2), np.float32))
        logits = tf.matmul(x, w)
        pi = tf.squeeze(v1.multinomial(logits, 1), axis=1)
        return {"x": x}, {"pi": pi, "logits": logits}, {"w": w}

    return build


def linear_controller_agent(gains: list[float]):
    """A deterministic CartPole agent: push right when ``gains . obs > 0``
    (``pi = argmax(x @ [-g, g])``)."""

    def build():
        import tensorflow as tf

        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, (None, 4))
        g = np.array(gains, np.float32)[:, None]
        w = v1.get_variable("w", initializer=np.hstack([-g, g]))
        pi = tf.argmax(tf.matmul(x, w), axis=1)
        return {"x": x}, {"pi": pi}, {"w": w}

    return build


def cartpole_oracle(gains: list[float], num_episodes: int, seed: int) -> list[tuple[float, int]]:
    """The same controller run by hand in Gymnasium: episode k resets with seed + k."""
    env = gymnasium.make("CartPole-v1")
    episodes = []
    for k in range(num_episodes):
        obs, _ = env.reset(seed=seed + k)
        ret, length, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(np.dot(gains, obs) > 0))
            ret, length, done = ret + reward, length + 1, terminated or truncated
        episodes.append((ret, length))
    return episodes
