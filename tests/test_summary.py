"""``spinfast summary``: one line per run, the errors, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import write_run


@pytest.fixture
def logdir(tmp_path):
    data = tmp_path / "data"
    write_run(
        data / "ppo" / "ppo_s3",
        "Epoch\tAverageEpRet\n0\t10.5\n1\t30.25\n2\t20\n",
        {"exp_name": "ppo", "seed": 3},
    )
    write_run(
        data / "sac" / "sac_s7",
        "Epoch\tAverageEpRet\tAverageTestEpRet\n0\t1\t-5\n1\t2\tnan\n",
        {"exp_name": "sac"},
    )
    write_run(data / "ppo" / "ppo_s4", "Epoch\tAverageEpRet\n0\t1\n1\t2\t3\n")
    return data


def spinfast(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "spinfast"] if module else ["spinfast"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("module", [False, True])
def test_text_lines(logdir, module):
    result = spinfast("summary", f"{logdir}/", module=module)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["experiment", "seed", "epochs", "last_perf", "best_perf", "path"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if not line.startswith("error")}
    assert rows["ppo"][1:5] == ["3", "3", "20.000", "30.250"]
    # sac: AverageTestEpRet is its performance; the last is NaN, the best ignores NaN;
    # its seed comes from the folder name.
    assert rows["sac"][1:5] == ["7", "2", "-", "-5.000"]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1
    assert str(logdir / "ppo" / "ppo_s4" / "progress.txt") in errors[0]
    assert "line 3" in errors[0]


def test_json(logdir):
    result = spinfast("summary", "--json", f"{logdir}/")
    assert result.returncode == 0
    out = json.loads(result.stdout)
    ppo = next(r for r in out["runs"] if r["experiment"] == "ppo")
    assert ppo == {
        "experiment": "ppo",
        "seed": 3,
        "epochs": 3,
        "last_performance": 20.0,
        "best_performance": 30.25,
        "truncated": False,
        "path": str(logdir / "ppo" / "ppo_s3"),
    }
    [error] = out["errors"]
    assert error["path"] == str(logdir / "ppo" / "ppo_s4" / "progress.txt")
    assert error["line"] == 3
    assert "3 tab-separated fields but the header has 2" in error["reason"]


def test_exit_1_when_nothing_read(tmp_path):
    write_run(tmp_path / "dead" / "dead_s0", b"")
    result = spinfast("summary", f"{tmp_path}/")
    assert result.returncode == 1
    assert "the file is empty" in result.stdout
    # errors only: no table header over zero rows, just the error lines
    [line] = result.stdout.splitlines()
    assert line.startswith(f"error: {tmp_path / 'dead' / 'dead_s0' / 'progress.txt'}")
    nothing = spinfast("summary", str(tmp_path / "missing"))
    assert nothing.returncode == 1
    assert "no progress.txt found under" in nothing.stderr
    assert nothing.stdout == ""


def test_header_once_rows_exist(tmp_path):
    """One good run beside a broken one: the header, the row, the error; exit 0."""
    write_run(tmp_path / "dead" / "dead_s0", b"")
    write_run(tmp_path / "ppo" / "ppo_s0", "Epoch\tAverageEpRet\n0\t1.5\n", {"exp_name": "ppo"})
    result = spinfast("summary", f"{tmp_path}/")
    assert result.returncode == 0, result.stderr
    header, row, error = result.stdout.splitlines()
    assert header.split() == ["experiment", "seed", "epochs", "last_perf", "best_perf", "path"]
    assert row.split() == ["ppo", "0", "1", "1.500", "1.500", str(tmp_path / "ppo" / "ppo_s0")]
    assert error.startswith("error: ") and "the file is empty" in error


def test_unknown_command_and_help():
    assert spinfast("frobnicate").returncode == 2
    helped = spinfast("--help")
    assert helped.returncode == 0 and "summary" in helped.stdout
