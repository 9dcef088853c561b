"""The cluster's programs built in a detached session (`invoke cluster.build --background`),
ahead of the work beside it: on a fresh machine that compile is the test command's critical
path, and a `cluster.up` meanwhile waits for it (cluster/lifecycle.py's build lock) rather than
compiling twice."""

from __future__ import annotations

import sys
from pathlib import Path

from build_scripts.cluster.options import ClusterOptions
from build_scripts.core import cmd, paths
from build_scripts.core.progress import say


def build_in_background(options: ClusterOptions) -> tuple[int, Path]:
    """`invoke cluster.build` detached: the compile (minutes on a fresh machine) runs beside
    work that does not need the cluster, ahead of it. Returns its pid and log."""
    logs = options.layout.root.parent
    log, pid_path = logs / "cluster-build.log", logs / "cluster-build.pid"
    argv = [sys.executable, "-m", "invoke", "cluster.build"]
    pid = cmd.start_background(
        argv, name="cluster build", log_path=log, pid_path=pid_path, cwd=paths.repo_root()
    )
    _ahead_of_other_sessions(pid)
    return pid, log


# The nice value of the background build's session. On a fresh machine the compile is the test
# command's critical path (every cluster scenario waits for it): 6.5 min of both cores alone.
# A process's own nice value does not do this: with the kernel's autogroups (Debian's default,
# /proc/sys/kernel/sched_autogroup_enabled) each session shares the CPU equally with the other
# sessions, whatever its processes' nice values; the build, a session of its own, got one core
# of two at nice 10, at 0 and at -5 alike (Kubernetes in 13 min 40 s to 17 min 25 s beside the
# test groups). The session's own nice value (/proc/PID/autogroup, man 7 sched) weighs it.
BUILD_SESSION_NICE = -5


def _ahead_of_other_sessions(pid: int) -> None:
    autogroup = Path(f"/proc/{pid}/autogroup")
    try:
        autogroup.write_text(f"{BUILD_SESSION_NICE}\n")
    except OSError as error:  # no autogroups (or not root): the build still runs, unweighted
        say(f"  cluster build at the normal priority: {autogroup}: {error.strerror}")
        return
    say(f"  cluster build ahead of the other work: {autogroup.read_text().strip()}")
