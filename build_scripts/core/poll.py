"""Waiting until something is true, one way: a deadline loop that knows what it waits for.

Every wait in the engine and its tests goes through `until`: it polls a check, remembers what
the check last saw (a check raises `NotYet("…")` to say, or raises one of the `ignore`d errors),
and on timeout raises one error that names what was awaited, after how long, and that last
observation. `watch` lets a caller fail early, e.g. when the daemon being waited for has died
(core/daemon.py's `wait_answering` is that case).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from build_scripts.core.errors import TimedOut
from build_scripts.core.progress import format_seconds

T = TypeVar("T")


class NotYet(Exception):
    """Raised by a check: not yet; its text is what the check saw (shown on timeout)."""


def timeout_message(what: str, timeout: float, last: str | None) -> str:
    message = f"timed out after {format_seconds(timeout)} waiting for {what}"
    return f"{message}; last seen: {last}" if last else message


def eventually(
    check: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.5,
    ignore: tuple[type[BaseException], ...] = (),
    watch: Callable[[], None] | None = None,
) -> tuple[T | None, str | None]:
    """Poll `check` until it returns something true or `timeout` seconds pass.

    Returns (the true value or None, the last observation). `watch` runs after each miss and
    may raise to give up early.
    """
    deadline = time.monotonic() + timeout
    last: str | None = None
    while True:
        try:
            result = check()
            if result:
                return result, last
            last = None if result is None or result is False else repr(result)
        except NotYet as seen:
            last = str(seen) or None
        except ignore as problem:
            last = f"{type(problem).__name__}: {problem}"
        if watch is not None:
            watch()
        if time.monotonic() > deadline:
            return None, last
        time.sleep(interval)


def until(
    check: Callable[[], T],
    *,
    what: str,
    timeout: float,
    interval: float = 0.5,
    ignore: tuple[type[BaseException], ...] = (),
    watch: Callable[[], None] | None = None,
    hint: str | None = None,
    fail: Callable[[str], BaseException] | None = None,
) -> T:
    """Poll `check` until it returns something true, and return that.

    On timeout raise `TimedOut` (what was awaited, after how long, what was last seen), or
    `fail(message)` where a caller's contract is another error (a verification, a test
    assertion).
    """
    result, last = eventually(check, timeout=timeout, interval=interval, ignore=ignore, watch=watch)
    if result:
        return result
    message = timeout_message(what, timeout, last)
    if fail is not None:
        raise fail(message)
    raise TimedOut(message, hint, what=what, last=last)
