"""Writing Spinning Up's experiment outputs from your own training code.

``Logger`` and ``EpochLogger`` have the API of Spinning Up's ``spinup.utils.logx``
and write the same bytes (progress.txt, config.json), plus the snapshots Spinning
Up's tools load (``vars[N].pkl`` and ``simple_save[N]/``). Unlike Spinning Up's,
they never lose an earlier run: an existing progress.txt is refused unless
``resume=True`` (then new rows are appended under its header, which
must have every column they log), and every file or
folder is written beside its place and renamed into it, so a crash mid-save
leaves the previous one whole.

Example:
    >>> import tempfile
    >>> from spinfast.logx import EpochLogger
    >>> out = tempfile.mkdtemp() + "/demo_s0"
    >>> logger = EpochLogger(output_dir=out, exp_name="demo")  # doctest: +ELLIPSIS
    \x1b[32;1mLogging data to .../progress.txt\x1b[0m
    >>> for epoch in range(2):
    ...     for ret in (1.0, 2.0, 6.0):
    ...         logger.store(EpRet=ret)
    ...     logger.log_tabular("Epoch", epoch)
    ...     logger.log_tabular("EpRet", with_min_and_max=True)
    ...     logger.dump_tabular()  # doctest: +ELLIPSIS
    -------------------------------------
    |           Epoch |               0 |
    |    AverageEpRet |               3 |
    |        StdEpRet |            2.16 |
    |        MaxEpRet |               6 |
    |        MinEpRet |               1 |
    -------------------------------------
    ...
    >>> logger.close()
    >>> for line in open(out + "/progress.txt"):  # tab-separated
    ...     print(line.rstrip("\\n").split("\\t"))
    ['Epoch', 'AverageEpRet', 'StdEpRet', 'MaxEpRet', 'MinEpRet']
    ['0', '3.0', '2.1602468', '6.0', '1.0']
    ['1', '3.0', '2.1602468', '6.0', '1.0']
"""

from __future__ import annotations

import atexit
import json
import os
import os.path as osp
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from typing import Any, TextIO

import numpy as np

from spinfast.errors import OutputExistsError, ProgressColumnsError
from spinfast.writing.serialization import convert_json
from spinfast.writing.user_config import new_dir

__all__ = ["EpochLogger", "Logger", "colorize", "statistics_scalar"]

color2num = dict(
    gray=30, red=31, green=32, yellow=33, blue=34, magenta=35, cyan=36, white=37, crimson=38
)

# Temporary names inside output_dir. They must not contain "simple_save" or
# "tf1_save": Spinning Up's loaders pick snapshots by that substring.
_TMP_PREFIX = ".spinfast-tmp-"


def colorize(string: str, color: str, bold: bool = False, highlight: bool = False) -> str:
    """Wrap a string in ANSI color codes, as Spinning Up does.

    Example:
        >>> colorize("done", "green", bold=True)
        '\\x1b[32;1mdone\\x1b[0m'
    """
    attr = []
    num = color2num[color]
    if highlight:
        num += 10
    attr.append(str(num))
    if bold:
        attr.append("1")
    return "\x1b[{}m{}\x1b[0m".format(";".join(attr), string)


def statistics_scalar(x: Any, with_min_and_max: bool = False) -> tuple[np.float32, ...]:
    """Mean and std (and min, max) of samples, computed as Spinning Up's logger does.

    The same float32 arithmetic as ``spinup.utils.mpi_tools.mpi_statistics_scalar``
    run in one process, so the values (and the digits written to progress.txt)
    are the same.

    Example:
        >>> [str(s) for s in statistics_scalar([1, 2, 6], with_min_and_max=True)]
        ['3.0', '2.1602468', '1.0', '6.0']
    """
    x = np.array(x, dtype=np.float32)
    n = np.float32(len(x))
    mean = np.float32(np.sum(x)) / n
    std = np.sqrt(np.float32(np.sum((x - mean) ** 2)) / n)
    if with_min_and_max:
        low = np.float32(np.min(x) if len(x) > 0 else np.inf)
        high = np.float32(np.max(x) if len(x) > 0 else -np.inf)
        return mean, std, low, high
    return mean, std


def _write_atomically(path: str, write: Any) -> None:
    """Call ``write(tmp_path)``, then rename tmp_path to path (replacing it).

    ``write`` creates tmp_path itself, so the file gets the usual permissions
    (``tempfile.mkstemp`` would make it private to the user).
    """
    tmp = osp.join(osp.dirname(path), f"{_TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


class Logger:
    """A general-purpose logger: diagnostics, configuration, state and model.

    Spinning Up's ``spinup.utils.logx.Logger``, same arguments, same output.

    Args:
        output_dir: the run's folder. ``None``: a new folder
            ``/tmp/experiments/<unix time>``.
        output_fname: the tab-separated file of diagnostics in it.
        exp_name: the experiment's name, added to config.json (the plotter
            groups runs by it).
        resume: append to an existing ``output_fname`` under its header instead
            of refusing to touch it.

    Raises:
        OutputExistsError: ``output_fname`` already holds rows and ``resume`` is
            false. Nothing has been written.

    Example:
        >>> import tempfile
        >>> out = tempfile.mkdtemp() + "/run"
        >>> logger = Logger(out)  # doctest: +ELLIPSIS
        \x1b[32;1mLogging data to ...\x1b[0m
        >>> logger.log_tabular("Epoch", 0)
        >>> logger.dump_tabular()  # doctest: +ELLIPSIS
        -------------------------------------
        ...
        >>> logger.close()
        >>> Logger(out)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        spinfast.errors.OutputExistsError: .../progress.txt: already holds a run; ...
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        output_fname: str = "progress.txt",
        exp_name: str | None = None,
        resume: bool = False,
    ) -> None:
        if output_dir is None:
            base = osp.join(tempfile.gettempdir(), "experiments", str(int(time.time())))
            self.output_dir = new_dir(base)
            os.makedirs(self.output_dir)
        else:
            self.output_dir = os.fspath(output_dir)
        path = osp.join(self.output_dir, output_fname)
        if output_dir is not None:
            if not resume and osp.isfile(path) and osp.getsize(path) > 0:
                raise OutputExistsError(path)
            if osp.exists(self.output_dir):
                print(
                    f"Warning: Log dir {self.output_dir} already exists! Storing info there anyway."
                )
            else:
                os.makedirs(self.output_dir)
        # the header of the rows already in the file, when resuming one
        self._resume_header = _prepare_resume(path) if resume else None
        mode = "a" if resume else "w"
        self.output_file: TextIO | None = open(path, mode, encoding="utf-8", newline="\n")
        atexit.register(self.output_file.close)
        print(colorize(f"Logging data to {self.output_file.name}", "green", bold=True))
        self.first_row = True
        self.log_headers: list[str] = []
        self.log_current_row: dict[str, Any] = {}
        self.exp_name = exp_name

    def close(self) -> None:
        """Close the progress file (Spinning Up leaves that to interpreter exit)."""
        if self.output_file is not None:
            self.output_file.close()
            atexit.unregister(self.output_file.close)

    def log(self, msg: str, color: str = "green") -> None:
        """Print a colorized message to stdout."""
        print(colorize(msg, color, bold=True))

    def log_tabular(self, key: str, val: Any) -> None:
        """Log a value of some diagnostic for this iteration.

        Call this once per diagnostic each iteration, then ``dump_tabular``. The
        first iteration fixes the columns.

        Raises:
            AssertionError: a key that the first iteration did not have, or one
                already set this iteration (as Spinning Up, also under ``python -O``).
        """
        if self.first_row:
            if key not in self.log_headers:
                self.log_headers.append(key)
        elif key not in self.log_headers:
            raise AssertionError(
                f"Trying to introduce a new key {key} that you didn't include in the first "
                "iteration"
            )
        if key in self.log_current_row:
            raise AssertionError(
                f"You already set {key} this iteration. Maybe you forgot to call dump_tabular()"
            )
        self.log_current_row[key] = val

    def save_config(self, config: Mapping[str, Any]) -> None:
        """Write config.json: the run's configuration, as Spinning Up writes it.

        Anything JSON cannot hold is written as informatively as possible (see
        ``spinfast.writing.serialization.convert_json``); ``exp_name`` is added.

        Example::

            logger = EpochLogger(**logger_kwargs)
            logger.save_config(locals())
        """
        config_json = convert_json(config)
        if self.exp_name is not None:
            config_json = {**config_json, "exp_name": self.exp_name}
        output = json.dumps(config_json, separators=(",", ":\t"), indent=4, sort_keys=True)
        print(colorize("Saving config:\n", color="cyan", bold=True))
        print(output)

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8", newline="\n") as out:
                out.write(output)

        _write_atomically(osp.join(self.output_dir, "config.json"), write)

    def save_state(self, state_dict: dict[str, Any], itr: int | None = None) -> None:
        """Save the state of training: ``vars[itr].pkl`` and the model set up for saving.

        ``state_dict`` (usually ``{'env': env}``) goes to ``vars.pkl`` through
        joblib, the graph given to ``setup_tf_saver`` to ``simple_save/``, and the
        model given to ``setup_pytorch_saver`` to ``pyt_save/model.pt``; with
        ``itr``, to ``vars<itr>.pkl``, ``simple_save<itr>/`` and
        ``pyt_save/model<itr>.pt``, so that every snapshot is kept. If state_dict
        cannot be pickled, a warning is printed and the rest is saved (as in
        Spinning Up); any earlier vars file is kept.
        """
        import joblib

        fname = "vars.pkl" if itr is None else f"vars{itr:d}.pkl"
        try:
            _write_atomically(
                osp.join(self.output_dir, fname), lambda tmp: joblib.dump(state_dict, tmp)
            )
        except Exception as e:
            self.log("Warning: could not pickle state_dict.", color="red")
            self.log(f"({type(e).__name__}: {e})", color="red")
        if hasattr(self, "tf_saver_elements"):
            self._tf_simple_save(itr)
        if hasattr(self, "pytorch_saver_elements"):
            self._pytorch_simple_save(itr)

    def setup_pytorch_saver(self, what_to_save: Any) -> None:
        """Set up saving a PyTorch model (or anything holding models) with every
        ``save_state``, as Spinning Up does: ``torch.save`` of the whole object to
        ``pyt_save/model[itr].pt`` (needs torch: ``pip install "spinfast[torch]"``).
        """
        self.pytorch_saver_elements = what_to_save

    def _pytorch_simple_save(self, itr: int | None = None) -> None:
        """``torch.save`` the object given to ``setup_pytorch_saver`` to
        ``pyt_save/model[itr].pt``, written beside it and renamed in."""
        import warnings

        import torch

        fpath = osp.join(self.output_dir, "pyt_save")
        os.makedirs(fpath, exist_ok=True)
        fname = osp.join(fpath, "model" + (f"{itr:d}" if itr is not None else "") + ".pt")
        # written under its own name in a folder beside it (torch names the zip's top
        # folder after the file), then renamed in
        work = tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=fpath)
        try:
            with warnings.catch_warnings():
                # Spinning Up pickles the whole module: torch warns that it cannot save
                # the classes' source code
                warnings.simplefilter("ignore")
                torch.save(self.pytorch_saver_elements, osp.join(work, osp.basename(fname)))
            os.replace(osp.join(work, osp.basename(fname)), fname)
        finally:
            shutil.rmtree(work)

    def setup_tf_saver(self, sess: Any, inputs: Mapping[str, Any], outputs: Mapping[str, Any]):
        """Set up saving a TF1 graph with every ``save_state``.

        Call once, after defining the graph and before training.

        Args:
            sess: the ``tf.compat.v1.Session`` in which the graph is trained.
            inputs: names of your choice -> placeholders (all those the outputs
                need), e.g. ``{'x': x_ph}``.
            outputs: names of your choice -> tensors, e.g. ``{'pi': pi, 'v': v}``.
        """
        self.tf_saver_elements = dict(session=sess, inputs=dict(inputs), outputs=dict(outputs))
        self.tf_saver_info = {
            "inputs": {k: v.name for k, v in inputs.items()},
            "outputs": {k: v.name for k, v in outputs.items()},
        }

    def _tf_simple_save(self, itr: int | None = None) -> None:
        """Write ``simple_save[itr]/`` as ``tf.saved_model.simple_save`` does, plus
        model_info.pkl (the tensor names), into a temporary folder beside it, then
        rename that into place."""
        import joblib
        import tensorflow as tf

        v1 = tf.compat.v1
        fpath = osp.join(self.output_dir, "simple_save" + (f"{itr:d}" if itr is not None else ""))
        sess = self.tf_saver_elements["session"]
        work = tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self.output_dir)
        try:
            export = osp.join(work, "new")
            with sess.graph.as_default():
                signature = v1.saved_model.predict_signature_def(
                    self.tf_saver_elements["inputs"], self.tf_saver_elements["outputs"]
                )
                builder = v1.saved_model.Builder(export)
                builder.add_meta_graph_and_variables(
                    sess,
                    tags=[v1.saved_model.tag_constants.SERVING],
                    signature_def_map={
                        v1.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: (
                            signature
                        )
                    },
                    assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
                    clear_devices=True,
                    saver=self._tf_graph_saver(v1),
                )
                builder.save()
            joblib.dump(self.tf_saver_info, osp.join(export, "model_info.pkl"))
            if osp.exists(fpath):
                # the previous snapshot stays whole until the new one is complete
                os.rename(fpath, osp.join(work, "previous"))
            os.rename(export, fpath)
        finally:
            shutil.rmtree(work)

    def _tf_graph_saver(self, v1: Any) -> Any:
        """The Saver simple_save would make, made once per set of variables.

        simple_save adds a new Saver's ops to the graph at every call, so the graph
        (and every saved_model.pb) grew with each snapshot; spinfast reuses one.
        """
        saveables = v1.get_collection(v1.GraphKeys.GLOBAL_VARIABLES) + v1.get_collection(
            v1.GraphKeys.SAVEABLE_OBJECTS
        )
        key = [id(s) for s in saveables]
        cached = getattr(self, "_tf_saver_cache", None)
        if cached is None or cached[0] != key:
            saver = v1.train.Saver(
                saveables, sharded=True, write_version=v1.train.SaverDef.V2, allow_empty=True
            )
            cached = self._tf_saver_cache = (key, saver)
        return cached[1]

    def dump_tabular(self) -> None:
        """Write this iteration's diagnostics: the table to stdout, a row to the file.

        Raises:
            ValueError: nothing was logged yet.
            ProgressColumnsError: resuming a file whose header lacks a column
                of this run's first iteration (nothing is written).
        """
        if not self.log_headers:
            raise ValueError("dump_tabular: nothing was logged; call log_tabular first")
        if self.first_row and self._resume_header is not None:
            self._adopt_resume_header()
        vals = []
        key_lens = [len(key) for key in self.log_headers]
        max_key_len = max(15, max(key_lens))
        fmt = f"| %{max_key_len}s | %15s |"
        n_slashes = 22 + max_key_len
        print("-" * n_slashes)
        for key in self.log_headers:
            val = self.log_current_row.get(key, "")
            valstr = "%8.3g" % val if hasattr(val, "__float__") else val  # noqa: UP031 (as Spinning Up)
            print(fmt % (key, valstr))
            vals.append(val)
        print("-" * n_slashes, flush=True)
        if self.output_file is not None:
            if self.first_row and self._resume_header is None:
                self.output_file.write("\t".join(self.log_headers) + "\n")
            self.output_file.write("\t".join(map(str, vals)) + "\n")
            self.output_file.flush()
        self.log_current_row.clear()
        self.first_row = False

    def _adopt_resume_header(self) -> None:
        """Check this run's columns against the resumed file's, and use its order.

        Columns of the file that this run does not log are left empty, as in
        any row after the first; a column the file lacks is refused.
        """
        header = self._resume_header or []
        extra = [k for k in self.log_headers if k not in header]
        if extra:
            assert self.output_file is not None
            missing = [k for k in header if k not in self.log_headers]
            raise ProgressColumnsError(self.output_file.name, missing=missing, extra=extra)
        self.log_headers = list(header)


class EpochLogger(Logger):
    """A Logger that averages what was stored over an epoch.

    Spinning Up's ``spinup.utils.logx.EpochLogger``: ``store`` values as they
    come, then ``log_tabular(key)`` logs their mean and std (and min, max).

    Example:
        >>> import tempfile
        >>> logger = EpochLogger(tempfile.mkdtemp() + "/run")  # doctest: +ELLIPSIS
        \x1b[32;1mLogging data to ...\x1b[0m
        >>> logger.store(LossPi=0.5, EpLen=10)
        >>> logger.store(LossPi=1.5, EpLen=30)
        >>> [str(s) for s in logger.get_stats("EpLen")]
        ['20.0', '10.0']
        >>> logger.log_tabular("LossPi", average_only=True)
        >>> logger.log_current_row
        {'LossPi': np.float32(1.0)}
        >>> logger.close()
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.epoch_dict: dict[str, list[Any]] = dict()

    def store(self, **kwargs: Any) -> None:
        """Save values (numbers or numpy arrays) into this epoch's state."""
        for k, v in kwargs.items():
            self.epoch_dict.setdefault(k, []).append(v)

    def log_tabular(
        self,
        key: str,
        val: Any = None,
        with_min_and_max: bool = False,
        average_only: bool = False,
    ) -> None:
        """Log a value, or the mean/std/min/max of the values stored under key.

        Args:
            key: the diagnostic's name; with no ``val``, the key given to ``store``.
            val: a value to log as is. Leave out for stored values.
            with_min_and_max: also log ``Max<key>`` and ``Min<key>``.
            average_only: log ``<key>`` (the mean) only, not
                ``Average<key>`` and ``Std<key>``.
        """
        if val is not None:
            super().log_tabular(key, val)
        else:
            stats = statistics_scalar(self._epoch_values(key), with_min_and_max=with_min_and_max)
            super().log_tabular(key if average_only else "Average" + key, stats[0])
            if not average_only:
                super().log_tabular("Std" + key, stats[1])
            if with_min_and_max:
                super().log_tabular("Max" + key, stats[3])
                super().log_tabular("Min" + key, stats[2])
        self.epoch_dict[key] = []

    def get_stats(self, key: str) -> tuple[np.float32, ...]:
        """The mean and std of the values stored under key this epoch."""
        return statistics_scalar(self._epoch_values(key))

    def _epoch_values(self, key: str) -> Any:
        if key not in self.epoch_dict:
            raise KeyError(f"nothing was stored under {key!r}: call store({key}=...) first")
        v = self.epoch_dict[key]
        if not v:
            raise ValueError(f"nothing was stored under {key!r} since it was last logged")
        return np.concatenate(v) if isinstance(v[0], np.ndarray) and len(v[0].shape) > 0 else v


def _prepare_resume(path: str) -> list[str] | None:
    """The header of the progress file to append to (None if it has none yet).

    A last row cut off mid-write (no final newline: a crash) is removed and
    printed, so that new rows start on a line of their own.
    """
    if not osp.isfile(path):
        return None
    with open(path, "rb+") as f:
        data = f.read()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            print(
                colorize(
                    f"Warning: {path} ended in an unfinished row, removed before appending: "
                    f"{data[keep:].decode('utf-8', 'replace')!r}",
                    "red",
                    bold=True,
                )
            )
            f.truncate(keep)
    if keep == 0:
        return None
    return data[: data.index(b"\n")].decode("utf-8").rstrip("\r").split("\t")
