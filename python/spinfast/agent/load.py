"""Loading a saved agent's policy: the one place an agent's ``get_action`` is built.

Both kinds of snapshot are read in Rust, with neither TensorFlow nor torch: a TF1
SavedModel (``simple_save/``, ``tf1_save/``: the graph's protobuf and the checkpoint
bundle) and a PyTorch ``pyt_save/model.pt`` (nothing in the file is run). The
policy's graph, from the observation ``x`` to the action, is compiled for native
evaluation (:mod:`spinfast.agent.policy`). TensorFlow is needed only for a TF graph
with an op that has no native kernel, or when asked for (``backend="tf"``).
"""

from __future__ import annotations

import importlib.util
import os.path as osp
import sys
from typing import Any

from spinfast import _core
from spinfast.agent.policy import Backend, NativePolicy, check_backend
from spinfast.agent.snapshots import Snapshot, read_model_info, require_agent
from spinfast.errors import NativePolicyError, SnapshotError

__all__ = ["action_key", "load_agent"]


def load_agent(
    snapshot: Snapshot, deterministic: bool, seed: int | None, backend: Backend = "auto"
) -> Any:
    """The snapshot's policy as a ``get_action`` (one observation in, one action out).

    Arguments:
        snapshot: the snapshot to load (from :func:`spinfast.agent.snapshots.find_snapshot`).
        deterministic: act with ``mu`` (SAC's mean action); an agent with no ``mu``
            acts with ``pi``, after a warning.
        seed: seeds the policy's sampling, so that it repeats.
        backend: ``"auto"``: native (a TF graph with an op that has no native kernel
            runs in the TF session where TensorFlow is installed, after one line on
            stderr naming the ops);
            ``"native"``: natively or not at all; ``"tf"``: the TF session;
            ``"torch"``: ``torch.load`` (PyTorch snapshots: this runs the file's code).

    Raises:
        SnapshotError: the snapshot cannot be read, or is refused (a model.pt naming
            a function to call), or ``backend`` is for the other framework.
        NativePolicyError: the policy cannot run natively (``backend`` ``"native"``,
            or a PyTorch actor-critic of another architecture).
        ValueError: an unknown backend.
    """
    check_backend(backend)
    print(f"Loading from {snapshot.path}.", file=sys.stderr)
    if snapshot.layout == "pyt_save":
        return _load_pytorch(snapshot, deterministic, seed, backend)
    if backend == "torch":
        raise SnapshotError("is a TF snapshot: --policy torch loads PyTorch ones", snapshot.path)
    if backend == "tf":
        return _tf_policy(snapshot, deterministic, seed)
    graph = _core.read_saved_model(snapshot.path, _model_info_tensors(snapshot.path))
    key = action_key(graph.outputs, deterministic)
    try:
        return NativePolicy(graph, key, seed)
    except NativePolicyError as err:
        if backend == "native":
            hint = "--policy tf runs it in the TF session"
            raise NativePolicyError(f"{err} ({hint})", err.ops) from None
        if importlib.util.find_spec("tensorflow") is None:
            hint = 'TensorFlow runs it: pip install "spinfast[tf]"'
            raise NativePolicyError(f"{err} ({hint})", err.ops) from None
        print(f"Running the policy in the TF session: {err}", file=sys.stderr)
        return _tf_policy(snapshot, deterministic, seed, quiet=True)


def _model_info_tensors(path: str) -> dict[str, str] | None:
    """model_info.pkl's tensor names by key, checked to hold ``x`` and ``pi``; None
    where the folder has none (Spinning Up's .gitignore drops *.pkl): the graph's
    serving signature names them then."""
    if not osp.exists(osp.join(path, "model_info.pkl")):
        return None
    info = read_model_info(path)
    tensors = {**info["inputs"], **info["outputs"]}
    require_agent(tensors, path)
    return tensors


def _tf_policy(snapshot: Snapshot, deterministic: bool, seed: int | None, quiet: bool = False):
    from spinfast.agent.tf_model import TFPolicy

    policy = TFPolicy(snapshot.path, deterministic=deterministic, seed=seed)
    if not quiet:
        action_key(policy.model, deterministic)
    return policy


def _load_pytorch(snapshot: Snapshot, deterministic: bool, seed: int | None, backend: str) -> Any:
    if backend == "tf":
        raise SnapshotError("is a PyTorch snapshot: --policy tf loads TF ones", snapshot.path)
    if backend == "torch":
        from spinfast.agent.torch_model import TorchPolicy

        print(
            "Loading with torch.load(weights_only=False): this runs the code the file names; "
            "only do it for files you trust.",
            file=sys.stderr,
        )
        policy = TorchPolicy(snapshot.path, deterministic=deterministic, seed=seed)
        action_key(
            {"pi": None, **({"mu": None} if policy.action_key == "mu" else {})}, deterministic
        )
        return policy
    try:
        graph = _core.read_torch_model(snapshot.path)
    except NativePolicyError as err:
        hint = "--policy torch runs it with torch, which runs the code the file names"
        raise NativePolicyError(f"{err} ({hint})", err.ops) from None
    print(f"Read {graph.description}.", file=sys.stderr)
    return NativePolicy(graph, action_key(graph.outputs, deterministic), seed)


def action_key(outputs: Any, deterministic: bool) -> str:
    """The output to act with, ``"mu"`` or ``"pi"``, saying which on stderr as
    Spinning Up does (and warning when ``deterministic`` finds no ``mu``)."""
    if deterministic and "mu" in outputs:
        print("Using deterministic action op.", file=sys.stderr)
        return "mu"
    if deterministic:
        print(
            "Warning: this agent has no deterministic action op 'mu' (only SAC's "
            "has one): using its default action op 'pi' (already deterministic for "
            "DDPG and TD3; sampled for VPG, PPO and TRPO).",
            file=sys.stderr,
        )
    else:
        print("Using default action op.", file=sys.stderr)
    return "pi"
