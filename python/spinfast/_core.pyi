"""Type stub for ``spinfast._core``, the compiled Rust module.

Users call the documented wrappers in ``spinfast``; this stub tells readers,
IDEs and type checkers what crosses the boundary.
"""

from collections.abc import Callable, Sequence
from os import PathLike
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from spinfast.errors import ProgressParseError

T = TypeVar("T")

_Table = tuple[list[str], npt.NDArray[np.float64], bool]

def read_progress(path: str | PathLike[str]) -> _Table:
    """Read and parse one progress.txt with the GIL released.

    Arguments:
        path: the file.

    Returns:
        ``(columns, values, truncated)``: the column names in file order; a
        ``(n_columns, n_rows)`` float64 array (each column contiguous); and
        whether the file ended in a row cut mid-write or a block of NUL bytes.

    Raises:
        ProgressParseError: the file is missing, empty, not UTF-8, has a row with
            more fields than the header, or a cell that is not a number.
    """

def read_run_folders(
    folders: Sequence[str | PathLike[str]], threads: int | None = None
) -> list[tuple[_Table | ProgressParseError, str | None]]:
    """Read ``progress.txt`` and ``config.json`` of many run folders in parallel.

    The GIL is released while rayon reads and parses on ``threads`` threads
    (default: one per core). A panic while parsing one file becomes that file's
    error.

    Arguments:
        folders: run folders, each expected to hold a progress.txt.
        threads: number of threads, at least 1; None for rayon's default pool.

    Returns:
        One ``(table_or_error, config_text)`` per folder, in input order: the
        table as from :func:`read_progress`, or the ``ProgressParseError`` it
        would have raised (returned, not raised); and the text of config.json,
        or None when it is absent or not UTF-8.

    Raises:
        ValueError: ``threads`` is 0.
    """

def rollout(
    envs: Sequence[Any],
    policy: Callable[[Any], Any],
    num_episodes: int,
    *,
    batched: bool = False,
    max_ep_len: int | None = None,
    render: bool = False,
    seed: int | None = None,
    on_episode: Callable[[int, float, int], object] | None = None,
    progress: bool = False,
) -> list[tuple[int, float, int]]:
    """Run episodes on ``envs`` stepped in lockstep: the Rust engine behind
    :func:`spinfast.engines.run_engine` (which documents the rules).

    Each step renders the running envs (``render``: ``env.render()`` then a 1 ms
    sleep), calls ``policy`` once per observation, or once on
    ``numpy.stack(observations)`` giving one action per row (``batched``), then
    steps each env. Env ``i`` runs ``(num_episodes + i) // len(envs)`` episodes
    (stable-baselines3's shares); episodes are numbered round by round in env
    order, and episode ``k`` resets with ``spinfast.envs.reset(env, seed + k)``.
    ``env.step``'s 5-tuple (Gymnasium) or 4-tuple (old gym) is read here;
    anything else goes to ``spinfast.envs.unpack_step``.

    Arguments:
        envs: the envs, at least one.
        policy: the policy; see ``batched``.
        num_episodes: how many episodes, at least 1.
        max_ep_len: end an episode after this many steps; None or 0: no limit.
        seed: the first episode's reset seed; None: unseeded resets.
        on_episode: called with ``(index, return, length)`` of each episode, in
            index order, as soon as it and all before it have ended.
        progress: draw a progress bar on stderr when it is a terminal.

    Returns:
        ``(index, return, length)`` per episode, in index order.

    Raises:
        Whatever the envs, the policy or ``on_episode`` raise, with its traceback;
        KeyboardInterrupt on Ctrl-C (signals are checked after every step);
        ValueError: no envs, ``num_episodes`` 0, a batched policy giving a wrong
            number of actions, or ``seed + k`` beyond 64 bits;
        RuntimeError: an internal error (a Rust panic, caught).
    """

class EpisodeBar:
    """The rollout's progress bar (episodes done of ``total``, env steps, steps
    per second) on stderr, drawn only when ``visible`` and stderr is a terminal.
    The Python engine uses it; the Rust engine draws its own."""

    def __init__(self, total: int, visible: bool = True) -> None: ...
    def advance(self, steps: int, episodes: int) -> None:
        """Count ``steps`` more env steps and ``episodes`` more finished episodes."""
    @property
    def steps(self) -> int:
        """The env steps counted so far."""
    def suspend(self, f: Callable[[], T]) -> T:
        """Call ``f()`` with the bar off the screen (for printing), and return its result."""
    def close(self) -> None:
        """Take the bar off the screen for good."""
