"""Naming a run's output folder as Spinning Up does (``spinup/utils/run_utils.py``).

Example:
    >>> from spinfast.run_utils import setup_logger_kwargs
    >>> setup_logger_kwargs("ppo-cartpole", seed=10, data_dir="/data")
    {'output_dir': '/data/ppo-cartpole/ppo-cartpole_s10', 'exp_name': 'ppo-cartpole'}
"""

from __future__ import annotations

import os.path as osp
import time

from spinfast.writing import user_config

__all__ = ["setup_logger_kwargs"]


def setup_logger_kwargs(
    exp_name: str, seed: int | None = None, data_dir: str | None = None, datestamp: bool = False
) -> dict[str, str]:
    """The ``output_dir`` and ``exp_name`` for a Logger, in Spinning Up's layout.

    - no seed, no datestamp: ``data_dir/exp_name``
    - a seed: ``data_dir/exp_name/exp_name_s[seed]``
    - datestamp: ``data_dir/YYYY-MM-DD_exp_name/YYYY-MM-DD_HH-MM-SS-exp_name_s[seed]``

    Args:
        exp_name: the experiment's name.
        seed: the run's random seed.
        data_dir: where outputs go; default ``spinfast.writing.user_config.DEFAULT_DATA_DIR``.
        datestamp: put the date and time into the folder names (always, if
            ``spinfast.writing.user_config.FORCE_DATESTAMP``).

    Returns:
        ``dict(output_dir=..., exp_name=...)``, to pass as ``EpochLogger(**kwargs)``.

    Example:
        >>> setup_logger_kwargs("vpg", data_dir="/data")["output_dir"]
        '/data/vpg'
    """
    datestamp = datestamp or user_config.FORCE_DATESTAMP
    ymd_time = time.strftime("%Y-%m-%d_") if datestamp else ""
    relpath = "".join([ymd_time, exp_name])
    if seed is not None:
        if datestamp:
            hms_time = time.strftime("%Y-%m-%d_%H-%M-%S")
            subfolder = "".join([hms_time, "-", exp_name, "_s", str(seed)])
        else:
            subfolder = "".join([exp_name, "_s", str(seed)])
        relpath = osp.join(relpath, subfolder)
    data_dir = data_dir or user_config.DEFAULT_DATA_DIR
    return dict(output_dir=osp.join(data_dir, relpath), exp_name=exp_name)
