"""Spinning Up policies evaluated natively, in Rust: no TF session per step.

:func:`spinfast.agent.graph.extract_policy_graph` takes the policy's subgraph out
of a loaded agent; :class:`NativePolicy` compiles one of its action outputs
(``pi``, or ``mu``) into Rust kernels over preallocated buffers. Ops without a
kernel raise :class:`spinfast.errors.NativePolicyError` naming them, so that a
caller can fall back to the TF session.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Literal

from spinfast import _core
from spinfast.agent.graph import PolicyGraph, extract_policy_graph

if TYPE_CHECKING:
    from spinfast.agent.tf_model import TFPolicy

__all__ = [
    "BACKENDS",
    "Backend",
    "NativePolicy",
    "check_backend",
    "from_tf_policy",
    "native_ops",
]

#: How ``load_policy`` runs a policy: ``"native"`` (Rust, refusing a graph it cannot
#: run), ``"tf"`` (a TF snapshot in the TF session), ``"torch"`` (a PyTorch snapshot by
#: torch, running the file's code) or ``"auto"`` (native; a TF graph with an op that has
#: no native kernel in the TF session, with one line why).
Backend = Literal["auto", "native", "tf", "torch"]
BACKENDS: tuple[Backend, ...] = ("auto", "native", "tf", "torch")


def check_backend(backend: str) -> None:
    """Raise ValueError unless ``backend`` is one of :data:`BACKENDS`."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")


def native_ops() -> list[str]:
    """The TensorFlow op types the native evaluator runs.

    Example:
        >>> from spinfast.agent.policy import native_ops
        >>> {"MatMul", "Multinomial", "RandomStandardNormal"} <= set(native_ops())
        True
    """
    return _core.native_ops()


def _seed64(seed: int | None) -> int:
    """A 64-bit generator seed: ``seed`` itself (mod 2**64), or a fresh random one."""
    return secrets.randbits(64) if seed is None else int(seed) % 2**64


class NativePolicy(_core.NativePolicy):
    """One action output of a policy graph, compiled for native evaluation.

    Call it (or its ``act``) with one observation to get one action, as Spinning
    Up's ``get_action``; ``act_batch`` takes ``(N, *obs_shape)`` observations and
    returns N actions in one call. Both run in Rust with no Python frame per call.

    Arguments:
        graph: the policy's subgraph, from ``extract_policy_graph``.
        output: which output to act with: ``"pi"`` (sampled) or ``"mu"`` (SAC's mean).
        seed: seeds the sampling of stochastic policies (the same seed gives the same
            actions); None for a random seed.

    Attributes:
        action_key: ``output``.
        backend: ``"native"`` (a TF-session policy's is ``"tf"``).
        obs_shape: the observation shape (``x`` without its batch axis; None for a
            dimension the graph leaves open), or None when the graph does not say.

    Raises:
        NativePolicyError: the graph holds ops without a native kernel (all named),
            or something else keeps it from running natively.
        KeyError: ``graph`` has no such output.

    Example (a hand-built graph; real ones come from a saved agent)::

        >>> import numpy as np
        >>> from spinfast._core import GraphNode
        >>> from spinfast.agent.graph import PolicyGraph
        >>> from spinfast.agent.policy import NativePolicy
        >>> w = np.array([[1.0], [-1.0]], dtype=np.float32)
        >>> graph = PolicyGraph(input="x", outputs={"mu": "mu"}, nodes=(
        ...     GraphNode("x", "Placeholder", [], {"dtype": "float32", "shape": [-1, 2]}),
        ...     GraphNode("w", "Const", [], {"dtype": "float32"}, w),
        ...     GraphNode("y", "MatMul", [("x", 0), ("w", 0)], {}),
        ...     GraphNode("mu", "Tanh", [("y", 0)], {}),
        ... ))
        >>> policy = NativePolicy(graph, "mu")
        >>> policy(np.array([0.5, 0.25], dtype=np.float32)).round(6)  # one obs, one action
        array([0.244919], dtype=float32)
        >>> policy.act_batch(np.zeros((3, 2), dtype=np.float32)).shape
        (3, 1)
        >>> policy.obs_shape
        (2,)
    """

    def __new__(cls, graph: PolicyGraph, output: str = "pi", seed: int | None = None):
        if output not in graph.outputs:
            have = list(graph.outputs)
            raise KeyError(f"the policy graph has no output {output!r} (it has {have})")
        return super().__new__(cls, graph.nodes, graph.input, graph.outputs[output], _seed64(seed))

    def __init__(self, graph: PolicyGraph, output: str = "pi", seed: int | None = None) -> None:
        self.graph = graph
        self.action_key = output
        declared = self.input_shape
        self.obs_shape = None if declared is None else tuple(declared[1:])
        if self.obs_shape is not None and None not in self.obs_shape:
            # Lay out the batch-of-one plan now: a graph that cannot run fails at load.
            self.prepare([1, *self.obs_shape])

    backend = "native"

    #: Stacked observations in, their actions out (``act_batch``; the rollout itself
    #: evaluates a native policy in Rust, without this method).
    batch = _core.NativePolicy.act_batch

    def seed(self, seed: int | None) -> None:
        """Restart the sampling: the same seed gives the same actions again."""
        super().seed(_seed64(seed))

    def __repr__(self) -> str:
        return f"NativePolicy(action_key={self.action_key!r}, ops={sorted(self.graph.op_types)})"


def from_tf_policy(policy: TFPolicy, seed: int | None = None) -> NativePolicy:
    """Compile the action output of an agent loaded in a TF session.

    Arguments:
        policy: the agent as ``spinfast.agent.tf_model.TFPolicy`` loads it; it acts with
            the same output (``policy.action_key``).
        seed: seeds the native sampling (a different generator from TF's: the same
            seed repeats the native actions, not the TF session's).

    Raises:
        NativePolicyError: as :class:`NativePolicy`.
    """
    key = policy.action_key
    graph = extract_policy_graph(policy.session, policy.model["x"], {key: policy.model[key]})
    return NativePolicy(graph, key, seed)
