"""PyTorch agents (``pyt_save/model.pt``) run natively, without torch, against torch.

The oracle is torch itself: tests/fixtures/torch holds agents made from Spinning Up's
own PyTorch cores (vpg, ppo on CartPole and Pendulum; ddpg, td3, sac on Pendulum) in
both file formats, and reference outputs torch computed for them and for the seven
real agents of ../shared/agents (see tests/fixtures/torch/README.md; tests/
test_torch_fixtures.py regenerates them where torch is installed). Deterministic
outputs are compared within rtol 1e-5; sampled ones in distribution.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import gymnasium
import numpy as np
import pytest

from agent_fixtures import cli
from spinfast import _core
from spinfast.agent.policy import NativePolicy
from spinfast.errors import NativePolicyError, SnapshotError
from spinfast.test_policy import load_policy

FIXTURES = Path(__file__).parent / "fixtures" / "torch"
SHARED = Path(os.environ.get("SPINFAST_SHARED", Path(__file__).resolve().parents[2] / "shared"))
MADE = ["vpg_cartpole", "ppo_cartpole", "vpg_pendulum", "ppo_pendulum", "ddpg_pendulum",
        "td3_pendulum", "sac_pendulum"]  # fmt: skip
REAL = ["rainbow_ppo_invdpend", "rainbow_sac_reacher", "rainbow_td3_invdpend",
        "rainbow_ddpg_walker2d", "pei_trpo_cartpole", "hw8_ppo",
        "nlietzow_sac_cheetah"]  # fmt: skip


def run_folder(tmp_path: Path, model: Path, name: str = "model.pt") -> Path:
    """An output folder holding ``model`` as ``pyt_save/<name>``, as Spinning Up lays it out."""
    folder = tmp_path / "run"
    (folder / "pyt_save").mkdir(parents=True, exist_ok=True)
    shutil.copy(model, folder / "pyt_save" / name)
    return folder


def output(graph, node: str, seed: int = 0) -> NativePolicy:
    """A native policy acting with any node of the graph (e.g. ``pi/logits``)."""
    return NativePolicy(_core.PolicyGraph(graph.input, {"out": node}, graph.nodes), "out", seed)


def check_against_torch(model: Path, ref: dict) -> None:
    graph = _core.read_torch_model(model)
    obs = ref["obs"].astype(np.float32)
    close = {"rtol": 1e-5, "atol": 1e-6}
    if "logits" in ref:  # categorical: logits, then draws with softmax's frequencies
        np.testing.assert_allclose(output(graph, "pi/logits").batch(obs), ref["logits"], **close)
        draws = output(graph, "pi").batch(np.repeat(ref["sample_obs"][None], 4000, 0))
        logits = output(graph, "pi/logits").batch(ref["sample_obs"][None])[0]
        p = np.exp(logits - logits.max())
        p /= p.sum()
        freq = np.bincount(draws, minlength=len(p)) / len(draws)
        assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / len(draws)) + 1e-3)
    elif "act" in ref and "mu" in ref:  # SAC: deterministic act, pre-squash mu and std
        np.testing.assert_allclose(output(graph, "mu").batch(obs), ref["act"], **close)
        np.testing.assert_allclose(output(graph, "pi/mu").batch(obs), ref["mu"], **close)
        np.testing.assert_allclose(output(graph, "pi/std").batch(obs), ref["std"], **close)
        draws = output(graph, "pi").batch(np.repeat(ref["sample_obs"][None], 4000, 0))
        theirs = ref["sample_act"]
        assert np.all(np.abs(draws.mean(0) - theirs.mean(0)) < 0.1 * (theirs.std(0) + 1e-3))
        assert np.all(np.abs(draws) <= np.abs(ref["act_limit"]) + 1e-6)
    elif "act" in ref:  # DDPG, TD3: deterministic
        np.testing.assert_allclose(output(graph, "pi").batch(obs), ref["act"], **close)
    else:  # Gaussian: mu, std, and draws with that mean and spread
        np.testing.assert_allclose(output(graph, "pi/mu").batch(obs), ref["mu"], **close)
        # std = exp(log_std): one row, whether the graph broadcasts it over the batch or not
        std = output(graph, "pi/std").batch(obs[:1]).reshape(-1)[: ref["std"].size]
        np.testing.assert_allclose(std, ref["std"], **close)
        draws = output(graph, "pi").batch(np.repeat(ref["sample_obs"][None], 4000, 0))
        mu = output(graph, "pi/mu").batch(ref["sample_obs"][None])[0]
        assert np.all(np.abs(draws.mean(0) - mu) < 5 * std / np.sqrt(4000))
        np.testing.assert_allclose(draws.std(0), std, rtol=0.06)


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
@pytest.mark.parametrize("name", MADE)
def test_spinning_up_cores_equal_torch(name, fmt):
    ref = np.load(FIXTURES / name / "reference.npz")
    check_against_torch(FIXTURES / name / fmt / "pyt_save" / "model.pt", ref)


@pytest.mark.parametrize("name", REAL)
def test_real_agents_equal_torch(name):
    ref = np.load(FIXTURES / "shared_agents" / f"{name}.npz")
    check_against_torch(SHARED / "agents" / name / "pyt_save" / "model.pt", ref)


def test_load_policy_reads_pyt_save_like_spinning_up(tmp_path, capfd):
    """The highest modelN.pt is 'last'; -d on SAC acts with mu; the env comes from vars.pkl."""
    folder = run_folder(tmp_path, FIXTURES / "sac_pendulum" / "zip" / "pyt_save" / "model.pt")
    shutil.copy(FIXTURES / "ddpg_pendulum" / "zip" / "pyt_save" / "model.pt",
                folder / "pyt_save" / "model7.pt")  # fmt: skip
    env, get_action = load_policy(folder, deterministic=True)
    err = capfd.readouterr().err
    assert f"Loading from {folder / 'pyt_save' / 'model7.pt'}." in err
    assert env is None and "vars7.pkl does not exist" in err  # no vars: a warning
    ref = np.load(FIXTURES / "ddpg_pendulum" / "reference.npz")
    np.testing.assert_allclose(get_action(ref["obs"][0]), ref["act"][0], rtol=1e-5, atol=1e-6)
    assert get_action.action_key == "pi"  # model7 is DDPG: no mu, a warning
    assert "no deterministic action op 'mu'" in err
    (folder / "pyt_save" / "model7.pt").unlink()
    _, sac = load_policy(folder, deterministic=True)
    assert sac.action_key == "mu" and "Using deterministic action op." in capfd.readouterr().err
    ref = np.load(FIXTURES / "sac_pendulum" / "reference.npz")
    np.testing.assert_allclose(sac.batch(ref["obs"]), ref["act"], rtol=1e-5, atol=1e-6)


def mlp(weights: dict, prefix: str, activation, out_activation=None):
    """A Spinning Up MLP from torch's state dict, in NumPy: an oracle independent of the
    Rust reader."""
    layers = sorted({int(k.split(".")[-2]) for k in weights if k.startswith(prefix)})

    def forward(x):
        for i, n in enumerate(layers):
            x = x @ weights[f"{prefix}.{n}.weight"].T + weights[f"{prefix}.{n}.bias"]
            last = i == len(layers) - 1
            x = (out_activation or (lambda v: v))(x) if last else activation(x)
        return x

    return forward


def test_cli_runs_a_ddpg_agent_as_a_numpy_loop_does(capsys, tmp_path):
    """-d -n 3 --seed 0 --env Pendulum-v1 -l 30: the returns a hand-written Gymnasium loop
    gets with the actor computed in NumPy from the state dict."""
    folder = run_folder(tmp_path, FIXTURES / "ddpg_pendulum" / "zip" / "pyt_save" / "model.pt")
    code, out, err = cli(capsys, folder, "-n", 3, "-nr", "--seed", 0, "--env", "Pendulum-v1",
                         "-l", 30, "--json", "--out", tmp_path / "out")  # fmt: skip
    assert code == 0, err
    weights = dict(np.load(FIXTURES / "ddpg_pendulum" / "state_dict.npz"))
    limit = float(np.load(FIXTURES / "ddpg_pendulum" / "reference.npz")["act_limit"])
    actor = mlp(weights, "pi.pi", lambda v: np.maximum(v, 0), np.tanh)
    env = gymnasium.make("Pendulum-v1")
    for k, episode in enumerate(json.loads(out)["episodes"]):
        obs, _ = env.reset(seed=k)
        ret = 0.0
        for _ in range(30):
            obs, r, *_ = env.step((limit * actor(obs.astype(np.float32))).astype(np.float32))
            ret += r
        assert episode["length"] == 30
        assert episode["ret"] == pytest.approx(ret, rel=1e-4)


def evil_model(path: Path, marker: Path) -> None:
    """A zip model.pt whose pickle calls os.system to create ``marker``."""

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle.dumps(Evil(), protocol=2))
        z.writestr("archive/version", "3\n")


def test_a_model_that_runs_code_is_refused_and_nothing_runs(capsys, tmp_path):
    marker = tmp_path / "was_run"
    evil_model(tmp_path / "evil.pt", marker)
    folder = run_folder(tmp_path, tmp_path / "evil.pt")
    code, out, err = cli(capsys, folder, "-n", 1, "-nr", "--env", "CartPole-v1")
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(lines) == 1, err
    assert "refused posix.system" in lines[0] and str(folder / "pyt_save" / "model.pt") in lines[0]
    assert "Traceback" not in err and not marker.exists()
    with pytest.raises(SnapshotError, match="refused posix.system"):
        load_policy(folder)
    assert not marker.exists()


def test_not_an_actor_critic_says_what_it_found(tmp_path):
    model = tmp_path / "state_dict.pt"
    with zipfile.ZipFile(model, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({"weights": [1.0, 2.0]}, protocol=2))
    folder = run_folder(tmp_path, model)
    with pytest.raises(NativePolicyError, match="not a Spinning Up actor-critic.*--policy torch"):
        load_policy(folder)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_model_is_one_clear_error(capsys, tmp_path, damage):
    data = bytearray((FIXTURES / "ppo_cartpole" / "legacy" / "pyt_save" / "model.pt").read_bytes())
    data = data[: len(data) // 2] if damage == "truncate" else data
    if damage == "flip":
        data[len(data) // 3] ^= 0xFF
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    folder = run_folder(tmp_path, tmp_path / "bad.pt")
    code, _, err = cli(capsys, folder, "-n", 1, "-nr", "--env", "CartPole-v1")
    assert code == 1 and "Traceback" not in err
    assert str(folder / "pyt_save" / "model.pt") in err


def test_a_folder_with_both_kinds_says_which_it_loads(tmp_path, capfd):
    from spinfast.agent.example import copy_example

    folder = Path(copy_example(tmp_path / "both"))
    (folder / "pyt_save").mkdir()
    shutil.copy(FIXTURES / "ppo_cartpole" / "zip" / "pyt_save" / "model.pt",
                folder / "pyt_save" / "model30.pt")  # fmt: skip
    load_policy(folder)  # model30 is the highest number
    assert f"Loading from {folder / 'pyt_save' / 'model30.pt'}." in capfd.readouterr().err
    load_policy(folder, itr=29)
    assert f"Loading from {folder / 'simple_save29'}." in capfd.readouterr().err


def test_policy_tf_on_a_pytorch_snapshot_is_refused(tmp_path):
    folder = run_folder(tmp_path, FIXTURES / "ppo_cartpole" / "zip" / "pyt_save" / "model.pt")
    with pytest.raises(SnapshotError, match="is a PyTorch snapshot: --policy tf loads TF ones"):
        load_policy(folder, backend="tf")


def test_logx_writes_pyt_save_as_spinning_up_and_spinfast_runs_it(tmp_path, capsys):
    """setup_pytorch_saver + save_state write pyt_save/modelN.pt with torch.save, and the
    native reader runs it as torch does. torch is an optional extra CI does not install
    (about 4 GB); the files it writes are covered without it by the committed fixtures."""
    torch = pytest.importorskip("torch", reason="torch is an optional extra not installed in CI")
    import importlib.util
    import sys

    from spinfast.logx import EpochLogger

    core_path = Path(__file__).resolve().parents[2] / "shared/spinningup/spinup/algos/pytorch"
    spec = importlib.util.spec_from_file_location("sf_ddpg_core", core_path / "ddpg" / "core.py")
    core = importlib.util.module_from_spec(spec)
    sys.modules["sf_ddpg_core"] = core
    spec.loader.exec_module(core)
    env = gymnasium.make("Pendulum-v1")
    torch.manual_seed(0)
    ac = core.MLPActorCritic(env.observation_space, env.action_space, hidden_sizes=(16, 16))
    logger = EpochLogger(output_dir=tmp_path / "run")
    logger.setup_pytorch_saver(ac)
    logger.save_state({"env": env}, 3)
    logger.close()
    assert (tmp_path / "run" / "pyt_save" / "model3.pt").is_file()
    _, get_action = load_policy(tmp_path / "run")
    obs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with torch.no_grad():
        want = ac.act(torch.as_tensor(obs))
    np.testing.assert_allclose(get_action.batch(obs), want, rtol=1e-5, atol=1e-6)
