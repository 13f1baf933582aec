"""--num-envs on TF agents (saved_agents.py): the command gives the episodes the plain
Python reference loop gives, sampled and deterministic, and N envs in lockstep give
the episodes a hand-written Gymnasium loop gives, numbered 0..n-1."""

from __future__ import annotations

import json

import pytest

tf = pytest.importorskip("tensorflow", reason="the tf extra is not installed: pip install '.[tf]'")

import gymnasium  # noqa: E402

import saved_agents as sa  # noqa: E402
from agent_fixtures import CARTPOLE_GAINS, cli, episodes_of  # noqa: E402
from reference_rollout import run_reference  # noqa: E402
from spinfast.agent.envs import make_env, restore_env  # noqa: E402
from spinfast.agent.snapshots import find_snapshot  # noqa: E402
from spinfast.cli.test_policy import _parser  # noqa: E402
from spinfast.test_policy import load_policy, run_policy  # noqa: E402
from terminal import stderr_on_a_terminal  # noqa: E402


def both_engines(capsys, tmp_path, fpath, *argv):
    """The CLI's stdout after the Logging line; asserts that its episodes are the
    reference loop's on the same agent, envs and seeds."""
    code, out, err = cli(capsys, fpath, *argv, "--out", tmp_path / "rust")
    assert code == 0, err
    args = _parser().parse_args([str(fpath), *map(str, argv)])
    itr = "last" if args.itr == -1 else args.itr
    envs = [
        make_env(args.env) if args.env else restore_env(find_snapshot(fpath, itr))
        for _ in range(args.num_envs)
    ]
    _, get_action = load_policy(fpath, itr, args.deterministic, seed=args.seed)
    target = envs if args.num_envs > 1 else envs[0]
    reference = run_reference(target, get_action, args.episodes, seed=args.seed)
    lines = out.splitlines()[1:]
    assert episodes_of(out) == [(e.index, round(e.ret, 3), e.length) for e in reference]
    return "\n".join(lines)


@pytest.mark.parametrize("num_envs", [1, 3])
@pytest.mark.parametrize("flags", [[], ["-d"]], ids=["sampled", "deterministic"])
def test_engines_agree_on_a_gaussian_agent(capsys, sac_like, tmp_path, num_envs, flags):
    out = both_engines(capsys, tmp_path, sac_like, "-n", 7, "-nr", "--seed", 5,
                       "--num-envs", num_envs, *flags)  # fmt: skip
    episodes = episodes_of(out)
    assert [k for k, _, _ in episodes] == list(range(7))
    rets = {ret for _, ret, _ in episodes}
    if flags:  # the last snapshot (20): mu = t + 2
        assert rets == {sa.line_return(2.0)}
    else:
        assert len(rets) == 7  # sampled for real


def test_engines_agree_on_a_categorical_agent_in_lockstep(capsys, coin, tmp_path):
    out = both_engines(capsys, tmp_path, coin, "-i", 0, "-n", 9, "-nr", "--seed", 1,
                       "--num-envs", 4)  # fmt: skip
    assert len({ret for _, ret, _ in episodes_of(out)}) > 1


@pytest.mark.parametrize("env_flag", [[], ["--env", "CartPole-v1"]], ids=["vars.pkl", "--env"])
def test_twenty_episodes_on_eight_envs_are_the_hand_written_loops(
    capsys, cartpole, tmp_path, env_flag
):
    """-n 20 --num-envs 8: exactly 20 episodes, numbered 0..19, episode k the one a plain
    Gymnasium loop gets from seed 0 + k. Copies that shared state could not give them."""
    out = both_engines(capsys, tmp_path, cartpole, "-n", 20, "--num-envs", 8, "-nr",
                       "--seed", 0, *env_flag)  # fmt: skip
    oracle = sa.cartpole_oracle(CARTPOLE_GAINS, 20, seed=0)
    assert episodes_of(out) == [(k, ret, length) for k, (ret, length) in enumerate(oracle)]


def test_json_says_num_envs(capsys, cartpole, tmp_path):
    code, out, err = cli(capsys, cartpole, "-n", 5, "--num-envs", 2, "-nr", "--seed", 0,
                         "--json", "--out", tmp_path / "j")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["num_envs"] == 2
    assert [e["index"] for e in report["episodes"]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("argv", [["--num-envs", "0"], ["--num-envs", "x"]])
def test_bad_engine_flags(capsys, cartpole, argv):
    with pytest.raises(SystemExit) as exit_:
        cli(capsys, cartpole, *argv)
    assert exit_.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_run_policy_with_a_list_of_envs_batches_the_agent(cartpole, tmp_path, capsys):
    # a TF-session agent: a Python policy whose batch method the loop calls once per step
    # (a native one is batched in Rust, with no Python call to count)
    _, get_action = load_policy(cartpole, seed=0, backend="tf")
    calls = []
    batch = get_action.batch
    get_action.batch = lambda obs: calls.append(obs.shape) or batch(obs)
    envs = [gymnasium.make("CartPole-v1") for _ in range(4)]
    result = run_policy(envs, get_action, num_episodes=6, render=False, seed=0,
                        output_dir=tmp_path / "out")  # fmt: skip
    oracle = sa.cartpole_oracle(CARTPOLE_GAINS, 6, seed=0)
    assert [(ep.ret, ep.length) for ep in result.episodes] == oracle
    assert calls[0] == (4, 4) and sum(n for n, _ in calls) == sum(n for _, n in oracle)


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_progress_bar_unless_json(capsys, cartpole, tmp_path, json_flag):
    drawn = stderr_on_a_terminal(
        lambda: cli(
            capsys, cartpole, "-n", 40, "-nr", "--seed", 0, "--out", tmp_path / "p", *json_flag
        )  # fmt: skip
    )
    assert ("/40 episodes" in drawn) == (not json_flag)
