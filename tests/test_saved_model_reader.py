"""TF1 agents without TensorFlow: the Rust SavedModel reader against a TF session.

The oracle is TensorFlow itself: the policy graph read in Rust (protobuf + TensorBundle)
must equal, node for node, the one ``extract_policy_graph`` takes out of a TF session
that loaded the same folder (same ops, inputs and attributes; the same weights, bit
for bit), on agents written by Spinning Up's six TF1 cores (``../shared/spinningup``),
on TF 1.x-style ``VariableV2`` and today's resource variables, on the bundled agent,
and on real folders written by TF 1.12 and 1.14 (``../shared/agents``). Broken folders
are one clear error each, never a crash.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from agent_fixtures import cli
from spinfast import _core
from spinfast.agent.example import copy_example
from spinfast.agent.policy import NativePolicy
from spinfast.errors import SnapshotError
from spinfast.test_policy import load_policy

tf = pytest.importorskip("tensorflow", reason="the Rust reader is checked against TF")

from policy_graphs import (  # noqa: E402
    SPINUP_AGENTS,
    categorical,
    load_agent,
    sac,
    save_agent,
    save_spinup_agent,
)
from spinfast.agent.graph import extract_policy_graph  # noqa: E402

SHARED = Path(os.environ.get("SPINFAST_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def assert_same_graph(ours, theirs) -> None:
    """Node for node: names, ops, inputs; values bit for bit (NumPy's extraction makes
    0-d values 1-d); attributes as TF's importer gives them, which adds defaults the
    stored graph does not hold."""
    assert ours.input == theirs.input and ours.outputs == theirs.outputs
    assert [n.name for n in ours.nodes] == [n.name for n in theirs.nodes]
    for a, b in zip(ours.nodes, theirs.nodes, strict=True):
        assert (a.op, a.inputs) == (b.op, b.inputs), a.name
        assert a.attrs.items() <= b.attrs.items(), a.name
        if b.value is None:
            assert a.value is None, a.name
        else:
            assert a.value.dtype == b.value.dtype, a.name
            assert a.value.tobytes() == b.value.tobytes() and a.value.size == b.value.size


def session_graph(path: Path):
    sess, model = load_agent(path)
    actions = {k: model[k] for k in ("pi", "mu") if k in model}
    return sess, model, extract_policy_graph(sess, model["x"], actions)


@pytest.fixture(scope="module")
def spinup_agents(tmp_path_factory):
    root = tmp_path_factory.mktemp("spinup")
    return {
        (algo, env, resource): save_spinup_agent(
            root / f"{algo}-{env}-{resource}", algo, env, resource
        )  # fmt: skip
        for algo, env in SPINUP_AGENTS
        for resource in (True, False)
    }


@pytest.mark.parametrize("resource", [True, False], ids=["resource", "VariableV2"])
@pytest.mark.parametrize("algo_env", SPINUP_AGENTS, ids="-".join)
def test_spinning_up_cores_read_as_tf_loads_them(spinup_agents, algo_env, resource):
    path = spinup_agents[(*algo_env, resource)]
    sess, model, theirs = session_graph(path)
    with_info = _core.read_saved_model(path, {"x": model["x"].name, "pi": model["pi"].name,
                                              **({"mu": model["mu"].name} if "mu" in model
                                                 else {})})  # fmt: skip
    assert_same_graph(with_info, theirs)
    assert_same_graph(_core.read_saved_model(path), theirs)  # from the serving signature
    obs = np.random.default_rng(1).normal(size=(32, model["x"].shape[-1])).astype(np.float32)
    key = {"ddpg": "pi", "td3": "pi", "sac": "mu"}.get(algo_env[0])
    if key:  # deterministic: the native program's actions are the session's
        want = sess.run(model[key], {model["x"]: obs})
        np.testing.assert_allclose(NativePolicy(with_info, key).batch(obs), want, rtol=1e-5,
                                   atol=1e-5)  # fmt: skip
    sess.close()


@pytest.mark.parametrize("snapshot", ["simple_save", "simple_save0"])
def test_the_bundled_agent_reads_as_tf_loads_it(snapshot):
    path = Path(copy_example()) / snapshot
    sess, _, theirs = session_graph(path)
    assert_same_graph(_core.read_saved_model(path), theirs)
    sess.close()


@pytest.mark.parametrize("resource", [True, False], ids=["resource", "VariableV2"])
@pytest.mark.parametrize("build", [categorical(), sac(log_std_range=(-0.5, 0.5))],
                         ids=["categorical", "sac"])  # fmt: skip
def test_user_built_agents(tmp_path, build, resource):
    path = save_agent(tmp_path / "agent", build, 3 if build.__qualname__.startswith("sac")
                      else 4, resource=resource)  # fmt: skip
    sess, model, theirs = session_graph(path)
    assert_same_graph(_core.read_saved_model(path), theirs)
    sess.close()


def real_session_graph(folder: Path):
    """A real folder loaded the way Spinning Up's restore_tf_graph loads it."""
    from spinfast.agent.tf_model import restore_tf_graph

    sess = tf.compat.v1.Session(graph=tf.Graph())
    model = restore_tf_graph(sess, folder)
    actions = {k: model[k] for k in ("pi", "mu") if k in model}
    return sess, model, extract_policy_graph(sess, model["x"], actions)


@pytest.mark.parametrize("name", ["hazekiah_installtest", "windturbine_ddpg"])
def test_real_folders_from_tf_1_12_and_1_14(name):
    folder = SHARED / "agents" / name / "simple_save"
    sess, model, theirs = real_session_graph(folder)
    ours = _core.read_saved_model(folder, {"x": model["x"].name, "pi": model["pi"].name})
    assert_same_graph(ours, theirs)
    assert_same_graph(_core.read_saved_model(folder), theirs)
    obs = np.random.default_rng(2).normal(size=(16, model["x"].shape[-1])).astype(np.float32)
    if name == "windturbine_ddpg":  # DDPG's pi is deterministic, and reads x alone
        want = sess.run(model["pi"], {model["x"]: obs})
        np.testing.assert_allclose(NativePolicy(ours, "pi").batch(obs), want, rtol=1e-5,
                                   atol=1e-5)  # fmt: skip
    sess.close()


def test_a_graph_that_is_not_an_agent_names_what_it_has(tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(SHARED / "agents" / "hetsched_tf1_twohead", folder)
    os.remove(folder / "tf1_save" / "model_info.pkl")  # the signature alone
    with pytest.raises(SnapshotError, match=r'there is no input "x" .* its inputs are \[.*xj'):
        load_policy(folder)
    shutil.copy(SHARED / "agents" / "hetsched_tf1_twohead" / "tf1_save" / "model_info.pkl",
                folder / "tf1_save")  # fmt: skip
    with pytest.raises(SnapshotError, match="model_info.pkl has no input 'x'"):
        load_policy(folder)


def spoil_byte(path: Path, at: float) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("spoil", "file", "says"),
    [
        (lambda p: (p / "saved_model.pb").write_bytes((p / "saved_model.pb").read_bytes()[:999]),
         "saved_model.pb", ""),
        (lambda p: spoil_byte(p / "variables" / "variables.index", 0.3),
         "variables/variables.index", "checksum"),
        # early in the shard: the policy's own weights (pi/...), which are the ones read
        (lambda p: spoil_byte(p / "variables" / "variables.data-00000-of-00001", 0.02),
         "variables/variables.data-00000-of-00001", "checksum"),
        (lambda p: (p / "variables" / "variables.data-00000-of-00001").write_bytes(b"\0" * 64),
         "variables/variables.data-00000-of-00001", ""),
        (lambda p: os.remove(p / "variables" / "variables.data-00000-of-00001"),
         "variables/variables.data-00000-of-00001", "does not exist"),
    ],
    ids=["truncated pb", "index byte", "data byte", "short shard", "no shard"],
)  # fmt: skip
def test_a_broken_folder_is_one_line_naming_the_file(capsys, tmp_path, spoil, file, says):
    folder = Path(copy_example(tmp_path / "agent"))
    spoil(folder / "simple_save29")
    code, out, err = cli(capsys, folder, "-n", 1, "-nr", "--out", tmp_path / "o")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith(f"error: {folder / 'simple_save29' / file}: ")
    assert says in errors[0]
