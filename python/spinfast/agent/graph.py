"""The policy part of a Spinning Up TF1 graph, as plain data for the native evaluator.

A Spinning Up agent's SavedModel (``simple_save/`` or ``tf1_save/``) holds the whole
training graph. Acting needs only the nodes from the observation placeholder ``x``
to the action output (``pi``, or ``mu`` for a deterministic SAC action). This
module walks the loaded graph back from those outputs to ``x`` and keeps, for each
node, its op type, data inputs, plain attributes, and for constants and variables
their values, read once from the session.

Example (``sess`` holds a loaded agent; ``model`` is what ``restore_tf_graph`` gives)::

    graph = extract_policy_graph(sess, model["x"], {"pi": model["pi"]})
    graph.op_types        # {'Placeholder', 'MatMul', 'BiasAdd', 'Tanh', ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from spinfast._core import GraphNode, PolicyGraph

if TYPE_CHECKING:  # TensorFlow is an optional extra, imported by the caller
    import tensorflow as tf

__all__ = ["GraphNode", "PolicyGraph", "extract_policy_graph"]

#: Element types the evaluator takes constants in.
VALUE_DTYPES = ("float32", "int32", "int64")

AttrValue = bool | int | float | str | list[int]


def extract_policy_graph(
    sess: tf.compat.v1.Session, x: tf.Tensor, outputs: Mapping[str, tf.Tensor]
) -> PolicyGraph:
    """Take the subgraph from ``x`` to ``outputs`` out of a session's graph.

    Arguments:
        sess: a session holding the loaded agent (variables restored).
        x: the observation placeholder.
        outputs: the action tensors by key, e.g. ``{"pi": model["pi"], "mu": model["mu"]}``.

    Returns:
        The nodes with their values: constants from the graph, variables read from
        ``sess`` in one run. Control inputs are left out (they carry no value).
    """
    ops = _upstream(x.op, [t.op for t in outputs.values()])
    values = _values(sess, ops)
    nodes = [
        GraphNode(
            name=op.name,
            op=op.type,
            inputs=[(t.op.name, t.value_index) for t in op.inputs] if op is not x.op else [],
            attrs=_attrs(op),
            value=values.get(op.name),
        )
        for op in ops
    ]
    return PolicyGraph(
        input=x.op.name,
        outputs={key: t.op.name for key, t in outputs.items()},
        nodes=nodes,
    )


def _upstream(stop: tf.Operation, starts: list[tf.Operation]) -> list[tf.Operation]:
    """Ops the ``starts`` depend on through data inputs, not past ``stop``; inputs first."""
    order: list[tf.Operation] = []
    seen: set[str] = set()
    stack: list[tuple[tf.Operation, bool]] = [(op, False) for op in reversed(starts)]
    while stack:
        op, expanded = stack.pop()
        if expanded:
            order.append(op)
            continue
        if op.name in seen:
            continue
        seen.add(op.name)
        stack.append((op, True))
        if op is not stop:
            stack.extend((t.op, False) for t in reversed(op.inputs) if t.op.name not in seen)
    return order


def _values(sess: tf.compat.v1.Session, ops: list[tf.Operation]) -> dict[str, np.ndarray]:
    """Values of constants (from the graph) and variables (from the session)."""
    import tensorflow as tf

    values: dict[str, np.ndarray] = {}
    to_read: dict[str, tf.Tensor] = {}
    for op in ops:
        if op.type == "Const" and _dtype_name(op, "dtype") in VALUE_DTYPES:
            values[op.name] = tf.make_ndarray(op.get_attr("value"))
        elif op.type == "VariableV2" and _dtype_name(op, "dtype") in VALUE_DTYPES:
            to_read[op.name] = op.outputs[0]
        elif op.type == "ReadVariableOp" and op.inputs[0].op.type == "VarHandleOp":
            # A resource variable's value is read through the ReadVariableOp that
            # the policy already has, so the loaded graph is left unchanged.
            handle = op.inputs[0].op
            if _dtype_name(handle, "dtype") in VALUE_DTYPES:
                to_read.setdefault(handle.name, op.outputs[0])
    if to_read:
        read = sess.run(to_read)
        values.update({name: np.asarray(value) for name, value in read.items()})
    return {name: np.ascontiguousarray(value) for name, value in values.items()}


def _dtype_name(op: tf.Operation, key: str) -> str:
    import tensorflow as tf

    return tf.dtypes.as_dtype(op.node_def.attr[key].type).name


def _attrs(op: tf.Operation) -> dict[str, AttrValue]:
    """Plain attribute values: dtypes by name, shapes as dims (-1 unknown), int lists."""
    import tensorflow as tf

    attrs: dict[str, AttrValue] = {}
    for key, value in op.node_def.attr.items():
        kind = value.WhichOneof("value")
        if key.startswith("_") or kind in (None, "tensor", "func", "placeholder"):
            continue
        if kind == "b":
            attrs[key] = bool(value.b)
        elif kind == "i":
            attrs[key] = int(value.i)
        elif kind == "f":
            attrs[key] = float(value.f)
        elif kind == "s":
            attrs[key] = value.s.decode("utf-8", "replace")
        elif kind == "type":
            attrs[key] = tf.dtypes.as_dtype(value.type).name
        elif kind == "shape" and not value.shape.unknown_rank:
            attrs[key] = [int(d.size) for d in value.shape.dim]
        elif kind == "list" and not (value.list.s or value.list.type or value.list.shape):
            attrs[key] = [int(i) for i in value.list.i]
    return attrs
