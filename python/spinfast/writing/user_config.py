"""Where experiment outputs go by default: Spinning Up's ``spinup/user_config.py``.

``DEFAULT_DATA_DIR`` is the environment variable ``SPINFAST_DATA_DIR`` if set,
else ``data`` under the working directory at import time (Spinning Up's was the
``data`` folder of its cloned repo; spinfast is installed, not cloned). Set
either attribute here to change the default for the whole program.

Example:
    >>> import os
    >>> from spinfast.writing import user_config
    >>> os.path.isabs(user_config.DEFAULT_DATA_DIR)
    True
"""

from __future__ import annotations

import os
import os.path as osp

__all__ = ["DEFAULT_DATA_DIR", "FORCE_DATESTAMP", "new_dir"]


def _default_data_dir() -> str:
    configured = os.environ.get("SPINFAST_DATA_DIR")
    if configured:
        return osp.abspath(osp.expanduser(configured))
    return osp.join(os.getcwd(), "data")


# Where experiment outputs are saved by default.
DEFAULT_DATA_DIR: str = _default_data_dir()

# Whether to always put a date and time stamp into the names of output folders.
FORCE_DATESTAMP: bool = False


def new_dir(base: str) -> str:
    """A folder name that is free: ``base``, or ``base_1``, ``base_2``, ... where taken.

    The folder is not created: the logger that writes there creates it.
    """
    path, n = base, 0
    while osp.exists(path):
        n += 1
        path = f"{base}_{n}"
    return path
