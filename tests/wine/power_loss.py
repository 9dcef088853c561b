"""Cut a Wine prefix off at an exact point of a program's work, as a power loss would.

Wine's server (wineserver) does every rename and delete, and opens every file, for the
prefix's programs. It runs here under strace, which kills it (SIGKILL) at the n-th of those
system calls on one path: every program of the prefix dies at once, before that call, and the
registry keeps what Wine last saved (it saves on exit, so: the state before the run).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import poll, tools
from build_scripts.windows import wine


@dataclass
class Cut:
    log: Path

    @property
    def happened(self) -> bool:
        """True when strace killed the server at the chosen call (the run really was cut)."""
        return "+++ killed by SIGKILL +++" in self.log.read_text()


def _listening(tracer: subprocess.Popen) -> bool:
    """True once the wineserver strace runs has made its socket (in its working directory)."""
    children = Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children")
    with contextlib.suppress(OSError):
        for pid in children.read_text().split():
            if Path(f"/proc/{pid}/cwd/socket").exists():
                return True
    return False


def _end_the_prefix_with(server: subprocess.Popen, prefix: wine.Prefix) -> None:
    server.wait()
    marker = f"WINEPREFIX={prefix.path}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)


@contextlib.contextmanager
def power_loss_at(
    prefix: wine.Prefix, syscall: str, path: Path, *, when: int = 1, log: Path
) -> Iterator[Cut]:
    """Within the block, the prefix's server dies at its when-th `syscall` (rename, unlink,
    readlink: Wine's server resolves each file it opens) naming path, a host path."""
    prefix.shutdown()
    server = subprocess.Popen(
        [
            tools.resolve_program("strace"),
            "-qq",
            *("-o", str(log)),
            *("-P", str(path)),
            *("-e", f"trace={syscall}"),
            *("-e", f"inject={syscall}:signal=SIGKILL:when={when}"),
            tools.resolve_program("wineserver"),
            "--foreground",
        ],
        env={**os.environ, **{k: v for k, v in prefix.env().items() if v is not None}},
    )
    try:

        def exited() -> None:
            if server.poll() is not None:
                raise RuntimeError(f"wineserver under strace exited ({log})")

        # Listening, else wine64 would start a server of its own.
        poll.until(
            lambda: _listening(server),
            what="wineserver under strace to listen",
            timeout=30,
            interval=0.1,
            watch=exited,
            fail=lambda message: RuntimeError(f"{message} ({log})"),
        )
        # The server's death ends every program of the prefix, as a power loss would; some
        # (winedevice.exe) would otherwise wait on, and hold open, the pipes of the caller.
        threading.Thread(target=_end_the_prefix_with, args=(server, prefix), daemon=True).start()
        yield Cut(log)
    finally:
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        prefix.shutdown()
