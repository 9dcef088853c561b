"""A real `invoke release` killed in the middle of a step, then run again.

The backend step is used: `go build` with an empty GOCACHE compiles the standard library, so
the step is certainly running when the signal arrives. GOPROXY=off keeps it on this machine;
the module fixture downloads the backend's dependencies first, since on a fresh machine this
test may run before anything else has filled the module cache (seen: `go build` exited 1 at
once, before the signal). The run after the kill uses the normal, warm Go cache.
"""

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from build_scripts.core import poll
from build_scripts.core.metadata import current_release
from build_scripts.release import state

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def backend_modules():
    """The backend's modules in the module cache (from the Go proxy if not there yet)."""
    subprocess.run(["go", "mod", "download"], cwd=REPO / "backend", check=True, timeout=600)


def _invoke(env, *args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "invoke", "release", "--only", "backend", "--no-bootstrap", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # As in a terminal: Ctrl-C interrupts. A test run started as a background job of a
        # non-interactive shell inherits SIGINT ignored, and Python would then keep ignoring it.
        preexec_fn=_default_sigint,
        **kwargs,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_line(process, needle, seen, timeout=300):
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line)
        if needle in line:
            return
        assert time.monotonic() < deadline, "".join(seen)
    raise AssertionError(f"no {needle!r} in:\n{''.join(seen)}")


def _lock_released(dist_dir, timeout=60):
    lock = state.state_dir(dist_dir) / "lock"

    def free() -> bool:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True

    with open(lock) as handle:
        released, _ = poll.eventually(
            free, timeout=timeout, interval=0.2, ignore=(BlockingIOError,)
        )
    return bool(released)


def _descendants(root: int) -> list[list[str]]:
    """The command lines of every process below `root` (by /proc's parent links)."""
    parents, argvs = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argvs[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")[:-1]
        except (OSError, IndexError):
            continue
        parents[int(entry.name)] = int(stat[1])
    below, found = {root}, True
    while found:
        found = {pid for pid, parent in parents.items() if parent in below} - below
        below |= found
    return [[a.decode(errors="replace") for a in argvs[pid]] for pid in below - {root}]


def _compiling(process) -> bool:
    """The Go compiler runs below the release: the backend step is in the middle of its work."""
    return any(argv and argv[0].endswith("/compile") for argv in _descendants(process.pid))


def _dot_files(folder):
    return [p for p in folder.rglob(".*")] if folder.exists() else []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_killed_release_leaves_nothing_half_done_and_the_next_run_recovers(
    tmp_path, monkeypatch, signum
):
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    dist_dir = current_release().dist_dir
    env = dict(os.environ, GOPROXY="off", GOCACHE=str(tmp_path / "gocache"))
    seen: list[str] = []
    process = _invoke(env)
    try:
        _wait_for_line(process, "[backend] + ", seen)
        # The signal must arrive while `go build` compiles, not before it started.
        poll.until(
            lambda: _compiling(process),
            what="the Go compiler under the release",
            timeout=120,
            interval=0.1,
            fail=lambda message: AssertionError(f"{message}\n{''.join(seen)}"),
        )
        assert process.poll() is None, "".join(seen)
        os.kill(process.pid, signum)
        rest, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(seen) + rest
    if signum == signal.SIGINT:
        assert process.returncode == 130, output
        assert "interrupted: stopped backend" in output
    else:
        assert process.returncode == -signal.SIGKILL
    # The worker notices, stops `go build` and removes its temporary file, then lets go.
    assert _lock_released(dist_dir), "the backend worker kept running after its release died"
    assert _dot_files(dist_dir) == []
    assert not (dist_dir / "SHA256SUMS").exists()
    assert not (dist_dir / "backend" / "traderadmin-backend-linux-amd64").exists()
    assert state.load_record(dist_dir, "backend") is None

    again = subprocess.run(
        [sys.executable, "-m", "invoke", "release", "--only", "backend", "--no-bootstrap"],
        cwd=REPO,
        env=dict(os.environ, GOPROXY="off"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "backend                  would run: no record of an earlier run" in again.stdout
    check = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=dist_dir, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "backend/traderadmin-backend-linux-amd64: OK" in check.stdout
    assert _dot_files(dist_dir) == []
