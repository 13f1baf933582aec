"""Turning a run's configuration into JSON, as Spinning Up's ``convert_json`` does.

Anything JSON can hold is kept as is; a function or class becomes its name; an
object becomes ``{str(obj): its attributes}``; anything else its ``str``.

Example:
    >>> from spinfast.writing.serialization import convert_json
    >>> class Net:
    ...     def __init__(self):
    ...         self.sizes = (64, 64)
    >>> convert_json({"lr": 3e-4, "activation": max, "seeds": [0, 1]})
    {'lr': 0.0003, 'activation': 'max', 'seeds': [0, 1]}
    >>> list(convert_json({"net": Net()})["net"].values())
    [{'sizes': (64, 64)}]
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["convert_json", "is_json_serializable"]


def convert_json(obj: Any) -> Any:
    """Convert obj to a version which can be serialized with JSON.

    The same result as Spinning Up's ``spinup.utils.serialization_utils.convert_json``
    wherever that one works. One difference: a tuple holding something JSON cannot
    hold becomes a list (Spinning Up returned a generator, on which ``json.dumps``
    then failed).

    Example:
        >>> convert_json((1, len))
        [1, 'len']
    """
    if is_json_serializable(obj):
        return obj
    if isinstance(obj, dict):
        return {convert_json(k): convert_json(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [convert_json(x) for x in obj]
    if hasattr(obj, "__name__") and "lambda" not in obj.__name__:
        return convert_json(obj.__name__)
    if hasattr(obj, "__dict__") and obj.__dict__:
        obj_dict = {convert_json(k): convert_json(v) for k, v in obj.__dict__.items()}
        return {str(obj): obj_dict}
    return str(obj)


def is_json_serializable(v: Any) -> bool:
    """Whether ``json.dumps`` accepts v.

    Example:
        >>> is_json_serializable({"a": [1, 2.5, None]}), is_json_serializable(object())
        (True, False)
    """
    try:
        json.dumps(v)
    except Exception:  # whatever json refuses (TypeError, ValueError, RecursionError...)
        return False
    return True
