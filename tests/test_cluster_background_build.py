"""cluster.build --background weights its session ahead of the work beside it: with the kernel's
autogroups a process's own nice value only counts inside its session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from build_scripts.cluster import background_build


def _autogroup(pid: int) -> str:
    return Path(f"/proc/{pid}/autogroup").read_text()


def test_the_build_session_gets_the_nice_value_and_the_callers_session_keeps_its_own(capsys):
    mine = _autogroup(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    try:
        background_build._ahead_of_other_sessions(child.pid)
        assert _autogroup(child.pid).split()[-2:] == [
            "nice",
            str(background_build.BUILD_SESSION_NICE),
        ]
        assert _autogroup(os.getpid()) == mine
        assert "ahead of the other work" in capsys.readouterr().out
    finally:
        child.kill()
        child.wait()


def test_without_an_autogroup_to_weigh_the_build_runs_and_says_so(capsys):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # gone: its /proc entry with it
    background_build._ahead_of_other_sessions(child.pid)
    assert "cluster build at the normal priority" in capsys.readouterr().out
