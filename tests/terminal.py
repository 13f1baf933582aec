"""Running code with its standard error on a pseudo-terminal, to see what it draws there."""

from __future__ import annotations

import os
import pty
import threading
from collections.abc import Callable


def stderr_on_a_terminal(run: Callable[[], object]) -> str:
    """Run ``run()`` with file descriptor 2 on a pseudo-terminal; what was drawn there."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    saved = os.dup(2)
    try:
        os.dup2(slave, 2)
        run()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(slave)
        reader.join(timeout=5)
        os.close(master)
    return b"".join(chunks).decode(errors="replace")
