"""The Docker engine the images are built with: find it answering, or start our own dockerd.

No init system runs on the build machines, so installing docker.io does not start a daemon.
We start dockerd detached, with its log and pid under the state dir, and only ever stop the
one we started.
"""

from __future__ import annotations

from pathlib import Path

from build_scripts.core import cmd, daemon, on_first_use, paths, tools
from build_scripts.core.progress import say

httpx = on_first_use.module("httpx")

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
    stale = daemon.read_pid(pid_path)
    if stale and daemon.alive(stale):
        say(f"dockerd (pid {stale}) is running but not answering yet; waiting")
    else:
        cmd.start_background(
            ["dockerd", "--host", f"unix://{SOCKET}"],
            name="dockerd",
            log_path=log_path,
            pid_path=pid_path,
        )
    daemon.wait_answering(
        "dockerd",
        is_answering,
        pid=lambda: daemon.read_pid(pid_path),
        log_path=log_path,
        timeout=timeout,
    )
    return f"started (log: {log_path})"


def stop() -> bool:
    """Stop the dockerd this engine started (by its recorded pid). True if one was stopped."""
    pid_path = state() / "dockerd.pid"
    pid = daemon.read_pid(pid_path)
    if not pid or not daemon.alive(pid):
        pid_path.unlink(missing_ok=True)
        return False
    daemon.terminate(pid, "dockerd", grace=30)
    pid_path.unlink(missing_ok=True)
    return True
