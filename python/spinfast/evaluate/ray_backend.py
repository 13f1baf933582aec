"""The Ray backend (``--ray auto|ADDRESS``, the optional ``ray`` extra): one Ray task per
(run, snapshot) on an existing cluster.

Each task runs :func:`spinfast.evaluate.worker.run_task`, the function the local
pool runs, so the rows are the same. A task whose worker process dies is retried
by Ray (``max_retries``); past that its row gets the error. The workers read the
run folders at the paths the driver found them (absolute paths): the folders
must be on a filesystem every node sees at the same path, and spinfast (with its
``tf`` extra) must be installed on every node.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from spinfast.evaluate.tasks import Protocol, Task, error_row
from spinfast.evaluate.worker import run_task

__all__ = ["RayUnavailable", "run_ray"]


class RayUnavailable(RuntimeError):
    """Ray is not installed, or no Ray cluster answers at the address given."""


def _import_ray() -> Any:
    try:
        import ray
    except ModuleNotFoundError as err:
        if err.name != "ray":
            raise
        raise RayUnavailable(
            "--ray needs Ray, an optional extra: pip install 'spinfast[ray]'"
        ) from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail in seconds when no Ray cluster answers at ``address``, where ``ray.init`` would
    retry for minutes: resolve it as Ray does (``auto``: ``RAY_ADDRESS``, else the
    cluster last started on this machine), then open a TCP connection to it."""
    if address.startswith("ray://"):  # Ray Client: its own handshake
        return
    try:
        from ray._private.services import canonicalize_bootstrap_address_or_die
    except ImportError:  # a Ray without it: ray.init will say
        return
    try:
        bootstrap = canonicalize_bootstrap_address_or_die(address)
    except ConnectionError as err:
        raise RayUnavailable(f"--ray {address}: {err}") from None
    host, _, port = bootstrap.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except (OSError, ValueError) as err:
        raise RayUnavailable(
            f"--ray {address}: no Ray cluster answers at {bootstrap} ({err}); start one with "
            "'ray start --head', or give the address of a running one"
        ) from None


def run_ray(
    tasks: Sequence[Task],
    protocol: Protocol,
    on_row: Callable[[int, dict[str, Any]], None],
    address: str = "auto",
    retries: int = 1,
) -> None:
    """Evaluate ``tasks`` as Ray tasks; ``on_row(i, row)`` as each finishes.

    Connects with ``ray.init(address)`` unless this process is connected already
    (then that cluster is used, and left connected). On ``KeyboardInterrupt``
    the tasks not finished are cancelled and the exception goes on.
    """
    if not tasks:
        return
    ray = _import_ray()
    connected_here = not ray.is_initialized()
    if connected_here:
        _check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, ValueError) as err:
            raise RayUnavailable(f"--ray {address}: no Ray cluster to connect to ({err})") from None
    evaluate = ray.remote(run_task).options(
        name="spinfast_evaluate", num_cpus=1, max_retries=retries
    )
    refs = {evaluate.remote(task, protocol): i for i, task in enumerate(tasks)}
    try:
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                i = refs.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as err:
                    reason = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
                    row = error_row(
                        tasks[i],
                        protocol,
                        f"the Ray task failed after {retries} retries: "
                        f"{type(err).__name__}: {reason}",
                    )
                on_row(i, row)
    finally:
        for ref in refs:
            ray.cancel(ref, force=True)
        if connected_here:
            ray.shutdown()
