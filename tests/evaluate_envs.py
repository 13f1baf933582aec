"""Envs that fail in the ways a sweep must survive, pickled into test agents' vars.pkl.

They live in a module of their own (not a test file) so that worker processes,
local or Ray, can import them when they unpickle vars.pkl: tests/ is on their path.
"""

from __future__ import annotations

import os
import signal

from saved_agents import LineEnv


class RaisingEnv(LineEnv):
    """LineEnv whose step raises: the row gets the error, the sweep goes on."""

    def step(self, action):
        raise RuntimeError("this env is broken on purpose")


class KillingEnv(LineEnv):
    """LineEnv that kills its own process (SIGKILL) at its first step, as a crash in
    native code or the OOM killer would; with a ``marker`` path, only the first time
    (it creates the file), so that a retry succeeds."""

    def __init__(self, marker: str | None = None) -> None:
        super().__init__()
        self.marker = marker

    def step(self, action):
        if self.marker is None or not os.path.exists(self.marker):
            if self.marker is not None:
                with open(self.marker, "w") as f:
                    f.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return super().step(action)
