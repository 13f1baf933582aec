"""The saved agents in a Spinning Up output folder: which snapshots exist, and which one to load.

Spinning Up's ``Logger.save_state(state, itr)`` writes a snapshot of the agent and
a pickle of the state (the environment) beside it::

    output_dir/
        simple_save/    simple_save10/   ...   (TF1, the first releases)
        tf1_save/       tf1_save10/      ...   (TF1, later releases)
        pyt_save/model.pt  pyt_save/model10.pt ...  (PyTorch, the releases since 2020)
        vars.pkl        vars10.pkl       ...   (the state saved with each snapshot)

A TF snapshot folder holds ``saved_model.pb``, ``variables/`` and usually
``model_info.pkl`` (the names of the input and output tensors); a PyTorch one is
the file ``torch.save`` wrote of the whole actor-critic module. This module finds
them and reads ``model_info.pkl`` with TensorFlow nowhere in sight.

Example:
    >>> import os, tempfile
    >>> from spinfast.agent.snapshots import find_snapshot, list_snapshots
    >>> out = tempfile.mkdtemp()
    >>> for name in ("simple_save0", "simple_save10", "simple_save"):
    ...     os.makedirs(os.path.join(out, name))
    >>> [s.name for s in list_snapshots(out)]
    ['simple_save', 'simple_save0', 'simple_save10']
    >>> find_snapshot(out, "last", check=False).name
    'simple_save10'
"""

from __future__ import annotations

import io
import os
import os.path as osp
import pickle
import re
from dataclasses import dataclass
from typing import Literal, final

from spinfast.errors import SnapshotError

__all__ = ["Snapshot", "find_snapshot", "list_snapshots", "read_model_info", "require_agent"]

#: Snapshot layouts; where two hold the same number, the first wins (Spinning Up's
#: ``load_policy_and_env`` prefers tf1_save to pyt_save).
LAYOUTS = ("tf1_save", "simple_save", "pyt_save")
_SNAPSHOT_NAME = re.compile(r"^(tf1_save|simple_save)(\d*)$")
_MODEL_FILE = re.compile(r"^model(\d*)\.pt$")
#: What a TF snapshot folder must hold (model_info.pkl may be missing: Spinning Up's
#: .gitignore drops *.pkl, and the graph's serving signature names the tensors too).
SNAPSHOT_FILES = ("saved_model.pb", "variables")


@final
@dataclass(frozen=True, slots=True)
class Snapshot:
    """One saved agent in an output folder.

    Attributes:
        folder: the output folder.
        layout: ``"simple_save"``, ``"tf1_save"`` (TF1 SavedModels) or ``"pyt_save"``
            (a PyTorch ``model.pt``).
        itr: the snapshot's number, or None for the unnumbered one.
    """

    folder: str
    layout: str
    itr: int | None

    @property
    def name(self) -> str:
        """The snapshot's name in the output folder, e.g. ``simple_save10`` or
        ``pyt_save/model10.pt``."""
        number = "" if self.itr is None else str(self.itr)
        return f"pyt_save/model{number}.pt" if self.layout == "pyt_save" else self.layout + number

    @property
    def path(self) -> str:
        """The snapshot folder (TF) or file (PyTorch)."""
        return osp.join(self.folder, self.name)

    @property
    def vars_path(self) -> str:
        """The state pickle saved with this snapshot: ``vars.pkl`` or ``varsN.pkl``."""
        return osp.join(self.folder, "vars" + ("" if self.itr is None else str(self.itr)) + ".pkl")


def list_snapshots(folder: str | os.PathLike[str]) -> list[Snapshot]:
    """Every snapshot folder in an output folder, unnumbered first, then by number.

    Raises:
        SnapshotError: the folder does not exist, or is not a folder.
    """
    folder = os.fspath(folder)
    if not osp.exists(folder):
        raise SnapshotError("no such folder", folder)
    if not osp.isdir(folder):
        raise SnapshotError("is not a folder (give the output folder of a run)", folder)
    found = []
    for entry in os.listdir(folder):
        match = _SNAPSHOT_NAME.match(entry)
        if match and osp.isdir(osp.join(folder, entry)):
            layout, digits = match.groups()
            found.append(Snapshot(folder, layout, int(digits) if digits else None))
    pyt_save = osp.join(folder, "pyt_save")
    for entry in os.listdir(pyt_save) if osp.isdir(pyt_save) else ():
        match = _MODEL_FILE.match(entry)
        if match and osp.isfile(osp.join(pyt_save, entry)):
            found.append(Snapshot(folder, "pyt_save", int(match[1]) if match[1] else None))
    order = {layout: i for i, layout in enumerate(LAYOUTS)}
    return sorted(found, key=lambda s: (s.itr is not None, s.itr or 0, order[s.layout]))


def find_snapshot(
    folder: str | os.PathLike[str], itr: int | Literal["last"] = "last", check: bool = True
) -> Snapshot:
    """The snapshot to load: number ``itr``, or with ``"last"`` the highest number
    (else the unnumbered one), as Spinning Up's ``load_policy`` picks it.

    Where two layouts hold the same number, ``tf1_save`` wins, then
    ``simple_save``, then ``pyt_save``.

    Arguments:
        folder: a run's output folder.
        itr: a snapshot number, or ``"last"``.
        check: also check that a TF snapshot folder holds saved_model.pb and
            variables/.

    Raises:
        SnapshotError: no such folder, no snapshot in it, no snapshot ``itr``
            (the message lists those that exist), or an incomplete snapshot.
    """
    folder = os.fspath(folder)
    if itr != "last" and (isinstance(itr, bool) or not isinstance(itr, int) or itr < 0):
        raise ValueError(f"itr must be a snapshot number (an int >= 0) or 'last', not {itr!r}")
    snapshots = list_snapshots(folder)
    if not snapshots:
        raise SnapshotError(_no_snapshot_reason(folder), folder)
    if itr == "last":
        numbered = [s for s in snapshots if s.itr is not None]
        best = max(s.itr for s in numbered) if numbered else None
        chosen = next(s for s in snapshots if s.itr == best)
    else:
        chosen = next((s for s in snapshots if s.itr == itr), None)
        if chosen is None:
            names = ", ".join(s.name for s in snapshots)
            raise SnapshotError(f"no snapshot number {itr}; the snapshots here: {names}", folder)
    if check and chosen.layout != "pyt_save":
        for name in SNAPSHOT_FILES:
            if not osp.exists(osp.join(chosen.path, name)):
                raise SnapshotError(
                    f"incomplete snapshot: no {name} (a snapshot holds "
                    f"{', '.join(SNAPSHOT_FILES)}; was the save interrupted?)",
                    chosen.path,
                )
    return chosen


def _no_snapshot_reason(folder: str) -> str:
    if osp.isdir(osp.join(folder, "pyt_save")):
        return "its pyt_save/ holds no model.pt or modelN.pt"
    return (
        "not a Spinning Up output folder with a saved agent: it has no simple_save/, "
        "tf1_save/ or pyt_save/ snapshot"
    )


class _PlainDataUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, tuples, strings and numbers; refuses every class,
    so that reading the file cannot run code."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, and only plain data is read")


def read_model_info(snapshot_path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Read a snapshot's ``model_info.pkl``: the tensor names of its inputs and outputs.

    Spinning Up writes ``{'inputs': {'x': 'Placeholder:0', ...}, 'outputs':
    {'pi': ..., 'v': ...}}`` with joblib; it is read here as plain data only
    (no class is ever imported), so a tampered file cannot run code.

    Raises:
        SnapshotError: the file is missing, is not a plain-data pickle, or is
            not the dict of dicts of strings Spinning Up writes.
    """
    path = osp.join(os.fspath(snapshot_path), "model_info.pkl")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise SnapshotError(f"cannot be read ({err.strerror})", path) from None
    try:
        info = _PlainDataUnpickler(io.BytesIO(data)).load()
    except Exception as err:  # any malformed pickle: it is data, never trusted
        raise SnapshotError(
            f"is not the model_info.pkl Spinning Up writes (a pickled dict of tensor names): {err}",
            path,
        ) from None
    problem = _model_info_problem(info)
    if problem:
        raise SnapshotError(f"is not the model_info.pkl Spinning Up writes: {problem}", path)
    return info


def _model_info_problem(info: object) -> str | None:
    if not isinstance(info, dict) or set(info) != {"inputs", "outputs"}:
        keys = sorted(map(str, info)) if isinstance(info, dict) else type(info).__name__
        return f"expected a dict with 'inputs' and 'outputs', found {keys}"
    for part in ("inputs", "outputs"):
        names = info[part]
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in names.items()
        ):
            return f"'{part}' must map names to tensor names (strings)"
    return None


def require_agent(tensors: dict[str, object], path: str) -> None:
    """Check that a snapshot's tensors (from model_info.pkl) are an agent's: an input
    ``x`` and an output ``pi``.

    Raises:
        SnapshotError: one is missing (the message lists what the snapshot has).
    """
    for key, role in (("x", "input"), ("pi", "output")):
        if key not in tensors:
            raise SnapshotError(
                f"model_info.pkl has no {role} {key!r}, so this is not an agent to run "
                f"(it has {sorted(tensors)}); restore_tf_graph still loads it",
                path,
            )
