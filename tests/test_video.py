"""Recording episodes as MP4 files: spinfast.agent.video and test_policy --video.

Oracles: ffmpeg decoding the files (imageio-ffmpeg's count_frames_and_secs and
read_frames: the frame count must be EpLen + 1), Gymnasium's own rendering of the
same episodes run by hand (each decoded frame must match it), the same run
without --video (same episodes), and tests/reference_rollout.py's numbering.
"""

from __future__ import annotations

import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import gymnasium
import numpy as np
import pytest

import saved_agents as sa
from agent_fixtures import CARTPOLE_GAINS, cli, copy_agent, episodes_of, one_line_error
from reference_rollout import episode_numbers as reference_numbers
from reference_rollout import episode_shares
from spinfast.agent.envs import reset_style
from spinfast.agent.rollout import run_episodes
from spinfast.agent.video import (
    CannotRecord,
    VideoRecorder,
    episode_numbers,
    record,
    rgb_array_env,
)

TESTS = osp.dirname(osp.abspath(__file__))
HAVE_EXTRA = all(importlib.util.find_spec(m) for m in ("imageio_ffmpeg", "pygame"))
needs_extra = pytest.mark.skipif(
    not HAVE_EXTRA, reason="the video extra is not installed: pip install '.[video]'"
)


def lean(obs):
    """Push toward the pole's lean: short episodes whose lengths depend on the seed."""
    return int(obs[2] > 0)


def frame_count(path) -> int:
    import imageio_ffmpeg

    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]


def decoded(path) -> np.ndarray:
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(str(path))
    width, height = next(frames)["size"]
    return np.stack([np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in frames])


def rendered_by_hand(policy, seed, max_len=None) -> np.ndarray:
    """Gymnasium's frames of one episode: after the reset and after each step."""
    env = gymnasium.make("CartPole-v1", render_mode="rgb_array")
    obs, _ = env.reset(seed=seed)
    frames, done = [env.render()], False
    while not done and len(frames) - 1 != max_len:
        obs, _, terminated, truncated, _ = env.step(policy(obs))
        frames.append(env.render())
        done = terminated or truncated
    return np.stack(frames)


def distance(video: np.ndarray, frames: np.ndarray) -> float:
    """The worst frame's mean absolute difference (0..255), the videos being lossy."""
    assert video.shape == frames.shape
    return float(np.abs(video.astype(np.int16) - frames).mean(axis=(1, 2, 3)).max())


def mp4s(folder) -> list[str]:
    return sorted(os.listdir(folder)) if osp.isdir(folder) else []


# --- numbering --------------------------------------------------------------------------


def test_episode_numbers_are_the_loops():
    for num_envs in range(1, 6):
        for num_episodes in range(1, 13):
            expected = reference_numbers(episode_shares(num_episodes, num_envs))
            assert episode_numbers(num_episodes, num_envs) == expected


# --- the recorder, on Gymnasium's CartPole --------------------------------------------------


@needs_extra
@pytest.mark.parametrize(("num_envs", "max_len"), [(1, None), (3, None), (3, 40)])
def test_videos_show_the_loops_episodes(tmp_path, num_envs, max_len):
    """Same episodes as without recording; video k has EpLen + 1 frames, each the frame
    Gymnasium renders for episode k (seed 5 + k) run by hand."""
    plain = [gymnasium.make("CartPole-v1") for _ in range(num_envs)]
    expected = run_episodes(plain, lean, 7, max_len, seed=5)
    assert len({ep.length for ep in expected}) > 3  # the numbering shows in the counts
    assert max_len is None or sum(ep.length == max_len for ep in expected) > 1  # cut short
    envs = [rgb_array_env(gymnasium.make("CartPole-v1")) for _ in range(num_envs)]
    with record(envs, tmp_path, "run-snap", 7, max_videos=5) as video:
        episodes = run_episodes(video.envs, lean, 7, max_len, seed=5)
    assert episodes == expected
    assert video.paths == [str(tmp_path / f"run-snap-episode-{k}.mp4") for k in range(5)]
    assert mp4s(tmp_path) == sorted(osp.basename(p) for p in video.paths)
    for ep, path in zip(episodes, video.paths, strict=False):
        assert frame_count(path) == ep.length + 1
        assert distance(decoded(path), rendered_by_hand(lean, 5 + ep.index, max_len)) < 0.5
    # the comparison can fail: episode 1's video is not episode 0's frames
    other = rendered_by_hand(lean, 5, max_len)[: episodes[1].length + 1]
    video_1 = decoded(video.paths[1])[: len(other)]
    assert distance(video_1, other) > 0.5


@needs_extra
def test_one_env_records_every_episode_by_default_numbered_from_0(tmp_path):
    env = gymnasium.make("CartPole-v1", render_mode="rgb_array")
    assert rgb_array_env(env) is env  # already rendering frames: kept as it is
    recorder = VideoRecorder(env, tmp_path, "x")
    run_episodes(recorder, lean, 3, seed=0)
    recorder.close()
    assert mp4s(tmp_path) == [f"x-episode-{k}.mp4" for k in range(3)]


@needs_extra
def test_render_fps_is_the_envs(tmp_path):
    env = rgb_array_env(gymnasium.make("CartPole-v1"))
    with record(env, tmp_path, "x", 1) as video:
        (episode,) = run_episodes(video.envs, lean, 1, seed=0)
    import imageio_ffmpeg

    frames, seconds = imageio_ffmpeg.count_frames_and_secs(video.paths[0])
    assert env.metadata["render_fps"] == 50
    assert frames == episode.length + 1
    assert seconds == pytest.approx(frames / 50, abs=0.03)


class OddFrames(gymnasium.Env):
    """rgb_array frames of odd size (5 x 7), grey level t * 20, 4 steps."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = gymnasium.spaces.Box(0, 9, (1,))
        self.action_space = gymnasium.spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, np.float32), 1.0, self.t == 4, False, {}

    def render(self):
        return np.full((5, 7, 3), self.t * 20, np.uint8)


@needs_extra
def test_odd_frames_are_padded_not_rescaled(tmp_path):
    with record(OddFrames("rgb_array"), tmp_path, "odd", 1) as video:
        run_episodes(video.envs, lambda obs: 0, 1)
    frames = decoded(video.paths[0])
    assert frames.shape == (5, 6, 8, 3)  # even sides: one row, one column repeated
    levels = frames.reshape(5, -1).mean(axis=1)
    np.testing.assert_allclose(levels, [0, 20, 40, 60, 80], atol=3)


@needs_extra
def test_an_interrupted_episodes_video_is_deleted(tmp_path):
    (first,) = run_episodes(gymnasium.make("CartPole-v1"), lean, 1, seed=0)
    calls = []

    def policy(obs):  # interrupted in episode 1, after 10 steps
        calls.append(obs)
        if len(calls) > first.length + 10:
            raise KeyboardInterrupt
        return lean(obs)

    env = rgb_array_env(gymnasium.make("CartPole-v1"))
    with pytest.raises(KeyboardInterrupt), record(env, tmp_path, "x", 3) as video:
        run_episodes(video.envs, policy, 3, seed=0)
    assert mp4s(tmp_path) == ["x-episode-0.mp4"]
    assert frame_count(tmp_path / "x-episode-0.mp4") == first.length + 1


# --- envs that cannot give frames -----------------------------------------------------------


def test_an_env_without_rgb_array_cannot_record():
    with pytest.raises(CannotRecord, match=r"LineEnv cannot render frames \(its render modes: "):
        rgb_array_env(sa.LineEnv())


def test_an_env_without_a_gymnasium_id_says_to_pass_env():
    from gymnasium.envs.classic_control import CartPoleEnv

    with pytest.raises(CannotRecord, match=r"no Gymnasium id .*: pass --env ID$"):
        rgb_array_env(CartPoleEnv())  # made without gymnasium.make: no spec
    with pytest.raises(CannotRecord, match=r"pass --env ID$"):
        rgb_array_env(sa.OldLineEnv())  # old gym API, no metadata, no spec


@needs_extra
@pytest.mark.parametrize("env", [sa.LineEnv(), sa.OldLineEnv()], ids=["gymnasium", "old_gym"])
def test_render_giving_no_image_is_noted_once_and_the_run_goes_on(tmp_path, env):
    """The recorder wraps a seed as the env takes it, and a render() that gives None
    stops recording with one note, the episodes unchanged."""
    expected_style = reset_style(env)
    envs = [env, type(env)()]
    notes = []
    with record(envs, tmp_path, "x", 4, note=notes.append) as video:
        assert [reset_style(r) for r in video.envs] == [expected_style] * 2
        episodes = run_episodes(video.envs, lambda obs: [1.0], 4, seed=3)
    assert [(ep.index, ep.ret, ep.length) for ep in episodes] == [(k, 5.0, 5) for k in range(4)]
    assert env.seeds == [3, 5]  # env 0 ran episodes 0 and 2, seeded through the wrapper
    assert len(notes) == 1 and "render() gave None" in notes[0]
    assert mp4s(tmp_path) == []


# --- the command: test_policy --video -------------------------------------------------------


@needs_extra
def test_video_never_changes_the_evaluation(capsys, tmp_path):
    """The bundled agent (first snapshot: seed-sensitive lengths), 3 envs in lockstep:
    the same episodes as without --video, video k from the loop's episode k."""
    pytest.importorskip("tensorflow", reason="the tf extra is not installed")
    from spinfast.agent.example import EXAMPLE_NAME, copy_example

    agent = copy_example(tmp_path)
    assert osp.basename(agent) == EXAMPLE_NAME
    common = ["-i", 0, "-n", 7, "--seed", 0, "--num-envs", 3]
    code, out, err = cli(capsys, agent, *common, "-nr", "--out", tmp_path / "a")
    assert code == 0, err
    expected = episodes_of(out)
    assert len({length for _, _, length in expected}) > 3
    videos = tmp_path / "videos"
    code, out, err = cli(capsys, agent, *common, "--video", videos, "--video-episodes", 5,
                         "--out", tmp_path / "b", "--json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert [(e["index"], e["ret"], e["length"]) for e in report["episodes"]] == expected
    names = [f"{EXAMPLE_NAME}-simple_save0-episode-{k}.mp4" for k in range(5)]
    assert mp4s(videos) == sorted(names)
    assert report["videos"] == [str(videos / name) for name in names]
    assert [frame_count(videos / name) for name in names] == [n + 1 for _, _, n in expected[:5]]


@needs_extra
def test_vars_pkl_env_is_made_again_for_frames_ten_videos_by_default(capsys, cartpole, tmp_path):
    """vars.pkl holds gymnasium.make('CartPole-v1') (no render_mode): re-made from its id,
    the hand-written loop's episodes, ten videos of twelve episodes unless asked."""
    expected = [(k, r, n) for k, (r, n) in enumerate(sa.cartpole_oracle(CARTPOLE_GAINS, 12, 7))]
    code, out, err = cli(capsys, cartpole, "-n", 12, "--seed", 7, "--video", tmp_path / "v",
                         "--out", tmp_path / "a")  # fmt: skip
    assert code == 0, err
    assert episodes_of(out) == expected
    assert len(mp4s(tmp_path / "v")) == 10
    assert out.splitlines()[-1] == f"10 videos in {tmp_path / 'v'}"
    last = tmp_path / "v" / f"{osp.basename(cartpole)}-simple_save-episode-9.mp4"
    assert frame_count(last) == expected[9][2] + 1
    code, out, err = cli(capsys, cartpole, "-n", 12, "--seed", 7, "--video", tmp_path / "w",
                         "--video-episodes", 12, "--out", tmp_path / "b")  # fmt: skip
    assert code == 0, err
    assert len(mp4s(tmp_path / "w")) == 12


@needs_extra
def test_env_without_id_runs_unrecorded_and_says_pass_env(capsys, cartpole, tmp_path):
    import joblib
    from gymnasium.envs.classic_control import CartPoleEnv

    folder = copy_agent(cartpole, tmp_path / "agent")
    joblib.dump({"env": CartPoleEnv()}, osp.join(folder, "vars.pkl"))
    expected = [(k, r, n) for k, (r, n) in enumerate(sa.cartpole_oracle(CARTPOLE_GAINS, 2, 0))]
    code, out, err = cli(capsys, folder, "-n", 2, "--seed", 0, "--video", tmp_path / "v",
                         "--out", tmp_path / "a")  # fmt: skip
    assert code == 0, err
    assert episodes_of(out) == expected
    notes = [line for line in err.splitlines() if line.startswith("note: no video:")]
    assert len(notes) == 1 and "pass --env ID" in notes[0]
    assert mp4s(tmp_path / "v") == []
    code, out, err = cli(capsys, folder, "-n", 2, "--seed", 0, "--video", tmp_path / "v",
                         "--env", "CartPole-v1", "--out", tmp_path / "b")  # fmt: skip
    assert code == 0, err
    assert episodes_of(out) == expected
    assert len(mp4s(tmp_path / "v")) == 2


@needs_extra
@pytest.mark.parametrize("fixture", ["sac_like", "old_gym"])
def test_env_that_cannot_render_says_so_and_the_episodes_run(capsys, request, tmp_path, fixture):
    folder = request.getfixturevalue(fixture)
    code, out, err = cli(capsys, folder, "-n", 2, "-d", "--video", tmp_path / "v",
                         "--out", tmp_path / "a")  # fmt: skip
    assert code == 0, err
    # sac_like's last snapshot (20) and old_gym's both act with bias 2
    assert episodes_of(out) == [(k, sa.line_return(2.0), 5) for k in range(2)]
    assert len([line for line in err.splitlines() if line.startswith("note: no video:")]) == 1
    assert mp4s(tmp_path / "v") == []


@pytest.mark.parametrize("module", ["imageio_ffmpeg", "pygame"])
def test_without_the_extra_one_line_names_it(capsys, monkeypatch, tmp_path, module):
    monkeypatch.setitem(sys.modules, module, None)  # not importable, not found
    code, out, err = cli(capsys, tmp_path / "no-agent-needed", "--video", tmp_path / "v")
    line = one_line_error(code, out, err, "error: --video: ")
    assert line == f"error: --video: recording videos needs {module}: pip install 'spinfast[video]'"
    assert not (tmp_path / "v").exists()


@needs_extra
def test_existing_videos_are_never_replaced(capsys, cartpole, tmp_path):
    videos = tmp_path / "v"
    videos.mkdir()
    taken = videos / f"{osp.basename(cartpole)}-simple_save-episode-1.mp4"
    taken.write_bytes(b"mine")
    code, out, err = cli(capsys, cartpole, "-n", 3, "--video", videos, "--out", tmp_path / "a")
    line = one_line_error(code, out, err, "error: ")
    assert str(taken) in line and "give another folder" in line
    assert "Loading from" not in err  # refused before the agent loads
    assert taken.read_bytes() == b"mine"
    assert not (tmp_path / "a").exists()


def test_video_episodes_needs_video(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli(capsys, tmp_path, "--video-episodes", 3)
    assert exit_.value.code == 2
    assert "--video-episodes needs --video OUT_DIR" in capsys.readouterr().err


@needs_extra
@pytest.mark.parametrize("driver", [None, "dummy"])
def test_headless(cartpole, tmp_path, driver):
    """No display at all, SDL_VIDEODRIVER unset or dummy: videos, and no SDL noise."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER", None)
    if driver:
        env["SDL_VIDEODRIVER"] = driver
    env["PYTHONPATH"] = os.pathsep.join([TESTS, env.get("PYTHONPATH", "")])
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    argv = [sys.executable, "-m", "spinfast", "test_policy", cartpole, "-n", 2, "--seed", 0,
            "--video", tmp_path / "v", "--out", tmp_path / "a"]  # fmt: skip
    proc = subprocess.run(list(map(str, argv)), capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(mp4s(tmp_path / "v")) == 2
    assert "XDG_RUNTIME_DIR" not in proc.stderr


def test_evaluate_video_records_each_rows_first_episodes_and_changes_no_row(tmp_path):
    """spinfast.evaluate(video=...): the rows equal those without a video, and each
    row's first K episodes are files of EpLen + 1 frames."""
    from spinfast.agent.example import copy_example
    from spinfast.evaluate import evaluate_rows

    run = copy_example(tmp_path / "agent")
    options = dict(episodes=3, snapshots=[0, 29], seed=0, workers=1)
    plain = evaluate_rows(run, **options)
    filmed = evaluate_rows(run, **options, video=tmp_path / "v", video_episodes=2)
    assert [r["EpRets"] for r in filmed] == [r["EpRets"] for r in plain]
    assert all(r["error"] is None for r in filmed)
    for row in filmed:
        snapshot = "simple_save" + str(row["snapshot"])
        for k in range(2):
            path = tmp_path / "v" / f"agent-{snapshot}-episode-{k}.mp4"
            assert frame_count(path) == row["EpLens"][k] + 1
    assert len(mp4s(tmp_path / "v")) == 4
