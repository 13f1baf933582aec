"""Argument types the commands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["add_video_arguments", "at_least", "check_video_arguments"]


def at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer no smaller than ``low``, else a usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, not {value}")
        return value

    return parse


def add_video_arguments(parser: argparse.ArgumentParser, what: str, default_k: str) -> None:
    """``--video OUT_DIR`` and ``--video-episodes K``, as test_policy and evaluate take
    them; ``what`` says what is recorded, ``default_k`` which episodes by default."""
    parser.add_argument(
        "--video", metavar="OUT_DIR",
        help=f"record {what} in OUT_DIR, one MP4 file per episode, from the env's rgb_array "
        "frames (no window, no display needed; pip install 'spinfast[video]')",
    )  # fmt: skip
    parser.add_argument(
        "--video-episodes", type=at_least(1), metavar="K",
        help=f"with --video: record the first K episodes (default: {default_k})",
    )  # fmt: skip


def check_video_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A usage error for ``--video-episodes`` without ``--video``; with ``--video``,
    :class:`spinfast.agent.video.VideoExtraMissing` unless the ``video`` extra is there
    (before anything is loaded)."""
    if args.video_episodes is not None and args.video is None:
        parser.error("--video-episodes needs --video OUT_DIR")
    if args.video:
        from spinfast.agent.video import require_video_extra

        require_video_extra()
