"""Spinning Up-style agent graphs built and saved here, for the native policy tests.

Spinning Up's TF1 cores build layers with ``tf.layers.dense``, which Keras 3 no
longer provides; :func:`dense` is the same layer (kernel and bias variables named
``dense*/kernel`` and ``dense*/bias``, MatMul + BiasAdd + activation) made with
``get_variable``. Agents are saved as Spinning Up's logger saves them:
``simple_save`` plus ``model_info.pkl``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="native policy parity is checked against TF")
v1 = tf.compat.v1

from spinningup_source import spinup_source  # noqa: E402

#: A builder gets the observation placeholder and returns the output tensors by key.
Builder = Callable[[tf.Tensor], dict[str, tf.Tensor]]


def dense(x: tf.Tensor, units: int, activation=None) -> tf.Tensor:
    """``tf.layers.dense`` (TF1) made of ``get_variable``, MatMul and BiasAdd."""
    with v1.variable_scope(None, default_name="dense"):
        glorot, normal = v1.glorot_uniform_initializer(), v1.random_normal_initializer(0.0, 0.1)
        kernel = v1.get_variable("kernel", [x.shape[-1], units], initializer=glorot)
        bias = v1.get_variable("bias", [units], initializer=normal)
        y = tf.nn.bias_add(tf.matmul(x, kernel), bias)
        return activation(y) if activation is not None else y


def mlp(x: tf.Tensor, sizes, activation=tf.tanh, output_activation=None) -> tf.Tensor:
    for h in sizes[:-1]:
        x = dense(x, h, activation)
    return dense(x, sizes[-1], output_activation)


def categorical(hidden=(64, 64), activation=tf.tanh, n_actions=2) -> Builder:
    """Spinning Up's ``mlp_categorical_policy``; ``logits`` exposed for parity."""

    def build(x):
        with v1.variable_scope("pi"):
            logits = mlp(x, list(hidden) + [n_actions], activation)
            pi = tf.squeeze(v1.multinomial(logits, 1), axis=1)
        return {"pi": pi, "logits": logits}

    return build


def gaussian(hidden=(64, 64), activation=tf.tanh, act_dim=1) -> Builder:
    """Spinning Up's ``mlp_gaussian_policy`` (a state-independent ``log_std``)."""

    def build(x):
        with v1.variable_scope("pi"):
            mu = mlp(x, list(hidden) + [act_dim], activation)
            log_std = v1.get_variable("log_std", initializer=-0.5 * np.ones(act_dim, np.float32))
            pi = mu + v1.random_normal(tf.shape(mu)) * tf.exp(log_std)
        # std, broadcast to the batch, as a deterministic output to compare.
        return {"pi": pi, "mu": mu, "std": tf.exp(log_std) + 0 * mu}

    return build


def sac(hidden=(32, 32), act_dim=2, act_limit=2.0, log_std_range=(-20, 2)) -> Builder:
    """SAC's squashed Gaussian: clipped ``log_std`` head, ``tanh``, scaled."""

    def build(x):
        with v1.variable_scope("pi"):
            net = mlp(x, list(hidden), tf.nn.relu, tf.nn.relu)
            mu = dense(net, act_dim)
            log_std = v1.clip_by_value(dense(net, act_dim), *log_std_range)
            pi = mu + v1.random_normal(tf.shape(mu)) * tf.exp(log_std)
        return {
            "mu": tf.tanh(mu) * act_limit,
            "pi": tf.tanh(pi) * act_limit,
            "pre_mu": mu,
            "std": tf.exp(log_std),
        }

    return build


def ddpg(hidden=(32, 32), act_dim=1, act_limit=2.0) -> Builder:
    """DDPG / TD3's deterministic actor."""

    def build(x):
        with v1.variable_scope("pi"):
            pi = act_limit * mlp(x, list(hidden) + [act_dim], tf.nn.relu, tf.tanh)
        return {"pi": pi}

    return build


def user_ops() -> Builder:
    """A user network with the other ops: two branches concatenated, Reshape, Elu,
    Sigmoid, Sub, Add, StopGradient, Softmax, and an ArgMax action."""

    def build(x):
        with v1.variable_scope("pi"):
            a = dense(x, 8, tf.nn.elu)
            b = dense(x, 6, tf.sigmoid)
            both = tf.concat([a, tf.stop_gradient(b)], axis=-1)
            flat = tf.reshape(both, [-1, 7, 2])
            # Add (TF 1.x's a + b) as well as AddV2 (today's).
            back = tf.raw_ops.Add(x=tf.reshape(flat, [-1, 14]) - tf.constant(0.5), y=both + 1.0)
            probs = tf.nn.softmax(dense(back, 4))
            pi = tf.argmax(probs, axis=1)
        return {"pi": pi, "probs": probs, "pi32": tf.argmax(probs, axis=1, output_type=tf.int32)}

    return build


def save_agent(
    path: Path, build: Builder, obs_dim: int, *, resource: bool = True, seed: int = 0
) -> Path:
    """Build an agent's graph with random weights and save it as Spinning Up does.

    ``resource=False`` makes TF 1.x-style ``VariableV2`` variables.
    """
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        with v1.variable_scope("", use_resource=resource):
            x = v1.placeholder(tf.float32, (None, obs_dim), name="Placeholder")
            outputs = build(x)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            v1.saved_model.simple_save(sess, str(path), {"x": x}, outputs)
    info = {"inputs": {"x": x.name}, "outputs": {k: t.name for k, t in outputs.items()}}
    joblib.dump(info, path / "model_info.pkl")
    return path


def load_agent(path: Path) -> tuple[v1.Session, dict[str, tf.Tensor]]:
    """A fresh session with the agent loaded, and its tensors by key (as Spinning Up's
    ``restore_tf_graph`` returns them)."""
    graph = tf.Graph()
    sess = v1.Session(graph=graph)
    with graph.as_default():
        v1.saved_model.loader.load(sess, [v1.saved_model.tag_constants.SERVING], str(path))
    info = joblib.load(path / "model_info.pkl")
    names = {**info["inputs"], **info["outputs"]}
    return sess, {k: graph.get_tensor_by_name(v) for k, v in names.items()}


def spinup_core(algo: str) -> types.ModuleType:
    """``spinup/algos/tf1/<algo>/core.py`` from ../shared/spinningup, run on today's TF.

    Its ``import tensorflow as tf`` gets ``tf.compat.v1`` with ``tf.layers.dense``
    as :func:`dense`; ``gym.spaces`` is Gymnasium's; ``scipy.signal`` (used only by
    ``discount_cumsum``, which acting never calls) is an empty stand-in.
    """
    import gymnasium

    source = spinup_source(f"spinup/algos/tf1/{algo}/core.py")

    class TfCompat(types.ModuleType):
        def __getattr__(self, name):
            return getattr(v1, name)

    shim = TfCompat("tensorflow")
    shim.layers = types.SimpleNamespace(dense=dense)
    gym = types.ModuleType("gym")
    gym.spaces = gymnasium.spaces
    scipy = types.ModuleType("scipy")
    scipy.signal = types.ModuleType("scipy.signal")
    stand_ins = {
        "tensorflow": shim,
        "gym": gym,
        "gym.spaces": gymnasium.spaces,
        "scipy": scipy,
        "scipy.signal": scipy.signal,
    }
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        module = types.ModuleType(f"spinup_{algo}_core")
        exec(compile(source, f"spinup/algos/tf1/{algo}/core.py", "exec"), module.__dict__)
    finally:
        for name, original in saved.items():
            if original is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = original
    return module


def spinup_builder(algo: str, action_space) -> Builder:
    """The actor-critic of Spinning Up's ``algo`` core; outputs as its algorithm saves them."""
    import gymnasium

    core = spinup_core(algo)

    def build(x):
        if isinstance(action_space, gymnasium.spaces.Discrete):
            a = v1.placeholder(tf.int32, (None,))
        else:
            a = v1.placeholder(tf.float32, (None, *action_space.shape))
        outs = core.mlp_actor_critic(x, a, action_space=action_space)
        return {"mu": outs[0], "pi": outs[1]} if algo == "sac" else {"pi": outs[0]}

    return build


#: Spinning Up's six TF1 algorithms, on the envs each takes.
SPINUP_AGENTS = [
    (algo, env) for algo in ("ppo", "vpg", "trpo") for env in ("CartPole", "Pendulum")
] + [(algo, "Pendulum") for algo in ("sac", "ddpg", "td3")]


def save_spinup_agent(folder: Path, algo: str, env: str, resource: bool = True) -> Path:
    """An agent of Spinning Up's own ``algo`` core, for ``env``'s spaces, saved."""
    import gymnasium

    obs_dim, space = {
        "CartPole": (4, gymnasium.spaces.Discrete(2)),
        "Pendulum": (3, gymnasium.spaces.Box(-2.0, 2.0, (1,), np.float32)),
    }[env]
    return save_agent(folder, spinup_builder(algo, space), obs_dim, resource=resource)
