"""Errors of the release engine.

Every failure a user can act on is a ReleaseError: it carries one line saying what went wrong
and a hint saying what to do next. Only the task boundary (tasks/_base.py) turns it into an
exit code; everything below raises.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class ReleaseError(Exception):
    """A failure with a message for the user and, where there is one, the next action."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        return f"{text} — {self.hint}" if self.hint else text


class ConfigError(ReleaseError):
    """Bad input: an option, a config value or a file the user supplied."""

    exit_code = 2


class InvalidVersion(ConfigError):
    """A version that is not SemVer."""


class UnsupportedPlatform(ConfigError):
    """A build target this host cannot produce."""


class ToolMissing(ReleaseError):
    """An external program the step needs is not installed."""

    exit_code = 3


class CommandFailed(ReleaseError):
    """An external command exited non-zero (or timed out)."""

    exit_code = 4

    def __init__(
        self, step: str, argv: list[str], returncode: int, tail: list[str], hint: str | None = None
    ) -> None:
        shown = " ".join(argv)
        if len(shown) > 160:
            shown = shown[:157] + "..."
        last = tail[-1].strip() if tail else "(no output)"
        super().__init__(f"{step}: `{shown}` exited {returncode}; last output: {last}", hint)
        self.step = step
        self.argv = argv
        self.returncode = returncode
        self.tail = tail


class VerificationFailed(ReleaseError):
    """A produced artifact or a running system does not meet its specification."""

    exit_code = 5


class TimedOut(ReleaseError):
    """Something awaited did not happen in time; says what was awaited and what was last seen."""

    def __init__(
        self, message: str, hint: str | None = None, *, what: str = "", last: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.what = what
        self.last = last


class DaemonDied(ReleaseError):
    """A background process the engine started exited while it was being waited for."""


def exit_code_of(body: Callable[[], object]) -> int:
    """For `python -m build_scripts.…` entry points: run `body`; a ReleaseError becomes one
    line on stderr and its exit code, as at the task boundary."""
    try:
        body()
    except ReleaseError as error:
        print(f"error: {error.one_line()}", file=sys.stderr)
        return error.exit_code
    return 0
