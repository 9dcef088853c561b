"""Processes the engine starts in the background: start one and wait until it answers, pid
files, is it alive, stop it, its log (shown when it dies while awaited)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path

from build_scripts.core import cmd, poll
from build_scripts.core.errors import DaemonDied, ReleaseError, TimedOut
from build_scripts.core.progress import format_seconds, say, warn

LOG_TAIL_LINES = 15


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    if state in ("Z", "X"):
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (exited, not yet reaped: it counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return cmdline(pid) is not None


def terminate(pid: int, name: str, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL (with a warning) if it still runs after `grace` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if poll.eventually(lambda: not alive(pid), timeout=grace, interval=0.1)[0]:
        return
    warn(f"{name} (pid {pid}) ignored SIGTERM for {grace:.0f}s; killing it")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    poll.eventually(lambda: not alive(pid), timeout=5, interval=0.1)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:]


def died(name: str, log_path: Path, doing: str) -> DaemonDied:
    """The error for a daemon that exited while awaited; shows the tail of its log first."""
    tail = log_tail(log_path)
    say(f"--- last lines of {log_path} ---")
    for line in tail:
        say(f"  {line}")
    last = tail[-1].strip() if tail else "no log output"
    return DaemonDied(f"{name} exited while {doing}: {last}", f"see {log_path}")


def wait_answering(
    name: str,
    answers: Callable[[], object],
    *,
    pid: Callable[[], int | None],
    log_path: Path,
    timeout: float,
    interval: float = 0.5,
) -> None:
    """Wait until `answers()` is true; fail at once, with its log tail, if the daemon dies.

    `pid` reads the daemon's pid each time (a pid file may be written late or rewritten).
    """

    def still_alive() -> None:
        current = pid()
        if current is not None and not alive(current):
            raise died(name, log_path, "starting")

    def fail(message: str) -> TimedOut:
        tail = log_tail(log_path, 1)
        last = tail[-1].strip() if tail else "no log output"
        return TimedOut(
            f"{name} did not answer within {format_seconds(timeout)}: {last}",
            f"see {log_path}",
            what=f"{name} to answer",
            last=last,
        )

    poll.until(
        answers,
        what=f"{name} to answer",
        timeout=timeout,
        interval=interval,
        watch=still_alive,
        fail=fail,
    )


def start_and_wait(
    argv: list,
    *,
    name: str,
    answers: Callable[[], object],
    log_path: Path,
    pid_path: Path,
    timeout: float,
    interval: float = 0.5,
    env: dict[str, str | None] | None = None,
) -> int:
    """Start a daemon (cmd.start_background) and wait until it answers; stop it if it never
    does. Returns its pid."""
    started = cmd.start_background(argv, name=name, log_path=log_path, pid_path=pid_path, env=env)
    try:
        wait_answering(
            name,
            answers,
            pid=lambda: started,
            log_path=log_path,
            timeout=timeout,
            interval=interval,
        )
    except ReleaseError:
        terminate(started, name, grace=10)
        pid_path.unlink(missing_ok=True)
        raise
    return started
