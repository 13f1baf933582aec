"""Loading a saved agent's policy: the one place an agent's ``get_action`` is built.

The snapshot is loaded in a TF session; its action output is then compiled for
native evaluation (:mod:`spinfast.agent.policy`) unless ``backend`` says
otherwise, and the session is closed.
"""

from __future__ import annotations

import sys
from typing import Any

from spinfast.agent.policy import Backend, check_backend
from spinfast.agent.snapshots import Snapshot
from spinfast.errors import NativePolicyError

__all__ = ["load_agent"]


def load_agent(
    snapshot: Snapshot, deterministic: bool, seed: int | None, backend: Backend = "auto"
) -> Any:
    """The snapshot's policy as a ``get_action`` (one observation in, one action out).

    Arguments:
        snapshot: the snapshot to load (from :func:`spinfast.agent.snapshots.find_snapshot`).
        deterministic: act with ``mu`` (SAC's mean action); an agent with no ``mu``
            acts with ``pi``, after a warning.
        seed: seeds the policy's sampling, so that it repeats.
        backend: ``"auto"``: native unless an op has no native kernel (then the TF
            session, after one line on stderr naming the ops); ``"native"``:
            natively or not at all; ``"tf"``: the TF session.

    Raises:
        NativePolicyError: ``backend="native"`` and the policy cannot run natively.
        ValueError: an unknown backend.
    """
    check_backend(backend)
    from spinfast.agent.tf_model import TFPolicy

    print(f"Loading from {snapshot.path}.", file=sys.stderr)
    policy = TFPolicy(snapshot.path, deterministic=deterministic, seed=seed)
    if policy.action_key == "mu":
        print("Using deterministic action op.", file=sys.stderr)
    elif deterministic:
        print(
            "Warning: this agent has no deterministic action op 'mu' (only SAC's "
            "has one): using its default action op 'pi' (already deterministic for "
            "DDPG and TD3; sampled for VPG, PPO and TRPO).",
            file=sys.stderr,
        )
    else:
        print("Using default action op.", file=sys.stderr)
    if backend == "tf":
        return policy
    from spinfast.agent.policy import from_tf_policy

    try:
        native = from_tf_policy(policy, seed)
    except NativePolicyError as err:
        if backend == "native":
            raise
        print(f"Running the policy in the TF session: {err}", file=sys.stderr)
        return policy
    policy.session.close()  # the weights are in the native policy now
    return native
