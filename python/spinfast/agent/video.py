"""Record an agent's episodes as MP4 files, headless: ``spinfast test_policy --video DIR``.

A wrapper in the style of Gymnasium's ``RecordVideo``: :class:`VideoRecorder`
takes a frame from the env's ``render()`` (``render_mode="rgb_array"``) after each
``reset`` and each ``step``, so that a video holds one frame per step plus the
first, and streams them to ffmpeg (imageio-ffmpeg's, bundled in its wheels: no
system ffmpeg, no display, no frame kept in memory) at the env's
``metadata["render_fps"]``. One file per episode, named
``<name_prefix>-episode-<number>.mp4``. The wrapper only watches: the episodes,
their seeds, returns and lengths are those of the env alone.

:func:`record` wraps one env, or a list stepped in lockstep by
:func:`spinfast.agent.rollout.run_episodes`, and numbers each env's episodes as
that loop does, so that ``episode-<k>`` is the loop's episode ``k``:

    >>> episode_numbers(7, 3)  # env 0 runs episodes 0 and 3, env 2 runs 2, 5 and 6
    [[0, 3], [1, 4], [2, 5, 6]]

Example (``env`` is an env made without ``render_mode``, e.g. from vars.pkl)::

    from spinfast.agent.video import record, rgb_array_env
    envs = [rgb_array_env(env) for env in envs]  # re-made from their Gymnasium id
    with record(envs, "videos", "ppo_s0-simple_save", num_episodes=20, max_videos=5) as video:
        run_episodes(video.envs, get_action, 20, seed=0)
    video.paths  # videos/ppo_s0-simple_save-episode-0.mp4, ... -episode-4.mp4

It needs the ``video`` extra (``pip install 'spinfast[video]'``): imageio-ffmpeg,
and pygame for Gymnasium's classic-control rendering; :func:`require_video_extra`
says which is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import os.path as osp
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from spinfast import _core
from spinfast.agent.envs import reset_style

__all__ = [
    "DEFAULT_MAX_VIDEOS",
    "EXTRA",
    "CannotRecord",
    "Recording",
    "VideoExtraMissing",
    "VideoRecorder",
    "episode_numbers",
    "record",
    "require_video_extra",
    "rgb_array_env",
    "video_path",
]

#: How many episodes are recorded when no number is asked for.
DEFAULT_MAX_VIDEOS = 10
#: How to install what recording needs.
EXTRA = "pip install 'spinfast[video]'"
#: Frames per second when the env's metadata gives no ``render_fps`` (as RecordVideo).
FALLBACK_FPS = 30
#: The modules of the video extra: the encoder, and Gymnasium's classic-control renderer.
_EXTRA_MODULES = ("imageio_ffmpeg", "pygame")


class VideoExtraMissing(ImportError):
    """The ``video`` extra is not installed; the message names what is missing."""


class CannotRecord(Exception):
    """An env that cannot give ``rgb_array`` frames; the message says why (one line)."""


def require_video_extra() -> None:
    """Raise :class:`VideoExtraMissing` unless imageio-ffmpeg and pygame can be imported."""
    missing = [name for name in _EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise VideoExtraMissing(f"recording videos needs {', '.join(missing)}: {EXTRA}")


def rgb_array_env(env: Any) -> Any:
    """``env`` if it renders ``rgb_array`` frames, else the same env re-made with
    ``render_mode="rgb_array"`` from its Gymnasium spec (id, kwargs, wrappers), which
    then replaces it (``env`` is closed).

    Raises:
        CannotRecord: the env has no ``rgb_array`` render mode; it has no Gymnasium
            spec to re-make it from (the message says to pass ``--env ID``); or the
            re-made env fails or differs from ``env`` (observation or action space).
    """
    if getattr(env, "render_mode", None) == "rgb_array":
        return env
    name = _describe(env)
    modes = getattr(env, "metadata", {}).get("render_modes")
    if modes is not None and "rgb_array" not in modes:
        raise CannotRecord(f"{name} cannot render frames (its render modes: {list(modes)})")
    import gymnasium

    spec = getattr(env, "spec", None)
    if not isinstance(spec, gymnasium.envs.registration.EnvSpec):
        raise CannotRecord(
            f"{name} was made without render_mode='rgb_array' and has no Gymnasium id to "
            "make it again with one: pass --env ID"
        )
    try:
        remade = gymnasium.make(spec, render_mode="rgb_array")
    except Exception as err:
        raise CannotRecord(
            f"{spec.id} cannot be made with render_mode='rgb_array' ({type(err).__name__}: "
            f"{err}): pass --env ID"
        ) from err
    for space in ("observation_space", "action_space"):
        if getattr(remade, space, None) != getattr(env, space, None):
            remade.close()
            raise CannotRecord(
                f"{spec.id} made again with render_mode='rgb_array' has another {space} "
                "than the saved env: pass --env ID"
            )
    env.close()
    return remade


def _describe(env: Any) -> str:
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None) or type(getattr(env, "unwrapped", env)).__name__


def episode_numbers(num_episodes: int, num_envs: int) -> list[list[int]]:
    """The loop's number of each env's episodes, in the order each env runs them.

    As :mod:`spinfast.agent.rollout` documents: env ``i`` runs
    ``(num_episodes + i) // num_envs`` episodes, numbered round by round in env order.
    This is the loop's own plan (``_core.episode_numbers``).
    """
    return _core.episode_numbers(num_episodes, num_envs)


def video_path(folder: str | os.PathLike[str], name_prefix: str, number: int) -> str:
    """Where episode ``number``'s video goes: ``folder/<name_prefix>-episode-<number>.mp4``."""
    return osp.join(os.fspath(folder), f"{name_prefix}-episode-{number}.mp4")


class VideoRecorder:
    """An env that records its episodes' ``render()`` frames, one MP4 file per episode.

    Frames are taken after each ``reset`` and each ``step`` of a recorded episode; an
    episode's file is closed when the env says it is done, at the next ``reset`` (an
    episode cut short by the loop) or at :meth:`finish`. Everything else (spaces,
    ``metadata``, ``seed``, ...) is the env's; ``reset`` takes a seed exactly as the
    env's does (``spinfast.agent.envs.reset_style`` finds the same style).

    Arguments:
        env: an env whose ``render()`` gives ``(H, W, 3)`` uint8 frames.
        folder: where the videos go (made if needed).
        name_prefix: the files' names start with it.
        numbers: the number of each successive episode; None: 0, 1, 2, ...
            Episodes beyond the list are not recorded.
        wanted: which numbers to record; None: all.
        fps: frames per second; None: the env's ``metadata["render_fps"]``, else 30.
        on_unrenderable: called with a one-line reason when a first frame is not an
            RGB image; recording stops. None: raise :class:`CannotRecord`.
    """

    def __init__(
        self,
        env: Any,
        folder: str | os.PathLike[str],
        name_prefix: str,
        numbers: Sequence[int] | None = None,
        wanted: Callable[[int], bool] | None = None,
        *,
        fps: float | None = None,
        on_unrenderable: Callable[[str], None] | None = None,
    ) -> None:
        self.env = env
        self.folder = os.fspath(folder)
        self.name_prefix = name_prefix
        self.numbers = None if numbers is None else list(numbers)
        self.wanted = wanted
        self.fps = fps if fps is not None else _render_fps(env)
        self.on_unrenderable = on_unrenderable
        #: the videos written so far, as (episode number, path)
        self.videos: list[tuple[int, str]] = []
        self.enabled = True
        self._resets = 0
        self._writer: Any = None
        self._current: tuple[int, str] | None = None
        self._shape: tuple[int, ...] | None = None
        # reset takes a seed the way the env's does, so the loop seeds both alike
        self.reset = self._reset_keyword if reset_style(env) == "keyword" else self._reset_plain

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)

    def __repr__(self) -> str:
        return f"<VideoRecorder {self.env!r}>"

    def _reset_keyword(self, **kwargs: Any) -> Any:
        out = self.env.reset(**kwargs)
        self._start_episode()
        return out

    def _reset_plain(self, *args: Any) -> Any:
        out = self.env.reset(*args)
        self._start_episode()
        return out

    def step(self, action: Any) -> Any:
        out = self.env.step(action)
        if self._writer is not None:
            self._capture()
            if _done(out):
                self._close_episode()
        return out

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        """Finish the current video, then close the env."""
        self.finish()
        self.env.close()

    def finish(self, keep: bool = True) -> None:
        """Close the current episode's video: keep it (an episode the loop ended), or
        delete it (``keep=False``: an episode interrupted by an error)."""
        if self._current is None:
            return
        current = self._current
        self._close_episode()
        if not keep and current in self.videos:
            self.videos.remove(current)
            with contextlib.suppress(FileNotFoundError):
                os.remove(current[1])

    def _start_episode(self) -> None:
        self._close_episode()  # an episode the loop cut short (max_ep_len)
        j, self._resets = self._resets, self._resets + 1
        if self.numbers is None:
            number: int | None = j
        else:
            number = self.numbers[j] if j < len(self.numbers) else None
        if not self.enabled or number is None or (self.wanted and not self.wanted(number)):
            return
        self._current = (number, video_path(self.folder, self.name_prefix, number))
        self._capture()

    def _capture(self) -> None:
        frame = self.env.render()
        if self._writer is None:
            reason = _not_an_image(frame)
            if reason is not None:
                self._current = None
                self.enabled = False
                reason = f"{_describe(self.env)} cannot record: its render() gave {reason}"
                if self.on_unrenderable is None:
                    raise CannotRecord(reason)
                self.on_unrenderable(reason)
                return
            self._open(frame.shape)
        elif frame is None or np.shape(frame) != self._shape:
            raise CannotRecord(
                f"{_describe(self.env)}'s render() changed from frames of shape {self._shape} "
                f"to {np.shape(frame)} within an episode: a video needs frames of one size"
            )
        height, width = frame.shape[:2]
        if height % 2 or width % 2:
            # yuv420p (what players read) needs even sides: repeat the last row or column
            frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        self._writer.send(np.ascontiguousarray(frame))

    def _open(self, shape: tuple[int, ...]) -> None:
        import imageio_ffmpeg

        assert self._current is not None
        height, width = shape[:2]
        os.makedirs(self.folder, exist_ok=True)
        self._shape = shape
        self._writer = imageio_ffmpeg.write_frames(
            self._current[1],
            (width + width % 2, height + height % 2),
            fps=self.fps,
            macro_block_size=1,  # the frame is padded to even sides, never rescaled
            ffmpeg_log_level="error",
        )
        self._writer.send(None)  # start ffmpeg
        self.videos.append(self._current)

    def _close_episode(self) -> None:
        writer, self._writer, self._current = self._writer, None, None
        if writer is not None:
            writer.close()  # waits for ffmpeg to write the file


def _render_fps(env: Any) -> float:
    fps = getattr(env, "metadata", {}).get("render_fps")
    if isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0:
        return fps
    return FALLBACK_FPS


def _not_an_image(frame: Any) -> str | None:
    if frame is None:
        return "None (render_mode is not 'rgb_array'?)"
    if not isinstance(frame, np.ndarray):
        return f"a {type(frame).__name__}, not an RGB image"
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8 or 0 in frame.shape:
        return f"an array of shape {frame.shape} and dtype {frame.dtype}, not (H, W, 3) uint8"
    return None


def _done(out: Any) -> bool:
    # Gymnasium's 5-tuple (terminated or truncated) or old gym's 4-tuple (done)
    if isinstance(out, tuple) and len(out) in (4, 5):
        return bool(out[2]) or (len(out) == 5 and bool(out[3]))
    return False


class Recording:
    """Envs wrapped to record the first episodes of a run; made by :func:`record`.

    Use it as a context manager around the run: on leaving it, the last videos are
    closed, or, when the run raised (Ctrl-C), the unfinished ones are deleted.

    Attributes:
        envs: what to run: one :class:`VideoRecorder`, or a list of them, as given.
        folder: where the videos go.
    """

    def __init__(self, envs: Any, recorders: list[VideoRecorder], folder: str) -> None:
        self.envs = envs
        self.recorders = recorders
        self.folder = folder

    @property
    def paths(self) -> list[str]:
        """The videos written, in episode-number order."""
        return [path for _, path in sorted(v for r in self.recorders for v in r.videos)]

    def finish(self, keep: bool = True) -> None:
        """Close every recorder's current video (see :meth:`VideoRecorder.finish`)."""
        for recorder in self.recorders:
            recorder.finish(keep)

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        self.finish(keep=kind is None)


def record(
    envs: Any,
    folder: str | os.PathLike[str],
    name_prefix: str,
    num_episodes: int,
    max_videos: int | None = DEFAULT_MAX_VIDEOS,
    *,
    fps: float | None = None,
    note: Callable[[str], None] | None = None,
) -> Recording:
    """Wrap ``envs`` (one env, or a list as ``run_episodes`` takes) so that the first
    ``max_videos`` of a run's ``num_episodes`` episodes are recorded in ``folder``.

    Episodes are numbered as the loop numbers them (:func:`episode_numbers`), so
    ``<name_prefix>-episode-<k>.mp4`` shows the loop's episode ``k``.

    Arguments:
        envs: envs that render ``rgb_array`` frames (see :func:`rgb_array_env`).
        folder: where the videos go; made if needed.
        name_prefix: the files' names start with it.
        num_episodes: how many episodes the run will have.
        max_videos: record episodes ``0 .. max_videos - 1``; None: all of them.
        fps: frames per second; None: the env's ``metadata["render_fps"]``.
        note: called once with a one-line reason if the envs give no RGB frames
            (the run goes on, unrecorded); None: print it on stderr.

    With no display (neither ``DISPLAY`` nor ``WAYLAND_DISPLAY`` set),
    ``SDL_VIDEODRIVER`` defaults to ``dummy``, so that pygame renders offscreen quietly.

    Raises:
        FileExistsError: ``folder`` already holds one of the videos: nothing is replaced.
        VideoExtraMissing: the ``video`` extra is not installed.
    """
    require_video_extra()
    lockstep = isinstance(envs, (list, tuple))
    env_list = list(envs) if lockstep else [envs]
    count = num_episodes if max_videos is None else min(max_videos, num_episodes)
    folder = os.fspath(folder)
    for k in range(count):
        if osp.lexists(path := video_path(folder, name_prefix, k)):
            raise FileExistsError(f"{path} already exists: give another folder for the videos")
    os.makedirs(folder, exist_ok=True)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # no display: pygame draws offscreen, without SDL probing for a window
        # system first (and printing "XDG_RUNTIME_DIR is invalid" on a server)
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    noted: list[str] = []

    def wanted(number: int) -> bool:
        return number < count

    def unrenderable(reason: str) -> None:
        for recorder in recorders:  # the copies of one env: none of them can
            recorder.enabled = False
        if not noted:
            noted.append(reason)
            if note is None:
                print(f"note: no video: {reason}; the episodes run without it", file=sys.stderr)
            else:
                note(reason)

    numbers = episode_numbers(num_episodes, len(env_list))
    recorders = [
        VideoRecorder(
            env, folder, name_prefix, numbers[i], wanted, fps=fps, on_unrenderable=unrenderable
        )
        for i, env in enumerate(env_list)
    ]
    return Recording(recorders if lockstep else recorders[0], recorders, folder)
