"""``spinfast example [DEST]``: copy the bundled trained CartPole agent and print
the copy's path (see :mod:`spinfast.agent.example`)."""

from __future__ import annotations

import argparse
import sys

from spinfast.agent.example import EXAMPLE_NAME, copy_example

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spinfast example",
        description="Copy the trained CartPole-v1 agent bundled with spinfast (Spinning Up's "
        "output layout) and print the copy's path, e.g. "
        'spinfast test_policy "$(spinfast example)" -nr',
    )
    parser.add_argument(
        "dest",
        nargs="?",
        help=f"an existing folder (the copy goes into it as {EXAMPLE_NAME}) or a new path; "
        "default: a new temporary folder",
    )
    args = parser.parse_args(argv)
    try:
        print(copy_example(args.dest))
    except OSError as e:
        print(f"spinfast example: {e}", file=sys.stderr)
        return 1
    return 0
