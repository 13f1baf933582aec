"""Loading a saved agent's policy: the one place an agent's ``get_action`` is built.

A PyTorch snapshot (``pyt_save/model.pt``) is read in Rust, with no torch and
nothing in the file run, and its actor compiled for native evaluation
(:mod:`spinfast.agent.policy`). A TF snapshot is loaded in a TF session and its
action output compiled the same way, unless ``backend`` says otherwise.
"""

from __future__ import annotations

import sys
from typing import Any

from spinfast import _core
from spinfast.agent.policy import Backend, NativePolicy, check_backend
from spinfast.agent.snapshots import Snapshot
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
            runs in the TF session, after one line on stderr naming the ops);
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
    from spinfast.agent.tf_model import TFPolicy

    policy = TFPolicy(snapshot.path, deterministic=deterministic, seed=seed)
    action_key(policy.model, deterministic)
    if backend == "tf":
        return policy
    from spinfast.agent.policy import from_tf_policy

    try:
        native = from_tf_policy(policy, seed)
    except NativePolicyError as err:
        if backend == "native":
            hint = "--policy tf runs it in the TF session"
            raise NativePolicyError(f"{err} ({hint})", err.ops) from None
        print(f"Running the policy in the TF session: {err}", file=sys.stderr)
        return policy
    policy.session.close()  # the weights are in the native policy now
    return native


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
