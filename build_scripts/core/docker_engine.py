"""The Docker engine the images are built with: find it answering, or start our own dockerd.

No init system runs on the build machines, so installing docker.io does not start a daemon.
We start dockerd detached, with its log and pid under the state dir, and only ever stop the
one we started.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from build_scripts.core import cmd, paths, tools
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say

SOCKET = Path("/var/run/docker.sock")


def state() -> Path:
    return paths.state_dir() / "dockerd"


def is_answering(socket: Path = SOCKET) -> bool:
    """True when a daemon answers the API ping on the socket."""
    if not socket.exists():
        return False
    try:
        transport = httpx.HTTPTransport(uds=str(socket))
        with httpx.Client(transport=transport, timeout=3) as client:
            return client.get("http://docker/_ping").text == "OK"
    except httpx.HTTPError:
        return False


def ensure_running(timeout: float = 60) -> str:
    """Make sure a Docker daemon answers; start ours if none does. Returns what happened."""
    if is_answering():
        return "already running"
    tools.require("dockerd")
    directory = state()
    log_path, pid_path = directory / "dockerd.log", directory / "dockerd.pid"
    stale = _pid(pid_path)
    if stale and _alive(stale):
        say(f"dockerd (pid {stale}) is running but not answering yet; waiting")
    else:
        cmd.start_background(
            ["dockerd", "--host", f"unix://{SOCKET}"],
            name="dockerd",
            log_path=log_path,
            pid_path=pid_path,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_answering():
            return f"started (log: {log_path})"
        pid = _pid(pid_path)
        if pid and not _alive(pid):
            break
        time.sleep(0.5)
    tail = log_path.read_text(errors="replace").splitlines()[-5:] if log_path.exists() else []
    raise ReleaseError(
        "dockerd did not come up: " + (tail[-1] if tail else "no log output"),
        f"see {log_path}",
    )


def stop() -> bool:
    """Stop the dockerd this engine started (by its recorded pid). True if one was stopped."""
    pid_path = state() / "dockerd.pid"
    pid = _pid(pid_path)
    if not pid or not _alive(pid):
        pid_path.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(60):
        if not _alive(pid):
            break
        time.sleep(0.5)
    pid_path.unlink(missing_ok=True)
    return True


def _pid(pid_path: Path) -> int | None:
    try:
        return int(pid_path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists"; /proc tells whether it is really running.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
