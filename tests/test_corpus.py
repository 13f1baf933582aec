"""Every progress.txt of the real-runs corpus (../shared/corpus): good files match pandas
exactly, the empty ones get a named error, the crashed one its complete rows, and a
bulk read returns all the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from spinfast import ProgressParseError, load_runs, read_progress

NUL_FILE = "feloundou__safe-experts/data/old/exp0/exp0_s0/progress.txt"


def corpus_files(corpus):
    return sorted(corpus.rglob("progress.txt"))


def test_good_files_match_pandas_exactly(corpus):
    checked = 0
    for path in corpus_files(corpus):
        if path.stat().st_size == 0 or path.relative_to(corpus).as_posix() == NUL_FILE:
            continue
        progress = read_progress(path)
        assert not progress.truncated, path
        pdt.assert_frame_equal(
            progress.to_pandas(), pd.read_table(path), check_exact=True, check_dtype=False
        )
        checked += 1
    assert checked >= 30


def test_empty_files_get_a_named_error(corpus):
    empty = [p for p in corpus_files(corpus) if p.stat().st_size == 0]
    assert len(empty) == 57
    for path in empty:
        with pytest.raises(ProgressParseError, match="empty") as info:
            read_progress(path)
        assert (info.value.path, info.value.line) == (str(path), 1)


def test_crashed_file_gives_its_complete_rows(corpus):
    path = corpus / NUL_FILE
    progress = read_progress(path)
    assert progress.truncated
    # pandas turns the NUL block into one extra row of text; the rows before it are the data.
    expected = pd.read_table(path).iloc[:-1].astype(float)
    assert len(progress) == len(expected) == 47
    pdt.assert_frame_equal(progress.to_pandas(), expected, check_exact=True, check_dtype=False)
    assert progress["Epoch"].tolist() == list(np.arange(47.0))


def test_bulk_read_returns_every_good_run_and_names_the_rest(corpus):
    runs = load_runs(f"{corpus}/")
    files = corpus_files(corpus)
    assert len(runs) + len(runs.errors) == len(files)
    assert len(runs.errors) == 57
    assert {err.path for _, err in runs.errors} == {str(p) for p in files if p.stat().st_size == 0}
    by_path = {run.path: run for run in runs}
    for path in files:
        if path.stat().st_size:
            run = by_path[str(path.parent)]
            assert len(run.progress) == len(read_progress(path))
