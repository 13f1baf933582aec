"""Output folders named as Spinning Up's run_utils names them; the default data dir."""

from __future__ import annotations

import importlib
import os
import time

import pytest

from spinfast import run_utils
from spinfast.writing import user_config
from spinningup_source import load_spinup


@pytest.mark.parametrize("datestamp", [False, True])
@pytest.mark.parametrize("seed", [None, 0, 42])
def test_folder_names_are_spinning_ups(tmp_path, monkeypatch, seed, datestamp):
    spinup_run_utils = load_spinup(tmp_path, monkeypatch, "spinup.utils.run_utils")
    frozen = time.localtime(1_700_000_000)  # both read the clock through time.strftime
    real_strftime = time.strftime
    monkeypatch.setattr(time, "strftime", lambda fmt, t=frozen: real_strftime(fmt, t))
    args = dict(exp_name="ppo-cartpole", seed=seed, data_dir="/runs", datestamp=datestamp)
    assert run_utils.setup_logger_kwargs(**args) == spinup_run_utils.setup_logger_kwargs(**args)


def test_force_datestamp(monkeypatch):
    monkeypatch.setattr(user_config, "FORCE_DATESTAMP", True)
    out = run_utils.setup_logger_kwargs("vpg", seed=1, data_dir="/runs")["output_dir"]
    day = time.strftime("%Y-%m-%d")
    assert out.startswith(f"/runs/{day}_vpg/{day}_") and out.endswith("-vpg_s1")


def test_default_data_dir_from_environment_or_working_directory(tmp_path, monkeypatch):
    try:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("SPINFAST_DATA_DIR", raising=False)
        importlib.reload(user_config)
        assert user_config.DEFAULT_DATA_DIR == os.path.join(str(tmp_path), "data")
        assert run_utils.setup_logger_kwargs("e", seed=3) == {
            "output_dir": os.path.join(str(tmp_path), "data", "e", "e_s3"),
            "exp_name": "e",
        }
        monkeypatch.setenv("SPINFAST_DATA_DIR", "elsewhere")
        importlib.reload(user_config)
        assert user_config.DEFAULT_DATA_DIR == str(tmp_path / "elsewhere")
    finally:
        monkeypatch.undo()
        importlib.reload(user_config)
