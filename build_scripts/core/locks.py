"""One machine-wide lock: a file under flock, waited for with a line that says what for.

flock, not a pid file: the kernel lets go when the holder dies however it dies (kill -9
included), so a lock is never left behind. Children that inherit the descriptor keep it held.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say


@contextlib.contextmanager
def waiting_lock(path: Path, waiting_for: str) -> Iterator[int]:
    """Hold the lock at `path`; if another process holds it, say so and wait. Yields the fd."""
    with _held(path, busy=lambda fd: _wait(fd, waiting_for)) as fd:
        yield fd


@contextlib.contextmanager
def lock_or_fail(path: Path, busy: ReleaseError) -> Iterator[int]:
    """Hold the lock at `path`; if another process holds it, raise `busy` at once."""

    def refuse(_: int) -> None:
        raise busy

    with _held(path, busy=refuse) as fd:
        yield fd


def _wait(fd: int, waiting_for: str) -> None:
    say(f"waiting for {waiting_for} …")
    fcntl.flock(fd, fcntl.LOCK_EX)


@contextlib.contextmanager
def _held(path: Path, busy: Callable[[int], None]) -> Iterator[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy(fd)
        yield fd
    finally:
        os.close(fd)
