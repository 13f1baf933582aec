"""The PyTorch fixtures of tests/fixtures/torch against torch itself.

Three checks, each with torch as the oracle:
- regenerating the references (Spinning Up's cores, fixed seeds) gives the committed ones;
- the committed model.pt files, read back (zip: torch.load(weights_only=True); legacy: the
  generator's restricted unpickler), give the committed references;
- the same for the real agents of shared/agents, whose references were made that way.

Self-contained: it imports the generator by path, nothing from spinfast.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

try:
    import torch  # noqa: F401  (the generator imports it where it needs it)
except ImportError:
    pytest.skip("torch is an optional extra not installed in CI", allow_module_level=True)
pytest.importorskip("gymnasium")

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "torch"


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "_torch_fixture_generator", FIXTURES / "make_fixtures.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()
GENERATED = [name for name, *_ in gen.AGENTS]


@pytest.fixture(scope="module")
def cores():
    """Spinning Up's cores under their real names and the forks' stubs, all in sys.modules
    for the module's tests, removed afterwards."""
    try:
        mods = {
            f"spinup.algos.pytorch.{a}.core": None for a in ("vpg", "ppo", "ddpg", "td3", "sac")
        }
        for name in mods:
            mods[name] = gen.load_core_as(name.split(".")[3], name)
        mods.update(gen.stub_modules())
    except FileNotFoundError as e:
        gen.unregister_cores()
        pytest.skip(str(e))
    yield mods
    gen.unregister_cores()


def _compare(got: dict, ref, what: str) -> None:
    assert sorted(got) == sorted(ref.files), what
    for key in ref.files:
        want = ref[key]
        assert got[key].dtype == want.dtype, (what, key)
        assert got[key].shape == want.shape, (what, key)
        np.testing.assert_allclose(got[key], want, rtol=1e-5, atol=1e-6, err_msg=f"{what}: {key}")


def test_regenerated_references_match_committed(tmp_path, cores):
    manifest = gen.make_generated(tmp_path, write_models=False)
    assert sorted(manifest) == sorted(GENERATED)
    for name in GENERATED:
        for npz in ("reference.npz", "state_dict.npz"):
            with np.load(FIXTURES / name / npz) as ref, np.load(tmp_path / name / npz) as got:
                _compare(dict(got), ref, f"{name}/{npz}")


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
@pytest.mark.parametrize("name", GENERATED)
def test_committed_model_gives_committed_references(name, fmt, cores):
    seed = dict((n, s) for n, _, _, s in gen.AGENTS)[name]
    path = FIXTURES / name / fmt / "pyt_save" / "model.pt"
    assert path.read_bytes()[:2] == (b"PK" if fmt == "zip" else b"\x80\x02")
    ac, how = gen.load_agent(path, cores)
    assert ("weights_only" in how) == (fmt == "zip")
    with np.load(FIXTURES / name / "reference.npz") as ref:
        got = gen.references(ac, ref["obs"], sample_seed=2000 + seed)
        for key in ref.files:  # same torch, same bytes: equal, not just close
            np.testing.assert_array_equal(got[key], ref[key], err_msg=f"{name}/{fmt}: {key}")
    with np.load(FIXTURES / name / "state_dict.npz") as ref:
        state = gen.state_arrays(ac)
        assert list(state) == list(ref.files)  # state_dict order is kept
        for key in ref.files:
            np.testing.assert_array_equal(state[key], ref[key], err_msg=f"{name}/{fmt}: {key}")
    meta = json.loads((FIXTURES / "manifest.json").read_text())["generated"][name]
    assert gen.state_digest(ac) == meta["state_dict"]


def test_weights_only_refuses_legacy_module_pickles(cores):
    """Why legacy_load exists: torch's weights-only unpickler accepts no persistent id but
    'storage', and a legacy pickle of an nn.Module holds ('module', class, file, source)."""
    path = FIXTURES / "ppo_pendulum" / "legacy" / "pyt_save" / "model.pt"
    with pytest.raises(pickle.UnpicklingError, match="Only persistent_load of storage"):
        gen.safe_load(path, cores)


def test_legacy_load_refuses_globals_outside_the_allowlist(tmp_path, cores):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "model.pt"
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {}}
    with open(path, "wb") as f:
        for obj in (gen.LEGACY_MAGIC, gen.LEGACY_PROTOCOL, sys_info, Evil(), []):
            pickle.dump(obj, f, protocol=2)
    with pytest.raises(gen.LegacyFormatError, match="not allowed"):
        gen.legacy_load(path, cores)
    assert not marker.exists()


@pytest.mark.parametrize("name", list(gen.SHARED_AGENTS))
def test_shared_agent_references(name, cores):
    try:
        agents = gen.agents_dir()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    path = agents / name / "pyt_save" / "model.pt"
    meta = json.loads((FIXTURES / "manifest.json").read_text())["shared_agents"][name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == meta["sha256"]
    ac, how = gen.load_agent(path, cores)
    assert how == meta["loaded_with"]
    assert gen.state_digest(ac) == meta["state_dict"]
    with np.load(FIXTURES / "shared_agents" / f"{name}.npz") as ref:
        got = gen.references(ac, ref["obs"], sample_seed=meta["sample_seed"])
        _compare(got, ref, name)
    # the obs batch itself comes from the documented seed
    with np.load(FIXTURES / "shared_agents" / f"{name}.npz") as ref:
        np.testing.assert_array_equal(
            gen.make_obs(meta["obs_dim"], None, None, seed=meta["obs_seed"]), ref["obs"]
        )


def test_fixtures_stay_small():
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024, total
