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

# Native policy inference (rust/src/policy/, wrapped in rust/src/python/policy.rs).

_AttrValue = bool | int | float | str | list[int]
_Node = tuple[str, str, list[tuple[str, int]], dict[str, _AttrValue], npt.NDArray[Any] | None]

def native_ops() -> list[str]:
    """The TensorFlow op types the native evaluator runs."""

class NativePolicy:
    """One action output of a policy graph, compiled into Rust kernels.

    Subclassed by :class:`spinfast.native_policy.NativePolicy`, which builds it
    from a :class:`spinfast.policy_graph.PolicyGraph`. For each observation shape a plan
    (shapes, buffers, folded constants) is laid out on first use and kept (up to 8);
    calls then allocate nothing in the evaluator (for a batch of more than one row,
    matrixmultiply's sgemm allocates its packing scratch inside each product). The
    GIL is held while it runs.

    Arguments:
        nodes: ``(name, op, inputs, attrs, value)`` per node, inputs as
            ``(node, output index)``; ``value`` a float32/int32/int64 array for
            constants and variables.
        input: the observation placeholder's node name.
        output: the action node's name (its first output).
        seed: seeds the ChaCha8 generator used by RandomStandardNormal and Multinomial.

    Raises:
        NativePolicyError: an op without a kernel (``ops`` lists them all), an
            unsupported dtype, or a graph that does not compute the output from
            the input alone.
    """

    def __init__(self, nodes: list[_Node], input: str, output: str, seed: int) -> None: ...
    def seed(self, seed: int) -> None:
        """Restart the sampling generator."""
    def prepare(self, shape: Sequence[int]) -> None:
        """Lay out the plan for observations of ``shape`` (batch first) now."""
    @property
    def input_shape(self) -> list[int | None] | None:
        """The placeholder's declared shape (None: any size), or None if undeclared."""
    def act(self, obs: npt.ArrayLike) -> Any:
        """One observation in, one action out: row 0 of the batch of one, as a NumPy
        array, or a NumPy scalar for a scalar action (e.g. np.int64 for a category).

        Raises:
            ValueError: ``obs`` does not fit the placeholder's shape.
        """
    def __call__(self, obs: npt.ArrayLike) -> Any:
        """The same as :meth:`act`."""
    def act_batch(self, obs: npt.ArrayLike) -> npt.NDArray[Any]:
        """``(N, *obs_shape)`` observations in, the N actions out.

        Raises:
            ValueError: ``obs`` does not fit the placeholder's shape.
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
