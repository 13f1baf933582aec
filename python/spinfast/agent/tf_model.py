"""Load a Spinning Up TF1 snapshot (a SavedModel + model_info.pkl) on TensorFlow 2.

Everything goes through ``tf.compat.v1`` in graph mode, each agent in its own
graph and session, so several agents can be loaded side by side. Importing this
module imports TensorFlow; ``import spinfast`` does not.

Example (read a value function, which test_policy does not run)::

    import numpy as np
    import tensorflow as tf
    from spinfast.agent.tf_model import restore_tf_graph

    sess = tf.compat.v1.Session(graph=tf.Graph())
    model = restore_tf_graph(sess, "data/ppo/ppo_s0/simple_save")
    model.keys()                                   # dict_keys(['x', 'pi', 'v'])
    obs = np.zeros(model["x"].shape[1], np.float32)
    sess.run(model["v"], feed_dict={model["x"]: obs[None]})[0]   # V(obs)
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError

from spinfast.agent.snapshots import read_model_info, require_agent
from spinfast.errors import SnapshotError

__all__ = ["TFPolicy", "restore_tf_graph"]

_MAX_INT32 = 2**31 - 1


def restore_tf_graph(sess: Any, fpath: str | os.PathLike[str], seed: int | None = None) -> dict:
    """Load a snapshot folder into ``sess.graph`` and return its tensors by name.

    As Spinning Up's ``restore_tf_graph``: the keys are those given to
    ``logger.setup_tf_saver(sess, inputs, outputs)``, e.g. ``x``, ``pi``, ``v``
    (VPG, PPO, TRPO), ``mu``, ``q1``, ``q2`` (SAC), ``q`` (DDPG).

    Arguments:
        sess: a ``tf.compat.v1.Session``; the snapshot is loaded into
            ``sess.graph`` (whichever graph is the default), so give each agent
            a session with a graph of its own.
        fpath: the snapshot folder (``simple_save``, ``tf1_save10``, ...).
        seed: seed every random op of the graph (the sampling in ``pi``) with
            it, so that the same seed gives the same actions. None keeps the
            seeds saved in the graph (usually none: fresh randomness per run).

    Raises:
        SnapshotError: the folder is not a readable SavedModel, or model_info.pkl
            is not what Spinning Up writes or names a tensor the graph lacks.

    Example::

        sess = tf.compat.v1.Session(graph=tf.Graph())
        model = restore_tf_graph(sess, "data/sac/sac_s0/simple_save")
        q1 = sess.run(model["q1"], {model["x"]: obs[None], model["a"]: act[None]})
    """
    fpath = os.fspath(fpath)
    info = read_model_info(fpath)  # before TF: a bad file fails fast and runs no code
    _load_saved_model(sess, fpath, seed)
    model = {}
    for key, name in {**info["inputs"], **info["outputs"]}.items():
        try:
            model[key] = sess.graph.get_tensor_by_name(name)
        except (KeyError, ValueError) as err:
            raise SnapshotError(
                f"model_info.pkl names the tensor {name!r} for {key!r}, and the saved graph "
                f"has none ({err})",
                fpath,
            ) from None
    return model


def _load_saved_model(sess: Any, fpath: str, seed: int | None) -> None:
    # The loader class behind tf.compat.v1.saved_model.load: it hands out the
    # MetaGraphDef it will import, so the random ops can be seeded first.
    from tensorflow.python.saved_model import loader_impl

    tags = [tf.compat.v1.saved_model.tag_constants.SERVING]
    try:
        loader = loader_impl.SavedModelLoader(fpath)
        if seed is not None:
            _seed_random_ops(loader.get_meta_graph_def_from_tags(tags).graph_def, seed)
        with sess.graph.as_default():
            loader.load(sess, tags)
    except (OSError, RuntimeError, ValueError, DecodeError, tf.errors.OpError) as err:
        text = str(err).strip()
        first_line = text.splitlines()[0] if text else type(err).__name__
        raise SnapshotError(f"cannot be loaded as a TF SavedModel: {first_line}", fpath) from None


def _seed_random_ops(graph_def: Any, seed: int) -> None:
    """Give every stateful random op (``seed``/``seed2`` attributes) a fixed seed:
    the graph-level ``seed``, and an op-level one from the op's name, as
    ``tf.compat.v1.set_random_seed`` would have done when the graph was built."""
    for node in graph_def.node:
        if "seed" in node.attr and "seed2" in node.attr:
            op_seed = zlib.crc32(node.name.encode()) & _MAX_INT32
            node.attr["seed"].i = seed
            node.attr["seed2"].i = op_seed if (seed, op_seed) != (0, 0) else _MAX_INT32


class TFPolicy:
    """A Spinning Up TF1 agent, loaded in its own graph and session; call it with one
    observation to get one action.

    Arguments:
        snapshot_path: the snapshot folder.
        deterministic: act with ``mu`` (SAC's mean action) instead of ``pi``.
            An agent with no ``mu`` (VPG, PPO, TRPO, DDPG, TD3) acts with ``pi``
            and a warning, as Spinning Up does: DDPG's and TD3's ``pi`` is
            deterministic already; VPG's, PPO's and TRPO's samples.
        seed: seed the sampling in ``pi`` (see :func:`restore_tf_graph`).

    Attributes:
        model: the tensors by name, as :func:`restore_tf_graph` returns them.
        action_key: ``"mu"`` or ``"pi"``.
        obs_shape: the observation shape the agent takes (``x`` without its
            batch axis), None where the graph does not say.
        backend: ``"tf"`` (``spinfast.agent.policy.NativePolicy``'s is ``"native"``).
    """

    backend = "tf"

    def __init__(
        self, snapshot_path: str, deterministic: bool = False, seed: int | None = None
    ) -> None:
        self.session = tf.compat.v1.Session(graph=tf.Graph())
        self.model = restore_tf_graph(self.session, snapshot_path, seed=seed)
        require_agent(self.model, snapshot_path)
        self.action_key = "mu" if deterministic and "mu" in self.model else "pi"
        x_shape = self.model["x"].shape
        self.obs_shape = tuple(x_shape[1:]) if x_shape.rank is not None else None
        # One compiled call per step: cheaper than sess.run with a feed dict.
        self._act = self.session.make_callable(
            self.model[self.action_key], feed_list=[self.model["x"]]
        )

    def __call__(self, obs: Any) -> Any:
        return self._act(np.asarray(obs)[None])[0]

    def batch(self, obs: Any) -> Any:
        """The actions for a batch of observations, shape ``(n, *obs_shape)``, in
        one session call (the policy of several envs stepped in lockstep)."""
        return self._act(np.asarray(obs))
