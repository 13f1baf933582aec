"""spinfast test_policy and its Python API, on agents built and saved here (saved_agents.py).

Returns are checked against hand-computed values (LineEnv), a hand-written
Gymnasium loop (CartPole), pandas reading progress.txt, and TF sessions.
"""

from __future__ import annotations

import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="the tf extra is not installed: pip install '.[tf]'")

import joblib  # noqa: E402
import pandas as pd  # noqa: E402

import saved_agents as sa  # noqa: E402
import spinfast  # noqa: E402
from agent_fixtures import (  # noqa: E402
    ANSI,
    CARTPOLE_GAINS,
    cli,
    copy_agent,
    episodes_of,
    one_line_error,
)
from spinfast.errors import EnvironmentNotFound, SnapshotError  # noqa: E402
from spinfast.test_policy import (  # noqa: E402
    load_policy,
    load_policy_and_env,
    restore_tf_graph,
    run_policy,
)

TESTS = osp.dirname(osp.abspath(__file__))


# --- output, as Spinning Up's --------------------------------------------------------------


def test_output_as_spinning_up(capsys, sac_like, tmp_path):
    out_dir = tmp_path / "t"
    code, out, err = cli(capsys, sac_like, "-n", 3, "-nr", "-d", "--out", out_dir)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Logging data to {out_dir}/progress.txt"
    assert lines[1:4] == [f"Episode {k} \t EpRet 20.000 \t EpLen 5" for k in range(3)]
    table = lines[4:]
    assert table[0] == table[-1] == "-" * 37
    assert [row.split("|")[1].strip() for row in table[1:-1]] == [
        "AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet", "EpLen",
    ]  # fmt: skip
    progress = pd.read_table(out_dir / "progress.txt")
    assert progress.to_dict("records") == [
        {"AverageEpRet": 20.0, "StdEpRet": 0.0, "MaxEpRet": 20.0, "MinEpRet": 20.0, "EpLen": 5.0}
    ]
    assert "Loading from" in err and f"{sac_like}/simple_save20" in err
    assert "Using deterministic action op." in err


@pytest.mark.parametrize(
    ("itr", "snapshot", "expected"),
    [(None, "simple_save20", 20.0), (-1, "simple_save20", 20.0), (0, "simple_save0", 10.0),
     (10, "simple_save10", 15.0), (20, "simple_save20", 20.0)],
)  # fmt: skip
def test_itr_picks_the_snapshot(capsys, sac_like, tmp_path, itr, snapshot, expected):
    args = [] if itr is None else ["-i", itr]
    code, out, err = cli(capsys, sac_like, "-n", 2, "-nr", "-d", "--out", tmp_path / "t", *args)
    assert code == 0, err
    assert episodes_of(out) == [(0, expected, 5), (1, expected, 5)]
    assert f"Loading from {sac_like}/{snapshot}." in err


def test_itr_last_is_the_unnumbered_one_when_none_is_numbered(capsys, ppo_like, tmp_path):
    code, out, err = cli(capsys, ppo_like, "-n", 2, "-nr", "--out", tmp_path / "t")
    assert code == 0, err
    assert f"Loading from {ppo_like}/tf1_save." in err
    assert [(k, ret, n) for k, ret, n in episodes_of(out)] == [(0, 15.0, 5), (1, 15.0, 5)]


def test_len_and_episodes(capsys, sac_like, tmp_path):
    code, out, _ = cli(capsys, sac_like, "-l", 2, "-n", 4, "-nr", "-d", "-i", 10, "--out", tmp_path)
    # mu = t + 1 for t = 0, 1
    assert code == 0 and episodes_of(out) == [(k, 3.0, 2) for k in range(4)]
    code, out, _ = cli(capsys, sac_like, "--len", 0, "--episodes", 1, "--norender", "-d",
                       "--out", tmp_path / "b")  # fmt: skip
    assert code == 0 and episodes_of(out) == [(0, 20.0, 5)]


def test_default_is_100_episodes(capsys, ppo_like, tmp_path):
    code, out, _ = cli(capsys, ppo_like, "-nr", "--out", tmp_path)
    assert code == 0 and len(episodes_of(out)) == 100


def test_render_uses_the_envs_render_and_nr_never_calls_it(capsys, sac_like, tmp_path):
    before = sa.LineEnv.total_renders
    assert cli(capsys, sac_like, "-n", 2, "-d", "--out", tmp_path / "a")[0] == 0
    assert sa.LineEnv.total_renders - before == 2 * sa.HORIZON
    before = sa.LineEnv.total_renders
    assert cli(capsys, sac_like, "-n", 2, "-nr", "--out", tmp_path / "b")[0] == 0
    assert sa.LineEnv.total_renders == before


def test_deterministic_without_mu_warns_and_uses_pi(capsys, ppo_like, tmp_path):
    code, out, err = cli(capsys, ppo_like, "-n", 1, "-nr", "-d", "--out", tmp_path)
    assert code == 0
    assert "Warning: this agent has no deterministic action op 'mu'" in err
    assert "using its default action op 'pi'" in err
    assert episodes_of(out) == [(0, 15.0, 5)]


def test_sampled_pi_differs_from_mu(capsys, sac_like, tmp_path):
    code, out, err = cli(capsys, sac_like, "-n", 5, "-nr", "--seed", 1, "--out", tmp_path)
    assert code == 0 and "Using default action op." in err
    rets = [ret for _, ret, _ in episodes_of(out)]
    assert len(set(rets)) == 5 and all(ret != 20.0 for ret in rets)
    # N(20, 5) returns (five unit-variance samples), so within 6 sigma of the mean
    assert all(abs(ret - 20.0) < 6 * 5**0.5 for ret in rets)


# --- both env APIs, and --env ------------------------------------------------------------


def test_old_gym_env_from_vars_pkl(capsys, old_gym, tmp_path):
    code, out, err = cli(capsys, old_gym, "-n", 2, "-nr", "-d", "--seed", 4, "--out", tmp_path)
    assert code == 0, err
    assert episodes_of(out) == [(0, 20.0, 5), (1, 20.0, 5)]


def test_env_module_id_instead_of_vars_pkl(capsys, sac_like, tmp_path):
    code, out, err = cli(capsys, sac_like, "--env", "saved_agents:SpinfastLine-v0", "-n", 2,
                         "-nr", "-d", "-i", 0, "--out", tmp_path)  # fmt: skip
    assert code == 0, err
    assert episodes_of(out) == [(0, 10.0, 5), (1, 10.0, 5)]


def test_cartpole_matches_a_hand_written_gymnasium_loop(capsys, cartpole, tmp_path):
    expected = [(k, ret, n) for k, (ret, n) in enumerate(sa.cartpole_oracle(CARTPOLE_GAINS, 5, 7))]
    assert len({ret for _, ret, _ in expected}) > 1  # the seeds matter
    for i, env_args in enumerate([[], ["--env", "CartPole-v1"]]):
        code, out, err = cli(capsys, cartpole, "-n", 5, "-nr", "--seed", 7,
                             "--out", tmp_path / str(i), *env_args)  # fmt: skip
        assert code == 0, err
        assert episodes_of(out) == expected


def test_env_never_unpickles_vars_pkl(capsys, ppo_like, tmp_path):
    from test_snapshots import MakesDir

    folder = copy_agent(ppo_like, tmp_path / "agent")
    ran = tmp_path / "vars-pkl-ran"
    joblib.dump({"env": MakesDir(str(ran))}, osp.join(folder, "vars.pkl"))
    code, out, err = cli(capsys, folder, "--env", "saved_agents:SpinfastLine-v0", "-n", 1,
                         "-nr", "--out", tmp_path / "a")  # fmt: skip
    assert code == 0, err
    assert not ran.exists()
    # without --env, the same file runs its code: that is what --env avoids
    code, _, err = cli(capsys, folder, "-n", 1, "-nr", "--out", tmp_path / "b")
    assert ran.exists()
    one_line_error(code, "", err, "Environment not found!")


def test_env_unknown_id(capsys, ppo_like, tmp_path):
    code, out, err = cli(capsys, ppo_like, "--env", "NoSuchEnv-v3", "-nr", "--out", tmp_path)
    line = one_line_error(code, out, err, "Environment not found! --env NoSuchEnv-v3: ")
    assert "gymnasium.pprint_registry()" in line


def test_env_whose_observations_the_agent_cannot_take(capsys, cartpole, tmp_path):
    code, out, err = cli(capsys, cartpole, "--env", "saved_agents:SpinfastLine-v0", "-nr",
                         "--out", tmp_path)  # fmt: skip
    line = one_line_error(code, out, err, "error: the agent takes observations of shape (4,)")
    assert "gives shape (2,)" in line


def test_rendering_without_pygame_says_to_use_nr(capsys, cartpole, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)  # as if it were not installed
    code, out, err = cli(capsys, cartpole, "--env", "CartPole-v1", "-n", 1, "--out", tmp_path)
    line = one_line_error(code, out, err, "error: ")
    assert "pygame" in line and "-nr" in line


# --- --seed and --json -------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["coin", "sac_like"])
def test_same_seed_same_episodes(capsys, request, tmp_path, agent):
    folder = request.getfixturevalue(agent)
    runs = []
    for i, seed in enumerate([3, 3, 4]):
        code, out, err = cli(capsys, folder, "-i", 0, "-n", 8, "-nr", "--seed", seed,
                             "--out", tmp_path / str(i))  # fmt: skip
        assert code == 0, err
        runs.append(out.splitlines()[1:])
    assert runs[0] == runs[1]  # the whole output after the Logging line
    assert episodes_of("\n".join(runs[0])) != episodes_of("\n".join(runs[2]))
    rets = {ret for _, ret, _ in episodes_of("\n".join(runs[0]))}
    assert len(rets) > 1  # sampled for real, not a constant policy


def test_json(capsys, coin, tmp_path):
    out_dir = tmp_path / "t"
    code, out, err = cli(capsys, coin, "-n", 6, "-nr", "--seed", 0, "-i", 0, "--json",
                         "--out", out_dir)  # fmt: skip
    assert code == 0, err
    report = json.loads(out)  # stdout is the JSON alone
    assert report["snapshot"] == f"{coin}/simple_save0"
    assert report["env"] == f"{coin}/vars0.pkl"
    assert (report["seed"], report["action"], report["output_dir"]) == (0, "pi", str(out_dir))
    # the human output went to stderr, episode for episode
    human = episodes_of(ANSI.sub("", err))
    episodes = [(e["index"], e["ret"], e["length"]) for e in report["episodes"]]
    assert episodes == human and len(episodes) == 6
    assert all(length == 5 and ret in {0, 1, 2, 3, 4, 5} for _, ret, length in episodes)
    # the summary is progress.txt's row, which pandas reads, and matches the episodes
    row = pd.read_table(out_dir / "progress.txt").iloc[0].to_dict()
    assert report["summary"] == row
    rets = np.array([ret for _, ret, _ in episodes])
    assert row["AverageEpRet"] == pytest.approx(rets.mean(), rel=1e-6)
    assert row["StdEpRet"] == pytest.approx(rets.std(), rel=1e-6)
    assert (row["MaxEpRet"], row["MinEpRet"], row["EpLen"]) == (rets.max(), rets.min(), 5.0)


def test_default_out_is_a_new_folder_under_the_data_dir(capsys, ppo_like, tmp_path, monkeypatch):
    import spinfast.writing.user_config

    monkeypatch.setattr(spinfast.writing.user_config, "DEFAULT_DATA_DIR", str(tmp_path))
    dirs = []
    for _ in range(2):
        code, out, _ = cli(capsys, ppo_like, "-n", 1, "-nr")
        assert code == 0
        path = out.splitlines()[0].removeprefix("Logging data to ")
        dirs.append(osp.dirname(path))
        assert osp.isfile(path)
    assert dirs[0] != dirs[1]
    for d in dirs:
        assert osp.dirname(d) == str(tmp_path / "test_policy")
        assert osp.basename(d).split("_")[0].count("-") == 2  # starts with the date
        assert osp.basename(ppo_like) in osp.basename(d)


def test_out_holding_a_run_is_refused_before_loading(capsys, ppo_like, tmp_path):
    (tmp_path / "progress.txt").write_text("EpLen\n5\n")
    code, out, err = cli(capsys, ppo_like, "-nr", "--out", tmp_path)
    line = one_line_error(code, out, err, f"error: --out {tmp_path} already holds a progress.txt")
    assert "Loading from" not in err
    assert (tmp_path / "progress.txt").read_text() == "EpLen\n5\n"
    assert line


# --- Environment not found, and other bad input ---------------------------------------------


@pytest.mark.parametrize(
    ("spoil", "cause"),
    [
        (lambda d: os.remove(osp.join(d, "vars.pkl")), "vars.pkl does not exist"),
        (lambda d: open(osp.join(d, "vars.pkl"), "wb").close(), "vars.pkl is empty (0 bytes)"),
        (
            lambda d: joblib.dump({"epoch": 3}, osp.join(d, "vars.pkl")),
            "vars.pkl holds no environment",
        ),
    ],
)
def test_environment_not_found(capsys, ppo_like, tmp_path, spoil, cause):
    folder = copy_agent(ppo_like, tmp_path / "agent")
    spoil(folder)
    code, out, err = cli(capsys, folder, "-nr", "--out", tmp_path / "t")
    line = one_line_error(code, out, err, f"Environment not found! {folder}/{cause}")
    assert line.endswith("run_policy(env, get_action)") and "--env ENV_ID" in line
    assert "Loading from" not in err  # it fails before loading the agent
    assert not (tmp_path / "t").exists()


def test_environment_not_found_module_gone_subprocess(ppo_like, tmp_path):
    """The env's module cannot be imported: one line, exit 1, and TF never imported."""
    folder = copy_agent(ppo_like, tmp_path / "agent")
    (tmp_path / "gone_env_mod.py").write_text("class E:\n    pass\n")
    code = (
        "import sys, joblib; sys.path.insert(0, sys.argv[1]); import gone_env_mod;"
        "joblib.dump({'env': gone_env_mod.E()}, sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path), f"{folder}/vars.pkl"], check=True)
    probe = (
        "import sys; from spinfast.cli import main; code = main(sys.argv[1:]);"
        "print('tensorflow imported:', 'tensorflow' in sys.modules); sys.exit(code)"
    )
    proc = run([sys.executable, "-c", probe, "test_policy", folder, "-nr", "--out", tmp_path / "t"])
    line = one_line_error(proc.returncode, proc.stdout, proc.stderr, "Environment not found!")
    assert "needs the module 'gone_env_mod'" in line
    assert "tensorflow imported: False" in proc.stdout


def run(argv, **kwargs):
    env = {**os.environ, "PYTHONPATH": TESTS, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(list(map(str, argv)), capture_output=True, text=True, env=env, **kwargs)


@pytest.mark.parametrize(
    ("make", "start"),
    [
        (lambda t: t / "missing", "error: {t}/missing: no such folder"),
        (lambda t: t, "error: {t}: not a Spinning Up output folder with a saved agent"),
    ],
)
def test_not_an_output_folder(capsys, tmp_path, make, start):
    code, out, err = cli(capsys, make(tmp_path), "-nr")
    one_line_error(code, out, err, start.format(t=tmp_path))


def test_itr_with_no_such_snapshot_lists_them(capsys, sac_like):
    code, out, err = cli(capsys, sac_like, "-i", 7, "-nr")
    line = one_line_error(code, out, err, f"error: {sac_like}: no snapshot number 7")
    assert line.endswith("simple_save, simple_save0, simple_save10, simple_save20")


@pytest.mark.parametrize("missing", ["saved_model.pb", "variables"])
def test_incomplete_snapshot(capsys, ppo_like, tmp_path, missing):
    import shutil

    folder = copy_agent(ppo_like, tmp_path / "agent")
    path = osp.join(folder, "tf1_save", missing)
    shutil.rmtree(path) if osp.isdir(path) else os.remove(path)
    code, out, err = cli(capsys, folder, "-nr", "--out", tmp_path / "t")
    one_line_error(code, out, err, f"error: {folder}/tf1_save: incomplete snapshot: no {missing}")


def test_without_model_info_the_signature_names_the_tensors(capsys, ppo_like, tmp_path):
    """Spinning Up's .gitignore drops *.pkl: a snapshot without model_info.pkl runs from
    the graph's serving signature, giving the episodes it gives with the file."""
    folder = copy_agent(ppo_like, tmp_path / "agent")
    runs = []
    for name in ("with", "without"):
        if name == "without":
            os.remove(osp.join(folder, "tf1_save", "model_info.pkl"))
        code, out, err = cli(capsys, folder, "-n", 4, "-nr", "--seed", 3, "--out",
                             tmp_path / name)  # fmt: skip
        assert code == 0, err
        runs.append(episodes_of(out))
    assert runs[0] == runs[1] and len(runs[0]) == 4


@pytest.mark.parametrize(
    ("spoil", "start"),
    [
        (lambda p: open(f"{p}/model_info.pkl", "wb").write(b"\x80\x04junk"),
         "error: {p}/model_info.pkl: is not the model_info.pkl Spinning Up writes"),
        (lambda p: joblib.dump({"inputs": {"x": "nope:0"}, "outputs": {"pi": "add:0"}},
                               f"{p}/model_info.pkl"),
         "error: {p}: model_info.pkl names the tensor 'nope:0' for 'x'"),
        (lambda p: joblib.dump({"inputs": {"x": "Placeholder:0"}, "outputs": {}},
                               f"{p}/model_info.pkl"),
         "error: {p}: model_info.pkl has no output 'pi'"),
        (lambda p: open(f"{p}/saved_model.pb", "wb").write(b"\x00garbage"),
         "error: {p}/saved_model.pb: not a SavedModel protobuf"),
        (lambda p: [os.remove(f) for f in _files(f"{p}/variables")],
         "error: {p}/variables/variables.index: does not exist"),
    ],
)  # fmt: skip
def test_snapshot_that_is_not_what_spinning_up_writes(capsys, ppo_like, tmp_path, spoil, start):
    folder = copy_agent(ppo_like, tmp_path / "agent")
    spoil(f"{folder}/tf1_save")
    code, out, err = cli(capsys, folder, "-nr", "--out", tmp_path / "t")
    one_line_error(code, out, err, start.format(p=f"{folder}/tf1_save"))


def _files(folder):
    return [osp.join(folder, f) for f in os.listdir(folder)]


@pytest.mark.parametrize("argv", [["-n", "0"], ["-i", "-2"], ["--seed", "-1"], ["-l", "x"]])
def test_bad_flags(capsys, ppo_like, argv):
    with pytest.raises(SystemExit) as exit_:
        cli(capsys, ppo_like, *argv)
    assert exit_.value.code == 2
    assert "usage: spinfast test_policy" in capsys.readouterr().err


def test_both_entry_points_and_no_traceback(ppo_like, tmp_path):
    # one subprocess runs an agent (importing TF takes seconds), the other fails early
    module = run([sys.executable, "-m", "spinfast", "test_policy", ppo_like, "-n", 2, "-nr",
                  "--out", tmp_path / "b", "--json"])  # fmt: skip
    assert module.returncode == 0, module.stderr
    assert [e["ret"] for e in json.loads(module.stdout)["episodes"]] == [15.0, 15.0]
    bad = run(["spinfast", "test_policy", tmp_path / "none", "-nr"])
    one_line_error(bad.returncode, bad.stdout, bad.stderr, f"error: {tmp_path}/none: no such")


def test_without_tensorflow_runs_natively_and_policy_tf_says_what_to_install(ppo_like, tmp_path):
    """TensorFlow blocked from importing: the agent loads and runs all the same (read in
    Rust); --policy tf says which extra to install."""
    probe = (
        "import sys; sys.modules['tensorflow'] = None; from spinfast.cli import main;"
        "sys.exit(main(sys.argv[1:]))"
    )
    argv = [sys.executable, "-c", probe, "test_policy", ppo_like, "-nr", "-n", 2, "--json"]
    proc = run([*argv, "--out", tmp_path / "a"])
    assert proc.returncode == 0, proc.stderr
    assert [e["ret"] for e in json.loads(proc.stdout)["episodes"]] == [15.0, 15.0]
    assert "TF session" not in proc.stderr and "Traceback" not in proc.stderr
    proc = run([*argv, "--policy", "tf", "--out", tmp_path / "b"])
    line = one_line_error(proc.returncode, proc.stdout, proc.stderr, "error: this needs")
    assert line == 'error: this needs TensorFlow: pip install "spinfast[tf]"'


# --- the Python API ------------------------------------------------------------------------


def test_load_policy_gives_env_and_get_action(sac_like, capsys):
    env, get_action = load_policy(sac_like, itr=10, deterministic=True)
    assert isinstance(env, sa.LineEnv)
    # mu = t + bias with bias 1 at snapshot 10
    np.testing.assert_allclose(get_action(np.array([3.0, 1.0], np.float32)), [4.0])
    env2, get_action2 = load_policy_and_env(sac_like, "last", True)
    np.testing.assert_allclose(get_action2(np.array([3.0, 1.0])), [5.0])
    assert isinstance(env2, sa.LineEnv)


def test_load_policy_without_env_warns_and_gives_none(ppo_like, tmp_path, capsys):
    folder = copy_agent(ppo_like, tmp_path / "agent")
    os.remove(osp.join(folder, "vars.pkl"))
    env, get_action = load_policy(folder)
    err = capsys.readouterr().err
    assert env is None
    assert f"Warning: Environment not found! {folder}/vars.pkl does not exist" in err
    np.testing.assert_allclose(get_action(np.array([0.0, 1.0])), [1.0], atol=1e-6)


def test_run_policy_none_raises_environment_not_found(ppo_like, tmp_path):
    _, get_action = load_policy(ppo_like)
    with pytest.raises(AssertionError, match="^Environment not found!") as err:
        run_policy(None, get_action, output_dir=tmp_path)
    assert isinstance(err.value, spinfast.EnvironmentNotFound)
    assert isinstance(err.value, EnvironmentNotFound)
    assert not (tmp_path / "progress.txt").exists()


def test_the_seed_pages_recipe(ppo_like, tmp_path, monkeypatch, capsys):
    """_, get_action = load_policy(dir); env = your_env.make(); run_policy(env, get_action)"""
    import spinfast.writing.user_config

    monkeypatch.setattr(spinfast.writing.user_config, "DEFAULT_DATA_DIR", str(tmp_path))
    _, get_action = load_policy(ppo_like)
    env = sa.LineEnv()
    result = run_policy(env, get_action)
    out = ANSI.sub("", capsys.readouterr().out)
    assert out.splitlines()[0] == f"Logging data to {result.output_dir}/progress.txt"
    assert episodes_of(out) == [(k, 15.0, 5) for k in range(100)]
    assert env.renders == 100 * sa.HORIZON  # render=True by default, as Spinning Up
    assert len(result.episodes) == 100
    assert result.summary == pd.read_table(f"{result.output_dir}/progress.txt").iloc[0].to_dict()


def test_run_policy_seed_and_max_len(sac_like, tmp_path, capsys):
    _, get_action = load_policy(sac_like, deterministic=True)
    env = sa.LineEnv()
    result = run_policy(env, get_action, 3, 2, False, 5, output_dir=tmp_path)
    assert [(e.index, e.ret, e.length) for e in result.episodes] == [(0, 9.0, 3), (1, 9.0, 3)]
    assert env.seeds == [5, 6] and env.renders == 0


def test_seeded_sampling_repeats_and_unseeded_does_not(sac_like):
    obs = np.array([1.0, 1.0], np.float32)

    def actions(seed):
        _, get_action = load_policy(sac_like, seed=seed)
        return [float(get_action(obs)[0]) for _ in range(4)]

    assert actions(11) == actions(11)
    assert actions(11) != actions(12)
    assert actions(None) != actions(None)


def test_restore_tf_graph_and_a_value_function(sac_like):
    sess = tf.compat.v1.Session(graph=tf.Graph())
    model = restore_tf_graph(sess, osp.join(sac_like, "simple_save10"))
    assert sorted(model) == ["mu", "pi", "v", "x"]
    obs = np.array([[2.0, 1.0], [0.0, 1.0]], np.float32)
    # v = x @ [2, 3]; mu = x @ [1, 0] + 1
    np.testing.assert_allclose(sess.run(model["v"], {model["x"]: obs}), [7.0, 3.0])
    np.testing.assert_allclose(sess.run(model["mu"], {model["x"]: obs}), [[3.0], [1.0]])


def test_restore_tf_graph_in_a_default_graph_session_as_spinning_up(sac_like):
    with tf.Graph().as_default():
        sess = tf.compat.v1.Session()  # Spinning Up's recipe: tf.Session(), the default graph
        model = restore_tf_graph(sess, osp.join(sac_like, "simple_save"))
        assert model["x"].graph is sess.graph
        assert sess.run(model["v"], {model["x"]: [[1.0, 1.0]]}).tolist() == [5.0]


def test_restore_tf_graph_reports_a_bad_snapshot(tmp_path):
    os.makedirs(tmp_path / "simple_save")
    joblib.dump({"inputs": {}, "outputs": {}}, tmp_path / "simple_save" / "model_info.pkl")
    sess = tf.compat.v1.Session(graph=tf.Graph())
    with pytest.raises(SnapshotError, match="cannot be loaded as a TF SavedModel"):
        restore_tf_graph(sess, tmp_path / "simple_save")


def test_runs_an_agent_saved_by_spinfast_logx(capsys, tmp_path):
    """The writer (spinfast.logx, as a training loop uses it) and this reader agree."""
    from spinfast.logx import EpochLogger

    build = sa.gaussian_agent(with_mu=True)
    with tf.Graph().as_default() as graph:
        inputs, outputs, variables = build()
        sess = tf.compat.v1.Session(graph=graph)
        sess.run(tf.compat.v1.global_variables_initializer())
        logger = EpochLogger(output_dir=str(tmp_path / "run"))
        logger.setup_tf_saver(sess, inputs, outputs)
        for epoch, bias in ((0, 0.5), (5, 1.5)):
            variables["bias"].load(np.array([bias], np.float32), sess)
            logger.save_state({"env": sa.LineEnv()}, epoch)
        logger.close()
    for itr, bias in ((0, 0.5), (-1, 1.5)):
        code, out, err = cli(capsys, tmp_path / "run", "-i", itr, "-n", 2, "-nr", "-d",
                             "--out", tmp_path / f"t{itr}")  # fmt: skip
        assert code == 0, err
        assert episodes_of(out) == [(k, sa.line_return(bias), 5) for k in range(2)]


def test_the_bundled_example_agent(capsys, tmp_path):
    """README's first command: test_policy on `spinfast example`'s copy of the agent."""
    from spinfast.agent.example import copy_example

    agent = copy_example(tmp_path / "agent")
    code, out, err = cli(capsys, agent, "-nr", "-n", 2, "--seed", 0, "--out", tmp_path / "last")
    assert code == 0, err
    assert f"Loading from {agent}/simple_save29." in err
    assert episodes_of(out) == [(0, 500.0, 500), (1, 500.0, 500)]
    code, out, err = cli(
        capsys, agent, "-nr", "-n", 3, "-i", 0, "--seed", 0, "--out", tmp_path / "0"
    )
    assert code == 0, err
    assert np.mean([ret for _, ret, _ in episodes_of(out)]) < 100  # before learning


# --- the policy backend: native (Rust), tf (the session), auto ------------------------------


def log_softmax_agent():
    """A categorical agent whose logits go through LogSoftmax, an op with no native kernel."""

    def build():
        import tensorflow as tf

        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, (None, 2))
        w = v1.get_variable("w", initializer=np.array([[0.0, 0.0], [-40.0, 40.0]], np.float32))
        pi = tf.squeeze(v1.multinomial(tf.nn.log_softmax(tf.matmul(x, w)), 1), axis=1)
        return {"x": x}, {"pi": pi}, {"w": w}

    return build


@pytest.fixture(scope="module")
def log_softmax(tmp_path_factory):
    """Always action 1 on LineEnv(discrete): return 5."""
    folder = str(tmp_path_factory.mktemp("log_softmax"))
    env = sa.LineEnv(discrete=True)
    return sa.save_snapshots(folder, log_softmax_agent(), {None: {}}, env=env)


@pytest.mark.parametrize("num_envs", [1, 3])
@pytest.mark.parametrize("agent, flags", [("sac_like", ["-d"]), ("cartpole", []),
                                          ("ppo_like", [])])  # fmt: skip
def test_native_and_tf_give_the_same_deterministic_episodes(
    capsys, request, tmp_path, agent, flags, num_envs
):
    folder = request.getfixturevalue(agent)
    runs = {}
    for backend in ("native", "tf"):
        code, out, err = cli(capsys, folder, "-n", 7, "-nr", "--seed", 1, *flags, "--json",
                             "--num-envs", num_envs, "--policy", backend,
                             "--out", tmp_path / backend)  # fmt: skip
        assert code == 0, err
        report = json.loads(out)
        assert report["policy"] == backend
        runs[backend] = [(e["index"], e["length"], round(e["ret"], 4)) for e in report["episodes"]]
    assert runs["native"] == runs["tf"]
    if agent == "cartpole":
        oracle = sa.cartpole_oracle(CARTPOLE_GAINS, 7, 1)
        assert [(length, ret) for _, length, ret in runs["native"]] == [
            (length, ret) for ret, length in oracle
        ]


def test_auto_runs_natively_without_a_word(capsys, coin, tmp_path):
    code, out, err = cli(capsys, coin, "-n", 2, "-nr", "--json", "--out", tmp_path)
    assert code == 0, err
    assert json.loads(out)["policy"] == "native"
    assert "TF session" not in err


def test_auto_falls_back_to_tf_with_one_line_naming_the_op(capsys, log_softmax, tmp_path):
    code, out, err = cli(capsys, log_softmax, "-n", 3, "-nr", "--json", "--out", tmp_path)
    assert code == 0, err
    report = json.loads(out)
    assert report["policy"] == "tf"
    assert [(e["ret"], e["length"]) for e in report["episodes"]] == [(5.0, 5)] * 3
    lines = [line for line in err.splitlines() if "TF session" in line]
    assert lines == [
        "Running the policy in the TF session: no native kernel for op LogSoftmax "
        '(node "LogSoftmax")'
    ]


def test_policy_native_refuses_naming_the_op(capsys, log_softmax, tmp_path):
    code, out, err = cli(capsys, log_softmax, "-n", 1, "-nr", "--policy", "native",
                         "--out", tmp_path)  # fmt: skip
    line = one_line_error(code, out, err, "error: no native kernel for op LogSoftmax")
    assert line.endswith("(--policy tf runs it in the TF session)")
    code, out, err = cli(capsys, log_softmax, "-n", 1, "-nr", "--policy", "tf",
                         "--out", tmp_path / "tf")  # fmt: skip
    assert code == 0 and "TF session" not in err


def test_load_policy_backends(sac_like):
    from spinfast.agent.policy import NativePolicy
    from spinfast.agent.tf_model import TFPolicy

    obs = np.array([[3.0, 1.0], [-2.0, 1.0]], np.float32)
    _, native = load_policy(sac_like, deterministic=True, backend="native")
    _, session = load_policy(sac_like, deterministic=True, backend="tf")
    _, auto = load_policy(sac_like, deterministic=True)
    assert isinstance(native, NativePolicy) and isinstance(auto, NativePolicy)
    assert isinstance(session, TFPolicy)
    # one observation in, one action out, the same type and value as the session's
    one, want = native(obs[0]), session(obs[0])
    assert type(one) is type(want) and one.dtype == want.dtype and one.shape == want.shape
    np.testing.assert_allclose(one, want, rtol=1e-6)
    np.testing.assert_allclose(native.batch(obs), session.batch(obs), rtol=1e-6)
    assert (native.obs_shape, native.action_key) == (session.obs_shape, session.action_key)
    with pytest.raises(
        ValueError, match="backend must be one of auto, native, tf, torch, not 'jax'"
    ):
        load_policy(sac_like, backend="jax")
