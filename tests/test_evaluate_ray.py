"""spinfast evaluate --ray: on a local Ray head started here (loopback, 2 CPUs), the same
table as the local pool, row for row, even when a Ray worker is killed mid-task.

Ray is an optional extra (``pip install 'spinfast[ray]'``): without it this module is
skipped; the local pool is tested without Ray in test_evaluate.py.
"""

from __future__ import annotations

import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

ray = pytest.importorskip("ray", reason="ray is an optional extra: pip install 'spinfast[ray]'")
tf = pytest.importorskip("tensorflow", reason="the tf extra is not installed: pip install '.[tf]'")

import pandas.testing as pdt  # noqa: E402

import saved_agents as sa  # noqa: E402
import spinfast  # noqa: E402
from spinfast.evaluate import evaluate, read_results  # noqa: E402
from test_evaluate import (  # noqa: E402, F401 (fixtures)
    PROTOCOL,
    PROTOCOL_FLAGS,
    bad_sweep,
    frame,
    results,
    row_of,
    sweep,
    without_seconds,
)

TESTS = osp.dirname(osp.abspath(__file__))
#: where the Ray workers import spinfast and the test envs (vars.pkl names them) from
PYTHONPATH = os.pathsep.join(
    [TESTS, osp.dirname(osp.dirname(spinfast.__file__)), os.environ.get("PYTHONPATH", "")]
)
#: the heads started here are local and short-lived: no token to generate and share
NO_AUTH = {"RAY_AUTH_MODE": "disabled"}


@pytest.fixture(scope="module")
def ray_head():
    """A local Ray head in this process: 2 CPUs, no dashboard."""
    saved = {k: os.environ.get(k) for k in NO_AUTH}
    os.environ.update(NO_AUTH)
    ray.init(
        address="local",  # a new head, never a cluster found running on the machine
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": PYTHONPATH}},
    )
    yield
    ray.shutdown()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _descends_from_me(pid: int) -> bool:
    me = os.getpid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])  # the parent's pid
        except (OSError, ValueError, IndexError):
            return False
        if pid == me:
            return True
    return False


def _running_tasks() -> list[int]:
    """Our Ray workers now running an evaluate task (Ray titles them ray::<task name>)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read()
        except OSError:
            continue
        if title.startswith(b"ray::spinfast_evaluate") and _descends_from_me(int(entry)):
            found.append(int(entry))
    return found


class Killer(threading.Thread):
    """Kills (SIGKILL) the first of our Ray workers seen running an evaluate task."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.killed: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _running_tasks()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                self.killed = pids[0]
                return
            time.sleep(0.02)


def test_a_worker_killed_mid_run_and_the_table_is_the_local_one(ray_head, sweep, frame):  # noqa: F811
    killer = Killer()
    killer.start()
    try:
        on_ray = evaluate(sweep, **PROTOCOL, ray="auto", retries=2)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed is not None, "no Ray worker was seen running a task"
    assert not osp.exists(f"/proc/{killer.killed}/cmdline") or _zombie(killer.killed)
    assert on_ray["error"].isna().all(), on_ray["error"].tolist()
    pdt.assert_frame_equal(without_seconds(on_ray), without_seconds(frame))


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_bad_rows_on_ray_are_the_local_ones(ray_head, bad_sweep, tmp_path):  # noqa: F811
    """The same errors as the local pool's; a task whose worker always dies fails after
    its retries, and the rest of the sweep goes on."""
    runs = [bad_sweep / name for name in ("good_s0", "raises_s0", "no-vars_s0", "killed_s0")]
    on_ray = evaluate(*runs, episodes=2, deterministic=True, snapshots=[0], ray="auto",
                      retries=1, out=tmp_path / "ray.csv")  # fmt: skip
    assert row_of(on_ray, "good_s0", 0).AverageEpRet == sa.line_return(0.0)
    assert row_of(on_ray, "raises_s0", 0).error == "RuntimeError: this env is broken on purpose"
    assert row_of(on_ray, "no-vars_s0", 0).error.startswith("Environment not found! ")
    died = row_of(on_ray, "killed_s0", 0).error
    assert died.startswith("the Ray task failed after 1 retries: "), died
    assert read_results(tmp_path / "ray.csv").shape[0] == 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_cluster_at_the_address_is_one_line_in_seconds(capsys, sweep):  # noqa: F811
    from spinfast.cli import main

    if ray.is_initialized():
        ray.shutdown()  # this process's head, from the tests above
    start = time.monotonic()
    code = main(["evaluate", str(sweep / "sac-a_s0"), "--ray", f"127.0.0.1:{_free_port()}"])
    err = capsys.readouterr().err
    assert code == 1
    assert time.monotonic() - start < 30
    [line] = err.strip().splitlines()
    assert line.startswith("error: --ray 127.0.0.1:") and "no Ray cluster answers at" in line


def test_the_command_on_a_ray_start_head_cluster(sweep, frame, tmp_path):  # noqa: F811
    """``ray start --head --block`` on this machine (stopped by its process group), then
    ``spinfast evaluate --ray 127.0.0.1:PORT`` in another process: the local table."""
    if ray.is_initialized():
        ray.shutdown()  # this process's head, from the tests above
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, **NO_AUTH}
    ray_cli = osp.join(osp.dirname(sys.executable), "ray")
    head = subprocess.Popen(
        [ray_cli, "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
         "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
         "--disable-usage-stats"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        out = tmp_path / "results.csv"
        argv = [str(sweep), *map(str, PROTOCOL_FLAGS), "--out", str(out),
                "--ray", f"127.0.0.1:{port}"]  # fmt: skip
        deadline = time.monotonic() + 120
        while True:  # until the head answers
            proc = subprocess.run(
                [sys.executable, "-m", "spinfast", "evaluate", *argv],
                env=env, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if proc.returncode == 0 or time.monotonic() > deadline:
                break
            if "ConnectionError" not in proc.stderr and "connect" not in proc.stderr.lower():
                break
            time.sleep(2)
        assert proc.returncode == 0, proc.stderr
        on_ray = evaluate(sweep, **PROTOCOL, out=out)  # read back from the file
        pdt.assert_frame_equal(without_seconds(on_ray), without_seconds(frame))
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # the head and the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
