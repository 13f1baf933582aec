"""spinfast.curves.plot: the drawn curves equal the mean over seeds computed with pandas.

Each figure's lines are read back from its Axes and compared with an oracle built
independently: every progress.txt read with ``pandas.read_table``, smoothed with
``Series.rolling(center=True, min_periods=1).mean()`` (the same window mean as
Spinning Up's ``np.convolve`` smoothing), then ``groupby(x).agg(estimator)``. One
test also runs Spinning Up's own plotter (from ../shared/spinningup) up to the call
that no longer exists in seaborn, and compares with the table it would have drawn.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="spinfast plot needs the 'plot' extra (matplotlib)")
pytest.importorskip("seaborn", reason="spinfast plot needs the 'plot' extra (seaborn)")
pd = pytest.importorskip("pandas", reason="spinfast plot needs the 'plot' extra (pandas)")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from conftest import write_run  # noqa: E402
from spinfast import cli as spinfast_run  # noqa: E402
from spinfast.cli.plot import main  # noqa: E402
from spinfast.curves.plot import PlotError, PlotNote, make_plots, smooth_curve  # noqa: E402
from spinningup_source import spinup_plot_module  # noqa: E402

EXPERIMENTS = ("exp-ppo", "exp-sac", "exp-vpg")
SEEDS = (0, 10, 20)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- generated sweeps


def write_table(folder: Path, columns: dict, config: dict | None) -> Path:
    """A run folder whose progress.txt holds ``columns``; returns the progress.txt path."""
    return (
        write_run(folder, pd.DataFrame(columns).to_csv(sep="\t", index=False), config)
        / "progress.txt"
    )


def make_sweep(
    root: Path,
    *,
    seed: int = 0,
    ragged: bool = True,
    steps: int = 1000,
    experiments: tuple[str, ...] = EXPERIMENTS,
) -> dict[str, list[Path]]:
    """experiments x SEEDS runs; sac logs AverageTestEpRet too; only ppo logs LossV.

    With ``ragged``, seeds stop at different epochs (a sweep killed mid-way).
    Returns the progress.txt paths by experiment name.
    """
    rng = np.random.default_rng(seed)
    sweep: dict[str, list[Path]] = {}
    for k, exp in enumerate(experiments):
        for j, s in enumerate(SEEDS):
            epochs = 12 - 3 * j if ragged else 12
            ret = np.cumsum(rng.normal(k, 3.0, epochs)).round(4)
            columns = {
                "Epoch": np.arange(epochs),
                "AverageEpRet": ret,
                "StdEpRet": rng.uniform(0, 2, epochs).round(4),
            }
            if exp.endswith("sac"):
                columns["AverageTestEpRet"] = (ret + rng.normal(0, 1, epochs)).round(4)
            if exp.endswith("ppo"):
                columns["LossV"] = rng.uniform(0, 1, epochs).round(4)
            columns["TotalEnvInteracts"] = steps * (np.arange(epochs) + 1)
            config = {"exp_name": exp, "seed": s}
            path = write_table(root / exp / f"{exp}_s{s}", columns, config)
            sweep.setdefault(exp, []).append(path)
    return sweep


def expected_curves(
    sweep: dict[str, list[Path]],
    value: str,
    *,
    xaxis: str = "TotalEnvInteracts",
    smooth: int = 1,
    estimator: str = "mean",
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """label -> (estimate, standard deviation) over the label's runs at each x, by pandas."""
    frames = []
    for label, paths in sweep.items():
        for path in paths:
            table = pd.read_table(path)
            if value == "Performance":
                y = table["AverageTestEpRet" if "AverageTestEpRet" in table else "AverageEpRet"]
            elif value in table:
                y = table[value]
            else:
                continue
            if smooth > 1:
                y = y.rolling(smooth, center=True, min_periods=1).mean()
            frames.append(pd.DataFrame({"label": label, "x": table[xaxis], "y": y}))
    long = pd.concat(frames, ignore_index=True)
    by = long.groupby(["label", "x"])["y"]
    estimate, sd = by.agg(estimator), by.std()
    return {label: (estimate.loc[label], sd.loc[label]) for label in long["label"].unique()}


def drawn_curves(figure) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """legend label -> (x, y, band) of the line drawn in that label's colour.

    band is the (lower, upper) edge of the shaded area at each x, or None.
    """
    [ax] = figure.axes
    legend = ax.get_legend()
    labels = [text.get_text() for text in legend.get_texts()]
    colours = [to_rgb(handle.get_color()) for handle in legend.legend_handles]
    data_lines = [line for line in ax.lines if len(line.get_xdata())]
    curves = {}
    for label, colour in zip(labels, colours, strict=True):
        [line] = [line for line in data_lines if to_rgb(line.get_color()) == colour]
        x, y = line.get_xydata().T
        bands = [c for c in ax.collections if to_rgb(c.get_facecolor()[0]) == colour]
        band = None
        [collection] = bands or [None]
        if collection is not None and collection.get_paths():
            vertices = np.concatenate([p.vertices for p in collection.get_paths()])
            edges = pd.DataFrame(vertices, columns=["x", "y"]).groupby("x")["y"]
            band = np.array([edges.min().reindex(x), edges.max().reindex(x)])
        curves[label] = (x, y, band)
    assert len(data_lines) == len(labels), "one line per legend entry"
    return curves


def assert_curves_match(figure, expected: dict[str, tuple[pd.Series, pd.Series]]) -> None:
    drawn = drawn_curves(figure)
    assert sorted(drawn) == sorted(expected)
    for label, (estimate, sd) in expected.items():
        x, y, band = drawn[label]
        np.testing.assert_array_equal(x, estimate.index.to_numpy(dtype=float))
        np.testing.assert_allclose(y, estimate.to_numpy(), rtol=1e-12, atol=1e-12)
        several = sd.notna().to_numpy()  # x where more than one run has a value
        if several.any():
            assert band is not None
            np.testing.assert_allclose(band[0][several], (estimate - sd)[several], rtol=1e-9)
            np.testing.assert_allclose(band[1][several], (estimate + sd)[several], rtol=1e-9)


# ---------------------------------------------------------------- what is drawn


@pytest.mark.parametrize("smooth", [1, 4, 5])
def test_lines_are_the_mean_over_seeds(tmp_path: Path, smooth: int) -> None:
    sweep = make_sweep(tmp_path)
    figures = make_plots(
        [tmp_path / "exp-"], values=["Performance", "AverageEpRet", "StdEpRet"], smooth=smooth
    )
    assert len(figures) == 3
    for figure, value in zip(figures, ["Performance", "AverageEpRet", "StdEpRet"], strict=True):
        assert figure.axes[0].get_ylabel() == value
        assert figure.axes[0].get_xlabel() == "TotalEnvInteracts"
        assert_curves_match(figure, expected_curves(sweep, value, smooth=smooth))


def test_smoothing_windows_longer_than_a_run(tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)  # the shortest seed has 6 epochs
    [figure] = make_plots([tmp_path / "exp-"], values="AverageEpRet", smooth=9)
    assert_curves_match(figure, expected_curves(sweep, "AverageEpRet", smooth=9))


@pytest.mark.parametrize("estimator", ["max", "median", "min"])
def test_estimator_is_a_numpy_function_by_name(tmp_path: Path, estimator: str) -> None:
    sweep = make_sweep(tmp_path)
    [figure] = make_plots([tmp_path / "exp-"], xaxis="Epoch", smooth=3, estimator=estimator)
    expected = expected_curves(sweep, "Performance", xaxis="Epoch", smooth=3, estimator=estimator)
    drawn = drawn_curves(figure)
    for label, (estimate, _) in expected.items():
        np.testing.assert_allclose(drawn[label][1], estimate.to_numpy(), rtol=1e-12)


def test_count_draws_each_run(tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)
    [figure] = make_plots([tmp_path / "exp-"], values="AverageEpRet", count=True, smooth=3)
    drawn = drawn_curves(figure)
    assert len(drawn) == len(EXPERIMENTS) * len(SEEDS)
    runs = {(exp, str(path)): pd.read_table(path) for exp, paths in sweep.items() for path in paths}
    matched = set()
    for label, (x, y, band) in drawn.items():
        exp, _, index = label.rpartition("-")  # Condition2: "<exp_name>-<run number>"
        assert index.isdigit() and exp in sweep
        assert band is None  # a single run has no spread
        same = [
            key
            for key, table in runs.items()
            if key[0] == exp
            and np.array_equal(x, table["TotalEnvInteracts"])
            and np.allclose(y, table["AverageEpRet"].rolling(3, center=True, min_periods=1).mean())
        ]
        assert len(same) == 1, label
        matched.add(same[0])
    assert matched == set(runs)


def test_legend_names_each_logdir_found(tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)
    legend = ["PPO", "SAC", "VPG"]  # the prefix completes to the experiments, sorted
    [figure] = make_plots([tmp_path / "exp-"], legend=legend, values="AverageEpRet")
    renamed = dict(zip(legend, sweep.values(), strict=True))
    assert_curves_match(figure, expected_curves(renamed, "AverageEpRet"))
    assert figure.axes[0].get_legend().get_title().get_text() == ""


def test_a_long_legend_goes_beside_the_curves(tmp_path: Path) -> None:
    make_sweep(tmp_path)
    [few] = make_plots([tmp_path / "exp-"])  # 3 entries: over the axes, as in Spinning Up
    [many] = make_plots([tmp_path / "exp-"], count=True)  # 9 entries: beside them
    for figure in (few, many):
        figure.canvas.draw()
    boxes = {
        name: (f.axes[0].get_window_extent(), f.axes[0].get_legend().get_window_extent())
        for name, f in (("few", few), ("many", many))
    }
    axes, legend = boxes["few"]
    assert axes.x0 <= legend.x0 and legend.x1 <= axes.x1
    axes, legend = boxes["many"]
    assert legend.x0 >= axes.x1 and legend.x1 <= many.bbox.x1
    assert many.get_figwidth() > few.get_figwidth()
    assert all(f.axes[0].get_legend().get_draggable() for f in (few, many))


def test_select_and_exclude(tmp_path: Path) -> None:
    make_sweep(tmp_path)
    [figure] = make_plots([tmp_path / "exp-"], select=["exp-"], exclude=["vpg"])
    assert sorted(drawn_curves(figure)) == ["exp-ppo", "exp-sac"]


def test_sci_ticks_above_5e3(tmp_path: Path) -> None:
    make_sweep(tmp_path / "big", steps=1000)  # x up to 12000
    make_sweep(tmp_path / "small", steps=100)  # x up to 1200
    [big] = make_plots([tmp_path / "big" / "exp-"])
    [small] = make_plots([tmp_path / "small" / "exp-"])
    for figure in (big, small):
        figure.canvas.draw()
    assert big.axes[0].xaxis.get_offset_text().get_text() == "1e4"
    assert small.axes[0].xaxis.get_offset_text().get_text() == ""


def test_smooth_curve_is_spinning_ups_window_mean() -> None:
    rng = np.random.default_rng(1)
    for n in range(1, 15):
        y = rng.normal(size=n)
        for window in range(1, 9):
            rolled = pd.Series(y).rolling(window, center=True, min_periods=1).mean()
            np.testing.assert_allclose(smooth_curve(y, window), rolled, rtol=1e-12)
            if n >= window > 1:  # where Spinning Up's own expression is defined
                ones = np.ones(window)
                spinup = np.convolve(y, ones, "same") / np.convolve(np.ones(n), ones, "same")
                np.testing.assert_allclose(smooth_curve(y, window), spinup, rtol=1e-12)


@pytest.mark.parametrize(
    ("count", "smooth", "est"), [(False, 1, "mean"), (False, 5, "max"), (True, 4, "mean")]
)
def test_same_table_as_spinning_ups_plotter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: bool, smooth: int, est: str
) -> None:
    """Spinning Up's make_plots, run up to sns.tsplot (gone from seaborn), gives the oracle."""
    spinup = spinup_plot_module()
    make_sweep(tmp_path, ragged=False)
    logdirs = [str(tmp_path / "exp-")]
    calls = []
    monkeypatch.setattr(sns, "tsplot", lambda **kw: calls.append(kw), raising=False)
    with matplotlib.rc_context(), pytest.warns(UserWarning):  # its plt.show() on Agg warns
        spinup.make_plots(
            logdirs,
            None,
            "TotalEnvInteracts",
            ["AverageEpRet"],
            count,
            smooth=smooth,
            estimator=est,
        )
    plt.close("all")
    [call] = calls
    table = call["data"].groupby([call["condition"], call["time"]])[call["value"]]
    expected = table.agg(call["estimator"])

    [figure] = make_plots(logdirs, values="AverageEpRet", count=count, smooth=smooth, estimator=est)
    drawn = drawn_curves(figure)
    assert sorted(drawn) == sorted(expected.index.get_level_values(0).unique())
    for label, (x, y, _) in drawn.items():
        np.testing.assert_array_equal(x, expected.loc[label].index.to_numpy(dtype=float))
        np.testing.assert_allclose(y, expected.loc[label].to_numpy(), rtol=1e-12)


# ---------------------------------------------------------------- bad input


def test_runs_lacking_the_value_are_left_out_with_a_note(tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)  # only exp-ppo logs LossV
    with pytest.warns(PlotNote, match="6 run.*without a 'LossV' column") as notes:
        [figure] = make_plots([tmp_path / "exp-"], values="LossV")
    [note] = [str(n.message) for n in notes if n.category is PlotNote]
    assert all(str(p.parent) in note for exp in ("exp-sac", "exp-vpg") for p in sweep[exp])
    assert_curves_match(figure, expected_curves({"exp-ppo": sweep["exp-ppo"]}, "LossV"))


def test_runs_lacking_the_xaxis_are_left_out_with_a_note(tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)
    lone = write_table(
        tmp_path / "exp-td3" / "exp-td3_s0",
        {"Epoch": [0, 1], "AverageEpRet": [1, 2], "LossQ": [3, 4]},
        {"exp_name": "exp-td3"},
    )
    with pytest.warns(
        PlotNote, match=f"without a 'TotalEnvInteracts' column.*{lone.parent}"
    ) as notes:
        [figure] = make_plots([tmp_path / "exp-"])
    assert_curves_match(figure, expected_curves(sweep, "Performance"))
    assert not any("use -x" in str(n.message) for n in notes), "1 of 10: no other x offered"
    # LossQ is only in the run without an x: nothing to draw
    with pytest.warns(PlotNote), pytest.raises(PlotError, match="no run has both 'Total"):
        make_plots([tmp_path / "exp-"], values=["LossQ"])
    with pytest.warns(PlotNote, match="9 run.*without a 'LossQ' column"):
        [figure] = make_plots([tmp_path / "exp-"], xaxis="Epoch", values=["LossQ"])
    assert_curves_match(figure, expected_curves({"exp-td3": [lone]}, "LossQ", xaxis="Epoch"))


def write_epoch_runs(root: Path, n: int, columns: tuple[str, ...] = ("Epoch",)) -> list[Path]:
    """``n`` runs of experiment exp-ddpg that log ``columns`` and AverageEpRet, no x else."""
    rng = np.random.default_rng(7)
    paths = []
    for seed in range(n):
        table = {c: np.arange(5) * (1 if c == "Epoch" else 10) for c in columns}
        table["AverageEpRet"] = rng.normal(size=5).round(4)
        config = {"exp_name": "exp-ddpg", "seed": seed}
        paths.append(write_table(root / "exp-ddpg" / f"exp-ddpg_s{seed}", table, config))
    return paths


def test_most_runs_without_the_xaxis_get_an_x_they_have(tmp_path: Path) -> None:
    """12 of 21 runs lack TotalEnvInteracts: the note counts them, offers Epoch, names all."""
    sweep = make_sweep(tmp_path)
    lacking = write_epoch_runs(tmp_path, 12)
    head = (
        "12 run(s) without a 'TotalEnvInteracts' column left out of every figure "
        "(9 of 21 runs drawn); all 12 have 'Epoch': use -x Epoch. Left out: "
    )
    with pytest.warns(PlotNote) as notes:
        [figure] = make_plots([tmp_path / "exp-"], values="AverageEpRet")
    [note] = [n.message for n in notes if "left out" in str(n.message)]
    assert str(note).startswith(head)
    assert all(str(p.parent) in str(note) for p in lacking)
    # the brief form names 3 and counts the other 9
    assert note.brief.startswith(head)
    assert note.brief.endswith(" and 9 more (--verbose lists them all)")
    named = note.brief[len(head) :].removesuffix(" and 9 more (--verbose lists them all)")
    assert len(named.split(", ")) == 3
    assert set(named.split(", ")) <= {str(p.parent) for p in lacking}
    assert_curves_match(figure, expected_curves(sweep, "AverageEpRet"))
    # taking the advice draws all 21 runs
    every = {**sweep, "exp-ddpg": lacking}
    [figure] = make_plots([tmp_path / "exp-"], xaxis="Epoch", values="AverageEpRet")
    assert_curves_match(figure, expected_curves(every, "AverageEpRet", xaxis="Epoch"))


@pytest.mark.parametrize(
    ("columns", "advice"),
    [
        (("Time",), "all 12 have 'Time': use -x Time"),
        (("Epoch", "Time"), "all 12 have 'Epoch': use -x Epoch"),
    ],
)
def test_the_x_offered_is_one_all_left_out_runs_have(
    tmp_path: Path, columns: tuple[str, ...], advice: str
) -> None:
    make_sweep(tmp_path)
    write_epoch_runs(tmp_path, 12, columns)
    with pytest.warns(PlotNote, match=f"12 run.*TotalEnvInteracts.*; {advice}\\. Left out"):
        make_plots([tmp_path / "exp-"], values="AverageEpRet")


def test_no_x_offered_when_the_left_out_runs_share_none(tmp_path: Path) -> None:
    make_sweep(tmp_path)
    write_epoch_runs(tmp_path, 6, ("Epoch",))
    for seed in range(6):  # 6 more runs that log neither Epoch nor Time
        folder = tmp_path / "exp-td3" / f"exp-td3_s{seed}"
        write_table(folder, {"Step": [1, 2], "AverageEpRet": [0.5, 1.5]}, {"exp_name": "exp-td3"})
    with pytest.warns(PlotNote, match=r"12 run\(s\) without a 'TotalEnvInteracts'") as notes:
        make_plots([tmp_path / "exp-"], values="AverageEpRet")
    assert not any("use -x" in str(n.message) for n in notes)


def test_no_run_with_the_xaxis_offers_one(tmp_path: Path) -> None:
    write_epoch_runs(tmp_path, 3)
    with pytest.raises(
        PlotError,
        match="no run has a column 'TotalEnvInteracts'; all 3 runs have 'Epoch': use -x Epoch; "
        "the columns are: Epoch, AverageEpRet",
    ):
        make_plots([tmp_path / "exp-"])


def test_broken_files_are_named_and_the_rest_plotted(tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)
    empty = tmp_path / "exp-ppo" / "exp-ppo_s30" / "progress.txt"
    empty.parent.mkdir()
    empty.write_text("")
    with pytest.warns(PlotNote, match=f"skipping {empty}: the file is empty"):
        [figure] = make_plots([tmp_path / "exp-"])
    assert_curves_match(figure, expected_curves(sweep, "Performance"))


def test_a_value_no_run_has_names_the_columns(tmp_path: Path) -> None:
    make_sweep(tmp_path)
    with pytest.raises(
        PlotError,
        match=r"no run has a column 'LossPi'; the columns are: Epoch, "
        r"AverageEpRet, StdEpRet, LossV, TotalEnvInteracts, Performance, "
        r"AverageTestEpRet",
    ):
        make_plots([tmp_path / "exp-"], values=["AverageEpRet", "LossPi"])
    assert plt.get_fignums() == [], "nothing is drawn when a value is unknown"
    with pytest.raises(PlotError, match="no run has a column 'Steps'"):
        make_plots([tmp_path / "exp-"], xaxis="Steps")


def test_no_runs_names_what_was_searched(tmp_path: Path) -> None:
    with pytest.raises(PlotError, match=f"no folder matches {tmp_path / 'nothing'}"):
        make_plots([tmp_path / "nothing"])
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(PlotError, match=f"no progress.txt under {tmp_path / 'empty'}"):
        make_plots([tmp_path / "empty"])
    (tmp_path / "empty" / "sub" / "progress.txt").write_text("")
    with pytest.warns(PlotNote), pytest.raises(PlotError, match="none of the 1 progress.txt"):
        make_plots([tmp_path / "empty"])


def test_bad_options(tmp_path: Path) -> None:
    make_sweep(tmp_path)
    with pytest.raises(PlotError, match="one legend entry per logdir: 2 given for 3"):
        make_plots([tmp_path / "exp-"], legend=["a", "b"])
    with pytest.raises(PlotError, match="'avg' is not a numpy function"):
        make_plots([tmp_path / "exp-"], estimator="avg")
    with pytest.raises(PlotError, match=r"'\.jpgx' is not a figure format"):
        make_plots([tmp_path / "exp-"], savefig=tmp_path / "curves.jpgx")


# ---------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG\r\n"), (".svg", b"<?xml"), (".pdf", b"%PDF-")]
)
def test_savefig_format_by_extension(tmp_path: Path, suffix: str, magic: bytes) -> None:
    make_sweep(tmp_path / "runs")
    out = tmp_path / "figs" / f"curves{suffix}"
    make_plots([tmp_path / "runs" / "exp-"], savefig=out)
    assert out.read_bytes().startswith(magic)
    assert sorted(os.listdir(out.parent)) == [out.name]


def test_one_file_per_value_named_after_it(tmp_path: Path) -> None:
    make_sweep(tmp_path / "runs")
    make_plots(
        [tmp_path / "runs" / "exp-"],
        values=["AverageEpRet", "StdEpRet", "AverageEpRet"],
        savefig=tmp_path / "curves.svg",
    )
    written = sorted(p.name for p in tmp_path.glob("*.svg"))
    assert written == ["curves-AverageEpRet.svg", "curves-StdEpRet.svg"]
    assert "StdEpRet" in (tmp_path / "curves-StdEpRet.svg").read_text()  # its y label


# ---------------------------------------------------------------- command line


def test_cli_writes_the_files_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_sweep(tmp_path / "runs")
    out = tmp_path / "curves.png"
    argv = [
        "plot",
        str(tmp_path / "runs" / "exp-"),
        "-y",
        "AverageEpRet",
        "LossV",
        "-s",
        "3",
        "--savefig",
        str(out),
    ]
    assert spinfast_run.main(argv) == 0
    written = [tmp_path / "curves-AverageEpRet.png", tmp_path / "curves-LossV.png"]
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"wrote {p}" for p in written]
    assert "note: 6 run(s) without a 'LossV' column" in captured.err
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
    assert plt.get_fignums() == [], "the command closes its figures"


def test_cli_default_is_curves_png_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    make_sweep(tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    assert main([str(tmp_path / "runs") + os.sep, "--count"]) == 0
    assert capsys.readouterr().out == "wrote curves.png\n"
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{root}/nope"], "spinfast plot: no runs found: no folder matches {root}/nope"),
        (["{root}/exp-", "-y", "Foo"], "spinfast plot: no run has a column 'Foo'; the columns"),
        (["{root}/exp-", "-l", "A"], "spinfast plot: give one legend entry per logdir"),
        (["{root}/exp-", "--est", "nope"], "spinfast plot: --est 'nope' is not a numpy"),
        (["{root}/exp-", "--savefig", "{root}/c.xyz"], "spinfast plot: cannot write {root}/c.xyz"),
    ],
)
def test_cli_user_errors_exit_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    make_sweep(tmp_path)
    argv = [a.format(root=tmp_path) for a in args]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(message.format(root=tmp_path))


def test_cli_names_broken_files_and_plots_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    make_sweep(tmp_path / "runs")
    empty = tmp_path / "runs" / "exp-vpg" / "exp-vpg_s99" / "progress.txt"
    empty.parent.mkdir()
    empty.write_text("")
    assert main([str(tmp_path / "runs" / "exp-"), "--savefig", str(tmp_path / "c.pdf")]) == 0
    assert f"note: skipping {empty}: the file is empty" in capsys.readouterr().err
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF-")


def test_cli_names_a_few_runs_left_out_and_verbose_all(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    make_sweep(tmp_path)
    lacking = [str(p.parent) for p in write_epoch_runs(tmp_path, 12)]
    argv = [str(tmp_path / "exp-"), "--savefig", str(tmp_path / "c.png")]
    assert main(argv) == 0
    [note] = capsys.readouterr().err.splitlines()
    assert note.startswith(
        "note: 12 run(s) without a 'TotalEnvInteracts' column left out of every figure "
        "(9 of 21 runs drawn); all 12 have 'Epoch': use -x Epoch. Left out: "
    )
    assert note.endswith(" and 9 more (--verbose lists them all)")
    named = note.split("Left out: ")[1].split(" and 9 more")[0].split(", ")
    assert len(named) == 3 and set(named) <= set(lacking)

    assert main([*argv, "--verbose"]) == 0
    [note] = capsys.readouterr().err.splitlines()
    assert sorted(note.split("Left out: ")[1].split(", ")) == sorted(lacking)

    assert main([*argv, "-x", "Epoch"]) == 0  # the advice taken: nothing left out
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(sys.platform != "linux", reason="without DISPLAY only Linux has no GUI")
def test_cli_show_without_a_display_says_so(tmp_path: Path) -> None:
    make_sweep(tmp_path)
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")
    }
    done = subprocess.run(
        [sys.executable, "-m", "spinfast", "plot", str(tmp_path / "exp-"), "--show"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "spinfast plot: --show: no display found (matplotlib backend 'agg' cannot open a "
        "window); use --savefig PATH"
    ]
    assert not (tmp_path / "curves.png").exists()


# ---------------------------------------------------------------- real outputs


def test_corpus_sweep_mean_over_seeds(corpus: Path) -> None:
    """exp0: 4 seeds of different lengths and steps per epoch, one cut by a crash (NUL tail)."""
    exp0 = corpus / "feloundou__safe-experts" / "data" / "old" / "exp0"
    paths = sorted(exp0.glob("*/progress.txt"))
    assert len(paths) == 4
    frames = []
    for path in paths:
        table = pd.read_table(path)
        table = table[pd.to_numeric(table["Epoch"], errors="coerce").notna()]  # drop NUL row
        y = table["AverageEpRet"].astype(float).rolling(10, center=True, min_periods=1).mean()
        frames.append(pd.DataFrame({"x": table["TotalEnvInteracts"].astype(float), "y": y}))
    by_x = pd.concat(frames).groupby("x")["y"]
    expected = {"exp0": (by_x.mean(), by_x.std())}

    [figure] = make_plots([str(exp0) + os.sep], values=["Performance"], smooth=10)
    assert_curves_match(figure, expected)


def test_corpus_whole_plots_every_readable_run(corpus: Path, tmp_path: Path) -> None:
    with pytest.warns(PlotNote) as notes:
        [figure] = make_plots(
            [str(corpus) + os.sep], xaxis="Epoch", smooth=5, savefig=tmp_path / "corpus.png"
        )
    messages = [str(n.message) for n in notes if n.category is PlotNote]
    empties = [p for p in corpus.rglob("progress.txt") if p.stat().st_size == 0]
    assert empties and all(any(f"skipping {p}:" in m for m in messages) for p in empties)
    # runs with neither AverageTestEpRet nor AverageEpRet are left out, by name
    lacking = [
        p.parent
        for p in corpus.rglob("progress.txt")
        if p.stat().st_size
        and not {"AverageTestEpRet", "AverageEpRet"} & set(p.read_text().split("\n")[0].split("\t"))
    ]
    assert lacking
    [left_out] = [m for m in messages if "without a 'Performance' column" in m]
    assert all(str(p) in left_out for p in lacking)
    conditions = set(drawn_curves(figure))
    assert "exp0" in conditions and len(conditions) >= 20
    assert (tmp_path / "corpus.png").read_bytes().startswith(b"\x89PNG")


def corpus_headers(corpus: Path) -> dict[str, set[str]]:
    """run folder -> the column names on the first line of its progress.txt (non-empty ones)."""
    return {
        str(p.parent): set(p.read_text(errors="replace").splitlines()[0].split("\t"))
        for p in corpus.rglob("progress.txt")
        if p.stat().st_size
    }


def test_corpus_cli_names_a_few_runs_left_out(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Real runs lacking AverageEpCost, and the empty files: 3 named and a count by default,
    all with --verbose."""
    empties = sorted(str(p) for p in corpus.rglob("progress.txt") if p.stat().st_size == 0)
    assert len(empties) > 3
    lacking = sorted(
        run
        for run, columns in corpus_headers(corpus).items()
        if "TotalEnvInteracts" in columns and "AverageEpCost" not in columns
    )
    assert len(lacking) > 3
    argv = [str(corpus) + os.sep, "-y", "AverageEpCost", "--savefig", str(tmp_path / "c.png")]
    head = f"note: {len(lacking)} run(s) without a 'AverageEpCost' column left out of the "

    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    skips = [line for line in err if line.startswith("note: skipping ")]
    assert len(skips) == 4
    assert all(line.split(" ")[2].removesuffix(":") in empties for line in skips[:3])
    assert skips[3].startswith(f"note: skipping {len(empties) - 3} more unreadable progress.txt")
    [note] = [line for line in err if line.startswith(head)]
    more = f" and {len(lacking) - 3} more (--verbose lists them all)"
    assert note.endswith(more)
    named = note.split("Left out: ")[1].removesuffix(more).split(", ")
    assert len(named) == 3 and set(named) <= set(lacking)

    assert main([*argv, "--verbose"]) == 0
    err = capsys.readouterr().err.splitlines()
    skips = [line.split(" ")[2] for line in err if line.startswith("note: skipping ")]
    assert sorted(path.removesuffix(":") for path in skips) == empties
    [note] = [line for line in err if line.startswith(head)]
    assert sorted(note.split("Left out: ")[1].split(", ")) == lacking


def test_corpus_run_without_the_xaxis_is_offered_epoch(corpus: Path) -> None:
    """A real CPO run logs Epoch but not TotalEnvInteracts: the error says -x Epoch, which works."""
    [run] = [r for r, c in corpus_headers(corpus).items() if "TotalEnvInteracts" not in c]
    assert "Epoch" in corpus_headers(corpus)[run]
    with pytest.raises(PlotError, match="'TotalEnvInteracts'; the run has 'Epoch': use -x Epoch;"):
        make_plots([run + os.sep])
    [figure] = make_plots([run + os.sep], xaxis="Epoch")
    table = pd.read_table(Path(run) / "progress.txt")
    x, y, _ = next(iter(drawn_curves(figure).values()))
    np.testing.assert_array_equal(x, table["Epoch"])
    np.testing.assert_allclose(y, table["AverageEpRet"], rtol=1e-12)
