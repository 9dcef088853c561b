"""The cluster's programs built in a detached session (`invoke cluster.build --background`),
beside the work that does not need them: on a fresh machine that compile is the test command's
critical path, and a `cluster.up` meanwhile waits for it (cluster/lifecycle.py's build lock)
rather than compiling twice."""

from __future__ import annotations

import sys
from pathlib import Path

from build_scripts.cluster.options import ClusterOptions
from build_scripts.core import cmd, paths


def build_in_background(options: ClusterOptions) -> tuple[int, Path]:
    """`invoke cluster.build` detached: the compile (minutes on a fresh machine) runs beside
    work that does not need the cluster. Returns its pid and log."""
    logs = options.layout.root.parent
    log, pid_path = logs / "cluster-build.log", logs / "cluster-build.pid"
    # At the normal priority: nice does not put it ahead or behind here. With the kernel's
    # autogroups (Debian's default) a process's nice value counts only inside its own session,
    # and this build is a session of its own: niced by 10, at 0 and at -5 the Kubernetes compile
    # took 13 min 40 s to 17 min 25 s beside the test groups; weighting the session itself
    # (/proc/PID/autogroup, nice -5) was measured too and was no faster (19 min 36 s), since the
    # test groups' own subprocesses run in sessions of their own as well.
    argv = [sys.executable, "-m", "invoke", "cluster.build"]
    pid = cmd.start_background(
        argv, name="cluster build", log_path=log, pid_path=pid_path, cwd=paths.repo_root()
    )
    return pid, log
