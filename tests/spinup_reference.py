"""Spinning Up's own plotter loader, read from a local mirror of openai/spinningup.

Tests use it as the oracle for run discovery and the long table. The mirror is
not part of this repo (and its code is never copied here); without it those tests
skip. Set SPINUP_MIRROR to a bare git dir or a checkout of openai/spinningup.
"""

from __future__ import annotations

import os
import subprocess
import types
from pathlib import Path

import pytest

MIRROR = Path(os.environ.get("SPINUP_MIRROR", "/work/.mirror/openai+spinningup/repo"))


def spinup_source(path: str) -> str:
    """The text of ``path`` (e.g. ``spinup/utils/plot.py``) in the mirror, or skip."""
    if (MIRROR / path).is_file():
        return (MIRROR / path).read_text()
    if not MIRROR.exists():
        pytest.skip(f"no openai/spinningup mirror at {MIRROR} (set SPINUP_MIRROR to use one)")
    try:
        return subprocess.run(
            ["git", "-C", str(MIRROR), "show", f"HEAD:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"cannot read {path} from the mirror at {MIRROR}: {err}")


def spinup_plot_module() -> types.ModuleType:
    """A fresh copy of spinup/utils/plot.py (fresh globals: exp_idx and units at 0)."""
    module = types.ModuleType("spinup_plot")
    exec(
        compile(spinup_source("spinup/utils/plot.py"), "spinup/utils/plot.py", "exec"),
        module.__dict__,
    )
    return module
