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


def table(rows: list[tuple[str, ...]], *, rule: bool = False) -> str:
    """Columns padded to their widest cell, two spaces apart; the last column is not padded.
    The first row is the header; `rule` puts a line of dashes under it."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])), row[-1]]).rstrip()
        for row in rows
    ]
    if rule:
        lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
