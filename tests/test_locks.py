"""core/locks.waiting_lock between real processes."""

import os
import signal
import subprocess
import sys
import time

from build_scripts.core import locks

CHILD = """
import sys
from pathlib import Path
from build_scripts.core import locks
with locks.waiting_lock(Path(sys.argv[1]), "the test's holder"):
    print("held", flush=True)
"""


def _child(path):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_second_holder_says_what_it_waits_for_and_gets_the_lock_when_it_is_let_go(tmp_path):
    path = tmp_path / "sub" / "x.lock"
    with locks.waiting_lock(path, "nobody"):
        child = _child(path)
        first = child.stdout.readline()
        assert "waiting for the test's holder" in first
        time.sleep(0.3)
        assert child.poll() is None  # still waiting while we hold it
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 0 and "held" in out


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD.replace(
                'print("held", flush=True)',
                'print("held", flush=True); import time; time.sleep(60)',
            ),
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    child = _child(path)
    out, _ = child.communicate(timeout=30)
    assert out.strip() == "held"
