"""The trained agent that comes with spinfast, and :func:`copy_example` (``spinfast example``).

A PPO agent trained on CartPole-v1 by ``examples/train_cartpole.py``, in Spinning
Up's output layout: progress.txt, config.json, numbered snapshots
(``simple_saveN/``, ``varsN.pkl``) from its first epoch to its last, and the final
agent unnumbered (``simple_save/``, ``vars.pkl`` holding the Gymnasium env).
The command prints the copy's path and nothing else, so that::

    spinfast test_policy "$(spinfast example)" -nr

runs the agent. DEST works as for ``cp -r``: an existing folder receives the
copy as ``DEST/ppo-cartpole_s0``; otherwise DEST becomes the copy. Without
DEST, the copy goes into a new temporary folder. Nothing existing is replaced.

Example:
    >>> import os
    >>> from spinfast.agent.example import copy_example
    >>> path = copy_example()
    >>> os.path.basename(path)
    'ppo-cartpole_s0'
    >>> sorted(n for n in os.listdir(path) if not n.startswith(("simple_save", "vars")))
    ['config.json', 'progress.txt']
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources

__all__ = ["EXAMPLE_NAME", "copy_example"]

# the run folder's name, as setup_logger_kwargs("ppo-cartpole", seed=0) names it
EXAMPLE_NAME = "ppo-cartpole_s0"


def copy_example(dest: str | os.PathLike[str] | None = None) -> str:
    """Copy the bundled agent's output folder and return the copy's path.

    Args:
        dest: an existing folder (the copy goes into it as ``ppo-cartpole_s0``),
            or a path that does not exist yet (the copy goes there). ``None``:
            a new temporary folder.

    Raises:
        FileExistsError: the place for the copy is already taken (nothing is
            replaced).
    """
    if dest is None:
        target = os.path.join(tempfile.mkdtemp(prefix="spinfast-example-"), EXAMPLE_NAME)
    elif os.path.isdir(dest):
        target = os.path.join(os.fspath(dest), EXAMPLE_NAME)
    else:
        target = os.fspath(dest)
    if os.path.lexists(target):
        raise FileExistsError(f"{target}: already exists; choose another destination")
    with resources.as_file(resources.files("spinfast") / "example_agent") as source:
        shutil.copytree(source, target)
    return target
