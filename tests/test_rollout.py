"""The episode loop: the Rust loop gives the same episodes as the plain Python
reference (tests/reference_rollout.py), the lockstep shares and numbers are SB3's
and ours as documented, returns are computed by hand, and the Rust loop passes
exceptions, signals and references through cleanly.

TF agents are in test_rollout_agents.py; these tests use plain Python policies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback

import numpy as np
import pytest

from reference_rollout import episode_numbers, episode_shares, run_reference
from saved_agents import HORIZON, LineEnv, OldLineEnv
from spinfast import _core
from spinfast.agent.envs import step
from spinfast.agent.rollout import Episode, run_episodes
from spinfast.errors import EnvironmentMismatch
from terminal import stderr_on_a_terminal

ENGINES = ["rust", "reference"]


def run_engine(env, get_action, num_episodes, *args, engine="rust", **kwargs):
    """The product's loop (``"rust"``) or the reference, with the same arguments."""
    loop = run_episodes if engine == "rust" else run_reference
    return loop(env, get_action, num_episodes, *args, **kwargs)


class SeedLengthEnv:
    """Gymnasium API. obs = [t, 1]; reward = the action; an episode seeded s lasts
    s % 4 + 1 steps (3 unseeded). Records its resets and renders."""

    def __init__(self) -> None:
        self.t = self.horizon = 0
        self.seeds: list[int | None] = []
        self.renders = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self.seeds.append(seed)
        self.t, self.horizon = 0, 3 if seed is None else seed % 4 + 1
        return np.array([0.0, 1.0]), {}

    def step(self, action):
        self.t += 1
        reward = float(np.asarray(action).reshape(-1)[0])
        return np.array([self.t, 1.0]), reward, self.t >= self.horizon, False, {}

    def render(self) -> None:
        self.renders += 1


def plus_one(obs):
    """Acts t + 1 at step t: an episode of h steps returns 1 + ... + h."""
    return [obs[0] + 1.0]


class BatchedPlusOne:
    """plus_one with a ``batch`` method, recording the batch shapes it is given."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, obs):
        raise AssertionError("a batched policy is not called per observation")

    def batch(self, obs):
        self.shapes.append(obs.shape)
        return obs[:, :1] + 1.0


def hand_return(length: int) -> float:
    return length * (length + 1) / 2


def sb3_targets(n_eval_episodes: int, n_envs: int) -> list[int]:
    """stable-baselines3's evaluate_policy, as in its source."""
    return [(n_eval_episodes + i) // n_envs for i in range(n_envs)]


# --- one env: the same episodes as the reference loop, computed by hand ------------------


@pytest.mark.parametrize("make", [LineEnv, OldLineEnv])
@pytest.mark.parametrize("engine", ENGINES)
def test_one_env_hand_computed(make, engine):
    env, seen = make(), []
    episodes = run_engine(
        env, plus_one, 3, render=True, seed=10, on_episode=seen.append, engine=engine
    )
    assert episodes == [Episode(k, hand_return(HORIZON), HORIZON) for k in range(3)] == seen
    assert env.seeds == [10, 11, 12] and env.renders == 3 * HORIZON


@pytest.mark.parametrize("engine", ENGINES)
def test_one_env_max_len_and_unseeded(engine):
    env = SeedLengthEnv()
    episodes = run_engine(env, plus_one, 2, max_ep_len=2, engine=engine)
    assert episodes == [Episode(0, 3.0, 2), Episode(1, 3.0, 2)]
    assert env.seeds == [None, None] and env.renders == 0


def test_rust_equals_the_reference_loop_with_a_sampling_policy():
    """A policy drawing from its own RNG: equal only if both loops make the same calls
    in the same order."""

    def sampler():
        rng = np.random.default_rng(5)
        return lambda obs: rng.normal(size=1)

    rust = run_episodes(SeedLengthEnv(), sampler(), 9, seed=3)
    assert rust == run_reference(SeedLengthEnv(), sampler(), 9, seed=3)
    assert len({ep.ret for ep in rust}) == 9


# --- several envs in lockstep --------------------------------------------------------------


def test_shares_are_sb3s_and_numbers_go_round_by_round():
    for n in range(1, 30):
        for num_envs in range(1, 10):
            shares = episode_shares(n, num_envs)
            assert shares == sb3_targets(n, num_envs)
            numbers = episode_numbers(shares)
            assert sorted(k for env in numbers for k in env) == list(range(n))
            # round j's numbers all come before round j+1's, in env order
            by_round = [env[j] for j in range(max(shares)) for env in numbers if j < len(env)]
            assert by_round == list(range(n))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("batched", [True, False])
def test_twenty_episodes_on_eight_envs(engine, batched):
    envs = [SeedLengthEnv() for _ in range(8)]
    policy = BatchedPlusOne() if batched else plus_one
    seen = []
    episodes = run_engine(envs, policy, 20, seed=100, on_episode=seen.append, engine=engine)
    # exactly 20, numbered 0..19, reported in order; episode k seeded 100 + k
    lengths = [(100 + k) % 4 + 1 for k in range(20)]
    assert episodes == seen == [Episode(k, hand_return(n), n) for k, n in enumerate(lengths)]
    shares = sb3_targets(20, 8)
    assert [len(env.seeds) for env in envs] == shares == [2, 2, 2, 2, 3, 3, 3, 3]
    assert envs[0].seeds == [100, 108] and envs[7].seeds == [107, 115, 119]
    if batched:  # one call per step, on the envs still running
        assert policy.shapes[0] == (8, 2) and policy.shapes[-1][0] < 8
        assert sum(s[0] for s in policy.shapes) == sum(lengths)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_deterministic_policy_gives_the_same_episodes_on_any_number_of_envs(engine):
    """Episode k resets with seed + k wherever it runs: the numbering is not a matter
    of which env finishes first."""
    one = run_engine(SeedLengthEnv(), plus_one, 13, seed=1, engine=engine)
    for num_envs in (2, 5, 13, 20):
        envs = [SeedLengthEnv() for _ in range(num_envs)]
        assert run_engine(envs, plus_one, 13, seed=1, engine=engine) == one


@pytest.mark.parametrize("num_envs", [1, 3, 8])
def test_sampled_batched_policy_same_in_both_engines(num_envs):
    def run(engine):
        rng = np.random.default_rng(0)

        class Sampler:
            def batch(self, obs):
                return obs[:, :1] + rng.normal(size=(len(obs), 1))

        envs = [SeedLengthEnv() for _ in range(num_envs)]
        return run_engine(envs, Sampler(), 11, max_ep_len=3, seed=7, engine=engine), envs

    (rust, rust_envs), (python, python_envs) = run("rust"), run("reference")
    assert rust == python
    assert [e.seeds for e in rust_envs] == [e.seeds for e in python_envs]


@pytest.mark.parametrize("engine", ENGINES)
def test_lockstep_renders_every_running_env_before_each_step(engine):
    envs = [SeedLengthEnv() for _ in range(3)]
    episodes = run_engine(envs, plus_one, 3, render=True, seed=0, engine=engine)
    assert [env.renders for env in envs] == [ep.length for ep in episodes] == [1, 2, 3]


def test_lockstep_of_one_env_is_the_one_env_loop():
    env_a, env_b = SeedLengthEnv(), SeedLengthEnv()
    assert run_episodes([env_a], plus_one, 6, seed=2) == run_episodes(env_b, plus_one, 6, seed=2)
    assert env_a.seeds == env_b.seeds


# --- the env API, read in Rust as spinfast.agent.envs reads it ---------------------------


class OddStepEnv(SeedLengthEnv):
    """step gives numpy scalars, a list of 5, or an int reward, by turns."""

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        kind = self.t % 3
        if kind == 0:
            return obs, np.float32(reward), np.bool_(terminated), np.bool_(truncated), info
        if kind == 1:
            return [obs, reward, terminated, truncated, info]
        return obs, int(reward), terminated, truncated, info


@pytest.mark.parametrize("engine", ENGINES)
def test_step_results_of_other_types(engine):
    episodes = run_engine(OddStepEnv(), lambda obs: [obs[0] + 0.1], 4, seed=0, engine=engine)
    assert episodes == run_reference(OddStepEnv(), lambda obs: [obs[0] + 0.1], 4, seed=0)


class ThreeValues(SeedLengthEnv):
    def step(self, action):
        return super().step(action)[:3]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_step_of_three_values_is_the_same_error(engine):
    with pytest.raises(EnvironmentMismatch) as err:
        run_engine(ThreeValues(), plus_one, 1, engine=engine)
    with pytest.raises(EnvironmentMismatch) as expected:
        step(ThreeValues(), [0.0])
    assert str(err.value) == str(expected.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_batch_of_the_wrong_size_is_an_error(engine):
    class Short:
        def batch(self, obs):
            return obs[:1]

    with pytest.raises(ValueError, match="^the policy gave 1 actions for 2 observations$"):
        run_engine([SeedLengthEnv(), SeedLengthEnv()], Short(), 2, engine=engine)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_episodes": 0}, "num_episodes must be at least 1, not 0"),
        ({"env": []}, "the list of envs is empty"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"env": SeedLengthEnv(), "get_action": plus_one, "num_episodes": 1, **kwargs}
    with pytest.raises(ValueError, match=f"^{message}$"):
        run_episodes(**args)


def test_core_rollout_refuses_zero_episodes_and_no_envs():
    with pytest.raises(ValueError, match="number of episodes must be at least 1"):
        _core.rollout([SeedLengthEnv()], plus_one, 0)
    with pytest.raises(ValueError, match="at least one environment"):
        _core.rollout([], plus_one, 1)


# --- exceptions, references, signals ----------------------------------------------------------


class StepFails(SeedLengthEnv):
    def step(self, action):
        if self.t == 1:
            raise ZeroDivisionError("the env broke")
        return super().step(action)


def failing_policy(obs):
    if obs[0] == 2:
        raise KeyError("the policy broke")
    return [1.0]


@pytest.mark.parametrize(
    ("env", "policy", "error", "frame"),
    [
        (StepFails, plus_one, ZeroDivisionError, "step"),
        (SeedLengthEnv, failing_policy, KeyError, "failing_policy"),
    ],
)
@pytest.mark.parametrize("lockstep", [False, True])
def test_exceptions_come_out_with_their_traceback(env, policy, error, frame, lockstep):
    envs = [env(), env()] if lockstep else env()
    with pytest.raises(error) as err:
        run_engine(envs, policy, 2, seed=3, engine="rust")
    frames = traceback.extract_tb(err.value.__traceback__)
    assert frames[-1].name == frame and frames[-1].filename == __file__
    assert "broke" in str(err.value)


def test_the_rust_engine_keeps_no_references():
    obs_pool = [np.array([float(t), 1.0]) for t in range(HORIZON + 1)]
    action = np.array([1.0])

    class PoolEnv:
        def __init__(self):
            self.t = 0

        def reset(self, seed=None):
            self.t = 0
            return obs_pool[0], {}

        def step(self, a):
            self.t += 1
            return obs_pool[self.t], 1.0, self.t == HORIZON, False, {}

    envs = [PoolEnv(), PoolEnv()]
    get_action = lambda obs: action  # noqa: E731
    counts = lambda: [sys.getrefcount(o) for o in [*envs, *obs_pool, action, get_action]]  # noqa: E731
    before = counts()
    for target in (envs[0], envs):
        episodes = run_engine(target, get_action, 5, seed=0, engine="rust")
        assert [ep.ret for ep in episodes] == [float(HORIZON)] * 5
        del episodes
    with pytest.raises(KeyError):  # and on the way out through an exception
        run_engine(envs, lambda obs: {}[obs[0]], 5, engine="rust")
    assert counts() == before


INTERRUPT_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])  # tests/, for the reference loop
from reference_rollout import run_reference
from spinfast.agent.rollout import run_episodes

obs = np.zeros(2)
class Env:
    def reset(self, seed=None):
        return obs, {}
env = Env()
# step and policy are C functions: no Python bytecode runs inside the loop, so only
# the loop's own signal check can see Ctrl-C. The episode never ends.
env.step = {2: (obs, 1.0, False, False, {})}.__getitem__
print("started", flush=True)
try:
    (run_episodes if sys.argv[1] == "rust" else run_reference)(env, len, 1)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_stops_the_loop(engine):
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_SCRIPT, engine, os.path.dirname(__file__)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline() == "started\n"
        threading.Event().wait(0.3)
        proc.send_signal(2)  # SIGINT
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert out == "interrupted\n" and proc.returncode == 0


# --- the progress bar --------------------------------------------------------------------------


class SlowEnv(SeedLengthEnv):
    def step(self, action):
        threading.Event().wait(0.01)
        return super().step(action)


def test_progress_bar_on_a_terminal_only(capfd):
    def run(progress):
        return lambda: run_episodes(SlowEnv(), plus_one, 12, seed=0, progress=progress)

    drawn = stderr_on_a_terminal(run(True))
    assert "/12 episodes" in drawn and "steps/s" in drawn
    assert stderr_on_a_terminal(run(False)) == ""
    capfd.readouterr()
    run(True)()  # stderr captured by pytest: not a terminal
    assert capfd.readouterr().err == ""


def test_docstring_examples_run():
    import doctest

    import spinfast.agent.rollout

    result = doctest.testmod(spinfast.agent.rollout)
    assert result.attempted > 0 and result.failed == 0
