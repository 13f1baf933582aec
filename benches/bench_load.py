"""Loading agents: reading and compiling in Rust against TensorFlow and torch.

Groups (side by side in one run):

- **SavedModel**: the bundled agent's last snapshot read in Rust and compiled
  (``_core.read_saved_model`` + ``NativePolicy``), against loading it in a TF session
  (``TFPolicy``: TF already imported).
- **model.pt**: Spinning Up PyTorch agents (the committed fixtures: PPO on CartPole,
  SAC on Pendulum) read in Rust and compiled, against ``torch.load(weights_only=False)``
  of the same file (torch already imported, Spinning Up's cores registered; only
  where torch is installed, an optional extra).
- **start to first episode**: ``spinfast test_policy BUNDLED -nr -n 1`` as a fresh
  process, natively (no TF imported) and with ``--policy tf``.

Run (build with --release first):
    python -m pytest benches/bench_load.py --benchmark-group-by=group \
        --benchmark-columns=min,median,mean,rounds
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spinfast import _core
from spinfast.agent.example import copy_example
from spinfast.agent.policy import NativePolicy

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "torch"
#: Agents made from Spinning Up's own PyTorch cores (tests/fixtures/torch): torch.load
#: finds their classes once the cores are registered under Spinning Up's module names.
MODELS = {
    "ppo CartPole (16x16)": ("ppo", FIXTURES / "ppo_cartpole" / "zip" / "pyt_save" / "model.pt"),
    "sac Pendulum (16x16), legacy format": (
        "sac",
        FIXTURES / "sac_pendulum" / "legacy" / "pyt_save" / "model.pt",
    ),
}


@pytest.fixture(scope="module")
def bundled():
    return Path(copy_example())


@pytest.mark.parametrize("how", ["Rust reader + compile", "TF session"])
def bench_saved_model(benchmark, bundled, how):
    benchmark.group = "load the bundled agent's SavedModel (simple_save29)"
    path = bundled / "simple_save29"
    if how == "TF session":
        tf = pytest.importorskip("tensorflow", reason="the tf extra is not installed")
        from spinfast.agent.tf_model import TFPolicy

        def load():
            policy = TFPolicy(str(path), seed=0)
            policy.session.close()
            return policy.action_key

        del tf
    else:

        def load():
            return NativePolicy(_core.read_saved_model(path), "pi", 0).action_key

    assert benchmark.pedantic(load, rounds=20, warmup_rounds=1) == "pi"


@pytest.mark.parametrize("how", ["Rust reader + compile", "torch.load"])
@pytest.mark.parametrize("model", list(MODELS))
def bench_model_pt(benchmark, model, how):
    benchmark.group = f"load a model.pt: {model}"
    algo, path = MODELS[model]
    if how == "torch.load":
        torch = pytest.importorskip("torch", reason="torch is an optional extra")
        sys.path.insert(0, str(FIXTURES))
        import make_fixtures

        make_fixtures.load_core_as(algo, f"spinup.algos.pytorch.{algo}.core")

        def load():
            torch.load(path, map_location="cpu", weights_only=False)
            return "pi"
    else:

        def load():
            graph = _core.read_torch_model(path)
            return NativePolicy(graph, "pi", 0).action_key

    assert benchmark.pedantic(load, rounds=30, warmup_rounds=1) == "pi"


@pytest.mark.parametrize("policy", ["native", "tf"])
def bench_start_to_first_episode(benchmark, bundled, policy, tmp_path):
    """A fresh `spinfast test_policy` process, one episode."""
    benchmark.group = "spinfast test_policy BUNDLED -nr -n 1, a fresh process"
    if policy == "tf":
        pytest.importorskip("tensorflow", reason="the tf extra is not installed")
    runs = iter(range(100))

    def run():
        out = tmp_path / str(next(runs))
        argv = [sys.executable, "-m", "spinfast", "test_policy", str(bundled), "-nr", "-n", "1",
                "--seed", "0", "--policy", policy, "--out", str(out)]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.count("Episode 0")

    assert benchmark.pedantic(run, rounds=5, warmup_rounds=1) == 1
