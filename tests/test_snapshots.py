"""Finding snapshots in an output folder, and reading model_info.pkl as plain data only."""

from __future__ import annotations

import os
import os.path as osp
import pickle

import joblib
import pytest

from spinfast.agent.snapshots import find_snapshot, list_snapshots, read_model_info
from spinfast.errors import SnapshotError

MODEL_INFO = {"inputs": {"x": "Placeholder:0"}, "outputs": {"pi": "add:0", "v": "Squeeze:0"}}


def make_snapshot(folder, name, files=("saved_model.pb", "variables", "model_info.pkl")):
    path = osp.join(folder, name)
    os.makedirs(path)
    for f in files:
        if f == "variables":
            os.makedirs(osp.join(path, f))
        elif f == "model_info.pkl":
            joblib.dump(MODEL_INFO, osp.join(path, f))  # as Spinning Up writes it
        else:
            open(osp.join(path, f), "wb").close()
    return path


@pytest.mark.parametrize("layout", ["simple_save", "tf1_save"])
def test_last_is_the_highest_number_then_the_unnumbered(tmp_path, layout):
    for name in ("", "0", "5", "20", "100"):
        make_snapshot(tmp_path, layout + name)
    os.makedirs(tmp_path / f"{layout}_old")  # not a snapshot name: ignored, not a crash
    (tmp_path / f"{layout}7").write_text("a file, not a snapshot folder")
    names = [s.name for s in list_snapshots(tmp_path)]
    assert names == [layout, layout + "0", layout + "5", layout + "20", layout + "100"]
    last = find_snapshot(tmp_path)
    assert (last.layout, last.itr, last.path) == (layout, 100, str(tmp_path / f"{layout}100"))
    assert last.vars_path == str(tmp_path / "vars100.pkl")
    assert find_snapshot(tmp_path, 5).path == str(tmp_path / f"{layout}5")


def test_unnumbered_only(tmp_path):
    make_snapshot(tmp_path, "simple_save")
    snap = find_snapshot(tmp_path, "last")
    assert (snap.itr, snap.vars_path) == (None, str(tmp_path / "vars.pkl"))


def test_tf1_save_wins_a_tie_with_simple_save(tmp_path):
    make_snapshot(tmp_path, "simple_save3")
    make_snapshot(tmp_path, "tf1_save3")
    make_snapshot(tmp_path, "simple_save1")
    assert find_snapshot(tmp_path).name == "tf1_save3"
    assert find_snapshot(tmp_path, 1).name == "simple_save1"


def test_missing_itr_lists_the_snapshots_there(tmp_path):
    for name in ("simple_save", "simple_save0", "simple_save10"):
        make_snapshot(tmp_path, name)
    with pytest.raises(SnapshotError) as err:
        find_snapshot(tmp_path, 7)
    assert err.value.path == str(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: no snapshot number 7; the snapshots here: "
        "simple_save, simple_save0, simple_save10"
    )


@pytest.mark.parametrize("bad", [-1, "3", 2.0, True])
def test_itr_must_be_a_number_or_last(tmp_path, bad):
    make_snapshot(tmp_path, "simple_save")
    with pytest.raises(ValueError, match="itr must be"):
        find_snapshot(tmp_path, bad)


def test_not_an_output_folder(tmp_path):
    with pytest.raises(SnapshotError, match="no such folder"):
        find_snapshot(tmp_path / "missing")
    (tmp_path / "progress.txt").write_text("Epoch\n0\n")
    with pytest.raises(SnapshotError, match="is not a folder"):
        find_snapshot(tmp_path / "progress.txt")
    with pytest.raises(SnapshotError, match="no simple_save/, tf1_save/ or pyt_save/ snapshot"):
        find_snapshot(tmp_path)
    os.makedirs(tmp_path / "pyt_save")
    with pytest.raises(SnapshotError, match="pyt_save/ holds no model.pt or modelN.pt"):
        find_snapshot(tmp_path)


@pytest.mark.parametrize("missing", ["saved_model.pb", "variables"])
def test_incomplete_snapshot_names_the_missing_file(tmp_path, missing):
    files = [f for f in ("saved_model.pb", "variables", "model_info.pkl") if f != missing]
    path = make_snapshot(tmp_path, "tf1_save2", files)
    with pytest.raises(SnapshotError) as err:
        find_snapshot(tmp_path)
    assert err.value.path == path
    assert err.value.reason.startswith(f"incomplete snapshot: no {missing} ")


def test_model_info_as_spinning_up_writes_it(tmp_path):
    path = make_snapshot(tmp_path, "simple_save")
    assert read_model_info(path) == MODEL_INFO


class MakesDir:
    """Unpickling this runs os.mkdir(path): the kind of code a pickle can carry."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_model_info_never_runs_code(tmp_path):
    ran = str(tmp_path / "ran")
    path = make_snapshot(tmp_path, "simple_save")
    joblib.dump({"inputs": {"x": MakesDir(ran)}, "outputs": {}}, osp.join(path, "model_info.pkl"))
    with pytest.raises(SnapshotError, match=r"refers to posix\.mkdir, and only plain data"):
        read_model_info(path)
    assert not osp.exists(ran)
    # the same file through plain pickle does run it: the guard is what stopped it
    with open(osp.join(path, "model_info.pkl"), "rb") as f:
        pickle.load(f)
    assert osp.isdir(ran)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (["inputs", "outputs"], "expected a dict with 'inputs' and 'outputs', found list"),
        ({"inputs": {}}, "expected a dict with 'inputs' and 'outputs', found ['inputs']"),
        ({"inputs": {"x": 1}, "outputs": {}}, "'inputs' must map names to tensor names"),
        ({"inputs": {}, "outputs": ["pi:0"]}, "'outputs' must map names to tensor names"),
    ],
)
def test_model_info_not_what_spinning_up_writes(tmp_path, content, expected):
    path = make_snapshot(tmp_path, "simple_save")
    joblib.dump(content, osp.join(path, "model_info.pkl"))
    with pytest.raises(SnapshotError) as err:
        read_model_info(path)
    assert err.value.path == osp.join(path, "model_info.pkl")
    assert expected in err.value.reason


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x04\x95"])
def test_model_info_not_a_pickle(tmp_path, content):
    path = make_snapshot(tmp_path, "simple_save")
    with open(osp.join(path, "model_info.pkl"), "wb") as f:
        f.write(content)
    with pytest.raises(SnapshotError, match="is not the model_info.pkl Spinning Up writes"):
        read_model_info(path)


def test_pytorch_snapshots_are_found_like_spinning_ups(tmp_path):
    """pyt_save/modelN.pt, as Spinning Up's load_policy_and_env lists them; the highest
    number is "last"; a TF snapshot of the same number wins, as there."""
    os.makedirs(tmp_path / "pyt_save")
    for name in ("model.pt", "model3.pt", "model12.pt", "notes.txt", "model_x.pt"):
        (tmp_path / "pyt_save" / name).write_bytes(b"")
    assert [s.name for s in list_snapshots(tmp_path)] == [
        "pyt_save/model.pt", "pyt_save/model3.pt", "pyt_save/model12.pt"
    ]  # fmt: skip
    last = find_snapshot(tmp_path)
    assert (last.layout, last.itr, last.path) == (
        "pyt_save",
        12,
        str(tmp_path / "pyt_save" / "model12.pt"),
    )
    assert last.vars_path == str(tmp_path / "vars12.pkl")
    make_snapshot(tmp_path, "tf1_save12", ["saved_model.pb", "variables"])
    assert find_snapshot(tmp_path).name == "tf1_save12"
    assert find_snapshot(tmp_path, 3).name == "pyt_save/model3.pt"
