"""A PyTorch agent run by torch itself: ``--policy torch`` (the ``torch`` extra).

Spinning Up's own way (``spinup/utils/test_policy.py``'s ``load_pytorch_policy``):
``torch.load`` of the whole module, then ``model.act(obs)``. Unpickling the module
runs code the file names and needs its classes importable (``spinup`` or the fork
that trained it), so spinfast does this only when asked; by default a PyTorch
agent is read and run natively (:func:`spinfast.agent.load.load_agent`).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

__all__ = ["TorchPolicy"]


class TorchPolicy:
    """A ``model.pt`` loaded with ``torch.load(weights_only=False)``; call it with one
    observation to get one action.

    Arguments:
        path: the ``model.pt`` file.
        deterministic: act with SAC's deterministic action (``act(obs, True)``); other
            actor-critics act as saved.
        seed: seeds torch's generator for the sampling.

    Attributes:
        action_key: ``"mu"`` (SAC, deterministic) or ``"pi"``.
        backend: ``"torch"``.
    """

    backend = "torch"
    obs_shape = None

    def __init__(self, path: str, deterministic: bool = False, seed: int | None = None) -> None:
        import torch

        self._torch = torch
        self.generator_seed = seed
        if seed is not None:
            torch.manual_seed(seed)
        self.model = torch.load(path, map_location="cpu", weights_only=False)
        takes = inspect.signature(self.model.act).parameters
        self._kwargs = {"deterministic": True} if deterministic and "deterministic" in takes else {}
        self.action_key = "mu" if self._kwargs else "pi"

    def __call__(self, obs: Any) -> Any:
        with self._torch.no_grad():
            return self.model.act(self._torch.as_tensor(np.asarray(obs), dtype=self._torch.float32),
                                  **self._kwargs)  # fmt: skip

    def batch(self, obs: Any) -> Any:
        """Actions for a batch of observations, ``(n, *obs_shape)``."""
        return self(obs)
