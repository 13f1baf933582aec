"""spinfast: fast, modern tools for OpenAI Spinning Up experiment outputs.

Read learning curves::

    import spinfast
    p = spinfast.read_progress("data/ppo/ppo_s0/progress.txt")
    p["AverageEpRet"]                      # numpy float64 array
    runs = spinfast.load_runs("data/ppo")  # every run below, in parallel
    runs.to_pandas()                       # the long table Spinning Up's plotter uses

Score every run and snapshot of a sweep under one protocol, on all cores::

    spinfast.evaluate("data/ppo", episodes=10, snapshots="all", out="scores.csv")

Write them from your own training code, as Spinning Up does::

    logger = spinfast.EpochLogger(output_dir="data/ppo/ppo_s0", exp_name="ppo")
"""

from spinfast.curves.progress import Progress, read_progress
from spinfast.curves.runs import Run, Runs, load_runs
from spinfast.errors import (
    EnvironmentNotFound,
    NativePolicyError,
    OutputExistsError,
    ProgressColumnsError,
    ProgressParseError,
)
from spinfast.evaluate import evaluate
from spinfast.logx import EpochLogger, Logger

__all__ = [
    "EnvironmentNotFound",
    "EpochLogger",
    "Logger",
    "NativePolicyError",
    "OutputExistsError",
    "ProgressColumnsError",
    "Progress",
    "ProgressParseError",
    "Run",
    "Runs",
    "evaluate",
    "load_runs",
    "read_progress",
]
