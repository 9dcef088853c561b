"""Several nox sessions at once, their output line by line with the session's name in front.

Why: measured on a fresh 2-core machine, the test command kept the cores about half busy
(user+sys 2,156 s in 2,163 s of wall time): behave waits on pods, rollouts and probes, Wine
waits on its server, and the other session could use those gaps. The Wine installer session
shares nothing with the scenarios (its own releases in a temporary folder, its own prefixes and
X display), so it runs beside them. Every session runs to its end; the exit status is the
first failing session's, and each session's time is printed at the end, after the last lines
of every group that failed: a log read from its end (CI shows its tail) then still says why each
group failed, not only the one that happened to finish last.
"""

from __future__ import annotations

import collections
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from build_scripts.core import cmd, paths
from build_scripts.core.errors import ConfigError
from build_scripts.core.progress import format_seconds, say, table

# What a failed group's summary shows: the lines pytest and behave name failures with (pytest
# -ra's "FAILED test - reason" and "ERROR test - reason", behave's "Failing scenarios:" list),
# then the group's last lines, where nox says which session failed and anything else ended it.
FAILURE_MARKS = ("FAILED ", "ERROR ", "Failing scenarios:", "Errored scenarios:", "  features/")
FAILURE_LINES = 20
LAST_LINES = 8


@dataclass
class SessionRun:
    name: str
    returncode: int | None = None
    seconds: float = 0.0
    failure_lines: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=FAILURE_LINES)
    )
    last_lines: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=LAST_LINES)
    )

    def keep(self, line: str) -> None:
        if line.startswith(FAILURE_MARKS):
            self.failure_lines.append(line)
        self.last_lines.append(line)

    def why_it_failed(self) -> str:
        lines = [f"── {self.name} failed:", *self.failure_lines]
        if self.failure_lines:
            lines.append("── its last lines:")
        lines += [line for line in self.last_lines if line not in self.failure_lines]
        return "\n".join(lines)


def _pump(
    process: subprocess.Popen, prefix: str, lock: threading.Lock, run: SessionRun, began: float
) -> None:
    """Copy the group's lines, then record its end: each group's own time, not the time at
    which the loop got round to waiting for it."""
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        line = raw.decode(errors="replace").rstrip("\n")
        run.keep(line)
        with lock:
            sys.stdout.write(f"{prefix} {line}\n")
            sys.stdout.flush()
    run.returncode = process.wait()
    run.seconds = time.monotonic() - began


def run_together(groups: list[list[str]], nox: list[str] | None = None) -> list[SessionRun]:
    """Each group is a list of nox sessions run in order by one nox; the groups run at once."""
    if not groups or not all(groups):
        raise ConfigError(
            "nothing to run", "name sessions, e.g. --group validate --group installer"
        )
    nox = nox or [sys.executable, "-m", "nox"]
    lock = threading.Lock()
    runs, pumps = [], []
    width = max(len("+".join(group)) for group in groups)
    for group in groups:
        name = "+".join(group)
        say(f"+ {' '.join([*nox, '-s', *group])}  [{name}]")
        process = cmd.spawn([*nox, "-s", *group], cwd=paths.repo_root(), own_session=False)
        run = SessionRun(name)
        runs.append(run)
        pump = threading.Thread(
            target=_pump, args=(process, f"[{name:<{width}}]", lock, run, time.monotonic())
        )
        pump.start()
        pumps.append(pump)
    for pump in pumps:
        pump.join()
    return runs


def summary(runs: list[SessionRun]) -> str:
    """Why each failed group failed, then one row per group."""
    tails = [r.why_it_failed() for r in runs if r.returncode != 0]
    rows = [("sessions", "result", "time")]
    rows += [
        (
            r.name,
            "passed" if r.returncode == 0 else f"failed (exit {r.returncode})",
            format_seconds(r.seconds),
        )
        for r in runs
    ]
    return "\n\n".join([*tails, table(rows, rule=True)])


def exit_status(runs: list[SessionRun]) -> int:
    return next((r.returncode or 1 for r in runs if r.returncode != 0), 0)
