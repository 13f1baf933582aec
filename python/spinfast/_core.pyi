"""Type stub for ``spinfast._core``, the compiled Rust module.

Users call the documented wrappers in ``spinfast``; this stub tells readers,
IDEs and type checkers what crosses the boundary. ``python -m mypy.stubtest
spinfast._core`` (run by CI) checks that it says exactly what the module has.

Every exception the module raises is one of ``spinfast.errors`` (bound once, in
``rust/src/python/errors.rs``), a ``ValueError``, or a ``RuntimeError`` for an
internal error (a Rust panic, caught: none crosses into Python).
"""

from collections.abc import Callable, Sequence
from os import PathLike
from typing import Any, final

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

from spinfast.errors import ProgressParseError

__all__ = [
    "Episode",
    "GraphNode",
    "NativeEnv",
    "NativePolicy",
    "PolicyGraph",
    "RunFolder",
    "Table",
    "episode_numbers",
    "native_env_ids",
    "native_ops",
    "read_progress",
    "read_run_folders",
    "read_saved_model",
    "read_torch_model",
    "rollout",
]

# --- progress.txt (rust/src/progress/, wrapped in rust/src/python/progress.rs) -------------

@final
class Table:
    """One progress.txt, read."""

    @property
    def columns(self) -> list[str]:
        """The column names, in file order."""
    @property
    def values(self) -> npt.NDArray[np.float64]:
        """``(n_columns, n_rows)`` float64, each column contiguous (the Rust buffer,
        handed over without a copy)."""
    @property
    def truncated(self) -> bool:
        """The file ended in a row cut mid-write or a block of NUL bytes (a crash)."""

@final
class RunFolder:
    """What :func:`read_run_folders` found in one run folder."""

    @property
    def table(self) -> Table | None:
        """The progress.txt table, or None when it could not be read."""
    @property
    def error(self) -> ProgressParseError | None:
        """The error reading progress.txt gave (returned, not raised), or None."""
    @property
    def config_json(self) -> str | None:
        """The text of config.json, or None when it is absent or not UTF-8."""

def read_progress(path: str | PathLike[str]) -> Table:
    """Read and parse one progress.txt with the GIL released.

    Raises:
        ProgressParseError: the file is missing, empty, not UTF-8, has a row with
            more fields than the header, or a cell that is not a number.
    """

def read_run_folders(
    folders: Sequence[str | PathLike[str]], threads: int | None = None
) -> list[RunFolder]:
    """Read ``progress.txt`` and ``config.json`` of many run folders in parallel.

    The GIL is released while rayon reads and parses on ``threads`` threads
    (default: one per core). A broken file, or a panic while parsing it, is that
    folder's ``error``; the others are read all the same.

    Returns:
        One :class:`RunFolder` per folder, in input order.

    Raises:
        ValueError: ``threads`` is 0.
    """

# --- native policies (rust/src/policy/, wrapped in rust/src/python/policy.rs) --------------

_AttrValue = bool | int | float | str | list[int]

def native_ops() -> list[str]:
    """The TensorFlow op types the native evaluator runs."""

@final
class GraphNode:
    """One node of a policy graph: op type, data inputs, plain attributes, and the
    value of a constant or variable. Nodes compare equal when all of that is equal.

    Arguments:
        name: the node's name, e.g. ``pi/dense/MatMul``.
        op: the TensorFlow op type, e.g. ``MatMul``.
        inputs: data inputs as ``(node name, output index)``.
        attrs: bools, ints, floats, strings (dtypes by name), int lists (shapes,
            with -1 for an unknown dimension).
        value: a float32/int32/int64 array for a constant or variable, else None.
    """

    def __new__(
        cls,
        name: str,
        op: str,
        inputs: Sequence[tuple[str, int]],
        attrs: dict[str, _AttrValue],
        value: npt.NDArray[Any] | None = None,
    ) -> GraphNode: ...
    @property
    def name(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def inputs(self) -> list[tuple[str, int]]: ...
    @property
    def attrs(self) -> dict[str, _AttrValue]: ...
    @property
    def value(self) -> npt.NDArray[Any] | None: ...

@final
class PolicyGraph:
    """The part of a saved agent's graph that acting needs: the nodes its action
    outputs depend on, back to the observation input.

    Arguments:
        input: the observation input's node name (Spinning Up's ``x``).
        outputs: output key (``"pi"``, ``"mu"``) to node name.
        nodes: every node an output depends on, inputs first.
        description: what the graph was read from, in one line (None: empty).
    """

    def __new__(
        cls,
        input: str,
        outputs: dict[str, str],
        nodes: Sequence[GraphNode],
        description: str | None = None,
    ) -> PolicyGraph: ...
    @property
    def input(self) -> str: ...
    @property
    def outputs(self) -> dict[str, str]: ...
    @property
    def nodes(self) -> list[GraphNode]: ...
    @property
    def description(self) -> str: ...
    @property
    def op_types(self) -> set[str]:
        """The op types of the nodes."""

# --- saved agents read natively (rust/src/savedmodel/, rust/src/torch/; python/agents.rs) --

def read_saved_model(
    path: str | PathLike[str], tensors: dict[str, str] | None = None
) -> PolicyGraph:
    """Read a TF1 SavedModel folder (``simple_save[N]/``, ``tf1_save[N]/``) without
    TensorFlow: the protobuf graph and the TensorBundle checkpoint (every checksum
    verified), with the GIL released.

    Arguments:
        path: the snapshot folder.
        tensors: Spinning Up's keys to tensor names (``model_info.pkl``'s inputs and
            outputs, with ``x`` and ``pi``); None: the ``serving_default`` signature.

    Returns:
        The graph from ``x`` to ``pi`` (and ``mu`` where there is one).

    Raises:
        SnapshotError: a file missing, truncated, corrupt (a checksum), or of a kind
            not read (compressed blocks, a big-endian bundle, a partitioned variable,
            a dtype); no ``x`` or ``pi``; a tensor ``tensors`` names is not in the graph.
    """

def read_torch_model(path: str | PathLike[str]) -> PolicyGraph:
    """Read a Spinning Up PyTorch ``model.pt`` (zip or legacy format) without torch:
    a pickle reader that calls nothing the file names, with the GIL released. The
    actor is recognised by its structure (categorical, Gaussian, DDPG/TD3's, SAC's).

    Returns:
        The actor as a graph with input ``x`` and outputs ``pi`` (and ``mu`` for SAC).

    Raises:
        SnapshotError: the file cannot be read, is malformed, or names a function to
            call that is not a tensor-rebuilding one (refused, naming it; nothing runs).
        NativePolicyError: not one of Spinning Up's actor-critics (its classes named).
    """

@disjoint_base
class NativePolicy:
    """One action output of a policy graph, compiled into Rust kernels.

    Subclassed by :class:`spinfast.agent.policy.NativePolicy`, which builds it
    from a :class:`spinfast.agent.graph.PolicyGraph`. For each observation shape a
    plan (shapes, buffers, folded constants) is laid out on first use and kept (up
    to 8); calls then allocate nothing in the evaluator (for a batch of more than
    one row, matrixmultiply's sgemm allocates its packing scratch inside each
    product). The GIL is held while it runs. :func:`rollout` evaluates it directly
    in Rust, with no Python call.

    Arguments:
        nodes: the graph's nodes.
        input: the observation placeholder's node name.
        output: the action node's name (its first output).
        seed: seeds the ChaCha8 generator used by RandomStandardNormal and Multinomial.

    Raises:
        NativePolicyError: an op without a kernel (``ops`` lists them all), an
            unsupported dtype, or a graph that does not compute the output from
            the input alone.
    """

    def __new__(
        cls, nodes: Sequence[GraphNode], input: str, output: str, seed: int
    ) -> NativePolicy: ...
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

# --- native envs (rust/src/envs/, wrapped in rust/src/python/envs.rs) ---------------------

def native_env_ids() -> list[str]:
    """The Gymnasium ids :class:`NativeEnv` makes."""

@disjoint_base
class NativeEnv:
    """One of Gymnasium's classic-control envs stepped in Rust, wrapped as
    ``gymnasium.make`` wraps it (time limit, order enforcing). Subclassed by
    :class:`spinfast.native.NativeEnv` with Gymnasium's API; :func:`rollout` steps it
    in Rust when the policy is native too.

    Raises:
        gymnasium.error.NameNotFound: an id that is not one of :func:`native_env_ids`.
        TypeError: a keyword the env does not take.
    """

    def __new__(
        cls,
        id: str,
        *,
        max_episode_steps: int | None = None,
        sutton_barto_reward: bool | None = None,
        g: float | None = None,
        goal_velocity: float | None = None,
    ) -> NativeEnv: ...
    def native_reset(
        self, seed: int | None = None, options: dict[str, float] | None = None
    ) -> npt.NDArray[np.float32]:
        """Start an episode; the first observation. Seeds and options as Gymnasium's."""
    def native_step(self, action: Any) -> tuple[npt.NDArray[np.float32], float, bool, bool]:
        """One step: ``(obs, reward, terminated, truncated)``; actions checked as
        Gymnasium checks them, with its exceptions."""
    def set_generator(self, state: int, inc: int, seed: int | None = None) -> None:
        """Continue from a NumPy ``PCG64``'s state (``bit_generator.state["state"]``)
        and Gymnasium's ``np_random_seed``: the next unseeded reset draws what the
        Python env's would."""
    def set_constants(self, constants: dict[str, float | bool | str]) -> list[str]:
        """Set constants by their attribute names on Gymnasium's env; the names this
        env does not have."""
    @property
    def observation_bounds(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]: ...
    @property
    def action_bounds(
        self,
    ) -> int | tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """``n`` for a discrete action space, else its ``(low, high)``."""
    @property
    def np_random_seed(self) -> int | None: ...

# --- the episode loop (rust/src/rollout/, wrapped in rust/src/python/rollout.rs) -----------

@final
class Episode:
    """One finished episode. Episodes compare equal when all three fields are equal."""

    def __new__(cls, index: int, ret: float, length: int) -> Episode: ...
    @property
    def index(self) -> int:
        """Its number, from 0: episode ``k`` resets with seed ``seed + k``."""
    @property
    def ret(self) -> float:
        """Its return: the sum of its rewards."""
    @property
    def length(self) -> int:
        """Its number of steps."""
    def __reduce__(self) -> tuple[type[Episode], tuple[int, float, int]]: ...

def episode_numbers(num_episodes: int, num_envs: int) -> list[list[int]]:
    """The loop's plan: for each env, the numbers of the episodes it runs, in order.
    Env ``i`` runs ``(num_episodes + i) // num_envs`` (stable-baselines3's shares),
    numbered round by round in env order.

    Raises:
        ValueError: ``num_episodes`` or ``num_envs`` is 0.
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
    on_episode: Callable[[Episode], object] | None = None,
    progress: bool = False,
) -> list[Episode]:
    """Run episodes on ``envs`` stepped in lockstep: the loop behind
    :func:`spinfast.agent.rollout.run_episodes` (which documents the rules).

    Each step renders the running envs (``render``: ``env.render()`` then a 1 ms
    sleep), acts on their observations, then steps each env. When the policy is a
    :class:`NativePolicy` and every env a :class:`NativeEnv`, the whole loop runs
    in Rust with the GIL released (the GIL is taken to call ``on_episode``, and
    every 1,000 env steps to check for signals); from 32 such envs on, their steps
    are spread over the cores, with the same results. The policy is a
    :class:`NativePolicy` (evaluated here, on the observations batched in Rust),
    or a callable called once per observation, or, with ``batched`` and a
    ``batch`` method, once per step on ``numpy.stack(observations)``. Env ``i``
    runs ``(num_episodes + i) // len(envs)`` episodes (stable-baselines3's
    shares); episodes are numbered round by round in env order, and episode ``k``
    resets with seed ``seed + k``, the way ``spinfast.agent.envs.reset_style``
    says, asked once per env. ``env.step``'s 5-tuple (Gymnasium) or 4-tuple (old
    gym) is read here; anything else goes to ``spinfast.agent.envs.unpack_step``.

    Arguments:
        envs: the envs, at least one.
        policy: the policy; see above.
        num_episodes: how many episodes, at least 1.
        batched: call the policy's ``batch`` method, when it has one.
        max_ep_len: end an episode after this many steps; None or 0: no limit.
        seed: the first episode's reset seed; None: unseeded resets.
        on_episode: called with each episode, in index order, as soon as it and
            all before it have ended.
        progress: draw a progress bar on stderr when it is a terminal.

    Returns:
        The episodes, in index order.

    Raises:
        Whatever the envs, the policy or ``on_episode`` raise, with its traceback;
        KeyboardInterrupt on Ctrl-C (signals are checked after every step);
        EnvironmentMismatch: a seed was asked for and an env takes none;
        ValueError: no envs, ``num_episodes`` 0, a policy giving a wrong number
            of actions, envs giving observations of different shapes to a native
            policy, or ``seed + k`` beyond 64 bits.
    """
