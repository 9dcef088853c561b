"""One machine-wide lock: a file under flock, waited for with a line that says what for.

flock, not a pid file: the kernel lets go when the holder dies however it dies (kill -9
included), so a lock is never left behind. Children that inherit the descriptor keep it held.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from build_scripts.core.progress import say


@contextlib.contextmanager
def waiting_lock(path: Path, waiting_for: str) -> Iterator[int]:
    """Hold the lock at `path`; if another process holds it, say so and wait. Yields the fd."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for {waiting_for} …")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)
