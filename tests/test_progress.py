"""read_progress against pandas.read_table and Python's float(), on generated files."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import spinfast
from spinfast import ProgressParseError, read_progress


def assert_matches_pandas(path: Path) -> spinfast.Progress:
    progress = read_progress(path)
    expected = pd.read_table(path)
    pdt.assert_frame_equal(progress.to_pandas(), expected, check_exact=True, check_dtype=False)
    return progress


def random_cell(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.choice(["", "nan", "NaN", "inf", "-inf"])
    if kind == 1:
        return rng.choice(["1e-300", "-0.0", "0", "-1e+300", "4.9e-324", "1.7976931348623157e308"])
    if kind == 2:  # long digit strings that need correct rounding
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(17, 40)))
        return f"{digits[0]}.{digits[1:]}e{rng.randint(-300, 300)}"
    if kind == 3:
        return str(rng.randint(-(10**6), 10**6))
    return repr(rng.uniform(-1e4, 1e4))


def generated_table(rows: int, columns: int, seed: int) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    names = ["Epoch", *(f"Col{i}" for i in range(columns - 1))]
    cells = [[str(r), *(random_cell(rng) for _ in range(columns - 1))] for r in range(rows)]
    return names, cells


def write_table(path: Path, names, cells, newline="\n", bom=False) -> Path:
    text = newline.join("\t".join(row) for row in [names, *cells]) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


@pytest.mark.parametrize("seed", range(5))
def test_random_values_match_pandas_and_float(tmp_path, seed):
    names, cells = generated_table(rows=300, columns=12, seed=seed)
    progress = assert_matches_pandas(write_table(tmp_path / "progress.txt", names, cells))
    # The oracle for each cell: Python's float(), empty cells NaN.
    for c, name in enumerate(names):
        expected = np.array([float(row[c]) if row[c] else np.nan for row in cells])
        got = progress[name]
        same = (got == expected) | (np.isnan(got) & np.isnan(expected))
        assert same.all(), name
        # -0.0 keeps its sign
        assert np.array_equal(np.signbit(got), np.signbit(expected)), name


def test_twenty_thousand_rows(tmp_path):
    names, cells = generated_table(rows=20_000, columns=6, seed=42)
    progress = assert_matches_pandas(write_table(tmp_path / "progress.txt", names, cells))
    assert len(progress) == 20_000
    assert progress.to_numpy().shape == (20_000, 6)


@pytest.mark.parametrize(("newline", "bom"), [("\r\n", False), ("\n", True), ("\r\n", True)])
def test_crlf_and_bom(tmp_path, newline, bom):
    names, cells = generated_table(rows=50, columns=4, seed=7)
    path = write_table(tmp_path / "progress.txt", names, cells, newline=newline, bom=bom)
    progress = read_progress(path)
    assert progress.columns == names
    pdt.assert_frame_equal(
        progress.to_pandas(),
        pd.read_table(path, encoding="utf-8-sig"),
        check_exact=True,
        check_dtype=False,
    )


def test_columns_rows_and_access(tmp_path):
    path = tmp_path / "progress.txt"
    path.write_text("Epoch\tAverageEpRet\tTime\n0\t-12.5\t1.0\n1\t3.25\t2.0\n")
    p = read_progress(path)
    assert p.columns == ["Epoch", "AverageEpRet", "Time"]
    assert len(p) == 2
    assert p["AverageEpRet"].dtype == np.float64
    assert p["AverageEpRet"].tolist() == [-12.5, 3.25]
    assert p.to_numpy().tolist() == [[0.0, -12.5, 1.0], [1.0, 3.25, 2.0]]
    assert p.path == str(path)
    assert p.truncated is False
    assert "Time" in p and "Nope" not in p
    with pytest.raises(KeyError, match="Nope.*Epoch"):
        p["Nope"]


def test_header_only_has_all_columns_and_no_rows(tmp_path):
    path = tmp_path / "progress.txt"
    path.write_text("Epoch\tAverageEpRet\n")
    p = assert_matches_pandas(path)
    assert (len(p), p.columns, p.truncated) == (0, ["Epoch", "AverageEpRet"], False)


def test_last_line_cut_mid_write(tmp_path):
    path = tmp_path / "progress.txt"
    path.write_text("a\tb\tc\n1\t2\t3\n4\t5\t6\n7\t8")
    p = read_progress(path)
    assert p.truncated is True
    # the complete rows are the ones pandas reads from the file without the cut line
    complete = tmp_path / "complete.txt"
    complete.write_text("a\tb\tc\n1\t2\t3\n4\t5\t6\n")
    pdt.assert_frame_equal(p.to_pandas(), pd.read_table(complete), check_dtype=False)


def test_nul_tail_from_a_crash(tmp_path):
    path = tmp_path / "progress.txt"
    path.write_bytes(b"a\tb\n1\t2\n3\t4\n5\t" + b"\0" * 4096)
    p = read_progress(path)
    assert p.truncated is True
    assert p.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_missing_value_markers_are_nan_like_pandas(tmp_path):
    path = tmp_path / "progress.txt"
    path.write_text("a\tb\n1\tNone\nNA\t\n-nan\tnull\n2\t3\n")
    p = assert_matches_pandas(path)
    assert np.isnan(p["b"][:3]).all() and p["b"][3] == 3.0


def test_short_row_in_the_middle_is_padded_like_pandas(tmp_path):
    path = tmp_path / "progress.txt"
    path.write_text("a\tb\tc\n1\t2\n3\t4\t5\n")
    assert_matches_pandas(path)


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"", 1, "empty"),
        (b"a\tb\n1\t2\n3\t4\t5\n", 3, "3 tab-separated fields but the header has 2"),
        (b"a\tb\n1\t2\n3\t\xff\xfe\n", 3, "not valid UTF-8"),
        (b"a\xff\tb\n1\t2\n", 1, "not valid UTF-8"),
        (b"a\tb\n1\t2\n3\thello\n4\t5\n", 3, 'cell "hello" in column "b" is not a number'),
        (b"a\ta\n1\t2\n", 1, "appears twice"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, content, line, reason):
    path = tmp_path / "progress.txt"
    path.write_bytes(content)
    with pytest.raises(ProgressParseError) as info:
        read_progress(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.path, err.line) == (str(path), line)
    assert reason in str(err)
    assert f"{path}, line {line}:" in str(err)


def test_missing_file_is_a_parse_error_naming_it(tmp_path):
    path = tmp_path / "nope" / "progress.txt"
    with pytest.raises(ProgressParseError, match="cannot read the file") as info:
        read_progress(path)
    assert info.value.path == str(path) and info.value.line is None


def test_parse_error_survives_pickling(tmp_path):
    import pickle

    err = ProgressParseError("bad", "x/progress.txt", 3)
    back = pickle.loads(pickle.dumps(err))
    assert (back.reason, back.path, back.line, str(back)) == ("bad", "x/progress.txt", 3, str(err))
