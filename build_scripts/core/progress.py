"""Progress on stdout: what runs, and how long it took. Problems go to stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def say(message: str) -> None:
    print(message, flush=True)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step, then report it done (✓) or failed (✗) with its duration."""
    say(f"▶ {name}")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"✗ {name} failed after {format_seconds(time.monotonic() - started)}")
        raise
    say(f"✓ {name} {format_seconds(time.monotonic() - started)}")
