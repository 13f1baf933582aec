"""Shared test fixtures: where the real-runs corpus lives, and a writer for run folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

#: agents saved once per test module, shared by the test_policy and engine tests
pytest_plugins = ["agent_fixtures"]

#: ../shared/corpus beside the repo: real progress.txt/config.json files from public
#: Spinning Up runs. It lies outside the repo, so tests that need it skip without it.
CORPUS = Path(
    os.environ.get("SPINFAST_CORPUS", Path(__file__).resolve().parents[2] / "shared/corpus")
)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the real-runs corpus is not at {CORPUS} (it lives outside the repo)")
    return CORPUS


def write_run(folder: Path, table: str | bytes, config: dict | None = None) -> Path:
    """Write a run folder: progress.txt (text or raw bytes) and, if given, config.json."""
    folder.mkdir(parents=True, exist_ok=True)
    data = table.encode() if isinstance(table, str) else table
    (folder / "progress.txt").write_bytes(data)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return folder
