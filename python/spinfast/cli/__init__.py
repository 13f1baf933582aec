"""The ``spinfast`` command: ``spinfast COMMAND ...`` or ``python -m spinfast COMMAND ...``.

Each command lives in its own module, which has a ``main(argv) -> int``; this
file only dispatches, as ``spinup/run.py`` does for Spinning Up.
"""

from __future__ import annotations

import importlib
import sys

# command name -> (module holding its main(argv), one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "summary": ("spinfast.cli.summary", "one line per run: experiment, seed, epochs, performance"),
    "plot": ("spinfast.cli.plot", "learning curves as Spinning Up's plotter draws them, headless"),
    "example": ("spinfast.cli.example", "copy the bundled trained CartPole agent; print its path"),
    "evaluate": ("spinfast.cli.evaluate", "score each run and snapshot of a sweep (local or Ray)"),
    "test_policy": (
        "spinfast.cli.test_policy",
        "load a trained agent and run it in its environment",
    ),
}


def _usage() -> str:
    lines = ["usage: spinfast COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<12} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'spinfast COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run one spinfast command and return its exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"spinfast: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return module.main(rest)
