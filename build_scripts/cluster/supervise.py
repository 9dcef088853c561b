"""The cluster's processes: start each one detached with its pid, argv and log under the
state directory, recognise it again, restart it when its configuration changed, stop it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from build_scripts.cluster.config import (
    Layout,
)
from build_scripts.cluster.probes import probe_errors
from build_scripts.core import atomic, cmd, jsonfile, poll
from build_scripts.core.daemon import cmdline, died, read_pid, terminate
from build_scripts.core.progress import format_seconds


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    # Files the process reads at start-up: a change restarts it on the next `up`.
    inputs: tuple[Path, ...] = ()

    def fingerprint(self) -> str:
        digest = hashlib.sha256(json.dumps([self.argv, sorted(self.env.items())]).encode())
        for path in self.inputs:
            with contextlib.suppress(FileNotFoundError):
                digest.update(path.read_bytes())
        return digest.hexdigest()


def recorded_argv(layout: Layout, name: str) -> list[str] | None:
    found = jsonfile.read(layout.argv_record(name))
    return found if isinstance(found, list) else None


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of our `name` process if it still runs exactly the argv we started it with.

    Checking the argv guards against a recycled pid: we never signal a process we did not start.
    """
    pid = read_pid(layout.pid(name))
    argv = recorded_argv(layout, name)
    if pid is None or argv is None:
        return None
    return pid if cmdline(pid) == argv else None


def ensure_process(layout: Layout, process: Process) -> tuple[int, str]:
    """Start `process` unless it already runs as configured; restart it if anything changed.

    Returns (pid, "started" | "restarted" | "already running").
    """
    fingerprint = process.fingerprint()
    pid = running_pid(layout, process.name)
    what = "started"
    if pid is not None:
        recorded = layout.fingerprint(process.name)
        if recorded.exists() and recorded.read_text() == fingerprint:
            return pid, "already running"
        # Same component, other arguments or configuration: replace it.
        terminate(pid, process.name)
        what = "restarted"
    layout.log(process.name).parent.mkdir(parents=True, exist_ok=True)
    with open(layout.log(process.name), "a") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {process.name}\n")
    pid = cmd.start_background(
        process.argv,
        name=process.name,
        log_path=layout.log(process.name),
        pid_path=layout.pid(process.name),
        env=process.env or None,
        cwd=process.cwd,
    )
    # Record what we started, as /proc shows it, to recognise the process later.
    seen, _ = poll.eventually(lambda: cmdline(pid), timeout=2, interval=0.02)
    atomic.write_text(layout.argv_record(process.name), json.dumps(seen or process.argv))
    atomic.write_text(layout.fingerprint(process.name), fingerprint)
    return pid, what


def stop_process(layout: Layout, name: str) -> str:
    pid = running_pid(layout, name)
    result = "not running"
    if pid is not None:
        started = time.monotonic()
        terminate(pid, name)
        result = f"stopped (pid {pid}, {format_seconds(time.monotonic() - started)})"
    for path in (layout.pid(name), layout.argv_record(name), layout.fingerprint(name)):
        path.unlink(missing_ok=True)
    return result


def wait_for(
    what: str,
    check: Callable[[], bool],
    *,
    layout: Layout,
    watch: tuple[str, ...],
    timeout: float,
    interval: float = 0.5,
) -> float:
    """Poll `check` until true; fail early with the log tail if a watched process died.

    Returns the seconds it took."""
    started = time.monotonic()

    def all_alive() -> None:
        for name in watch:
            if running_pid(layout, name) is None:
                raise died(name, layout.log(name), f"waiting for {what}")

    poll.until(
        check,
        what=what,
        timeout=timeout,
        interval=interval,
        ignore=probe_errors(),
        watch=all_alive,
        hint=f"see the logs in {layout.logs}",
    )
    return time.monotonic() - started
