"""The one way the engine runs external programs.

argv lists only (never shell strings). The program is resolved through tools.require, so a
missing tool fails the same clear way everywhere. The command is echoed as `+ cmd`, its output
is streamed with a `[step]` prefix, the step is timed, and a failure raises CommandFailed with
the exit code and the last lines of output.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import atomic, tools
from build_scripts.core.errors import CommandFailed, ReleaseError
from build_scripts.core.progress import format_seconds, say

TAIL_LINES = 30
# How long run() keeps reading after the program exited. Output written before the exit is read
# in far less; the pipe stays open longer only when the program left a child running that holds
# it (Wine starts its desktop process from whichever program first opens a window, and that
# process lives on while any window of the prefix does). Waiting for such a child's end instead
# made a 1-second installer run take its whole 5-minute time limit, then killed the child.
OUTPUT_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class Completed:
    argv: list[str]
    returncode: int
    output: str
    seconds: float


def _environment(env: dict[str, str | None] | None) -> dict[str, str]:
    merged = dict(os.environ)
    # Tools the engine installs (wails, kubectl) must be found by child processes too.
    merged["PATH"] = os.pathsep.join([merged.get("PATH", ""), str(tools.engine_bin_dir())])
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def run(
    argv: list[str | os.PathLike],
    *,
    step: str,
    cwd: Path | str | None = None,
    env: dict[str, str | None] | None = None,
    capture: bool = False,
    check: bool = True,
    timeout: float | None = None,
    input: str | bytes | None = None,
    quiet: bool = False,
    hint: str | None = None,
) -> Completed:
    """Run argv to completion.

    env is an overlay on the current environment (a None value removes a variable).
    capture keeps the whole output in the result; quiet suppresses echo and streaming (for
    probes whose output is parsed, not shown). hint is added to the error on failure.
    timeout limits the program itself: run() returns when it exits, even if a child it left
    running still holds its output open (that child is neither waited for nor killed).
    """
    args = [str(a) for a in argv]
    args[0] = tools.resolve_program(args[0])
    if not quiet:
        say(f"+ {' '.join(args)}")
    started = time.monotonic()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    captured: list[str] = []
    try:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=_environment(env),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise ReleaseError(f"{step}: cannot start {args[0]}: {exc.strerror}", hint) from exc
    if input is not None:
        data = input.encode() if isinstance(input, str) else input
        threading.Thread(target=_feed, args=(process, data), daemon=True).start()

    output = _OutputReader(process, step, tail, captured if capture else None, quiet)
    timer = None
    timed_out = threading.Event()
    if timeout is not None:

        def kill() -> None:
            timed_out.set()
            _kill_group(process)

        timer = threading.Timer(timeout, kill)
        timer.start()
    try:
        returncode = process.wait()
    except KeyboardInterrupt:
        _kill_group(process)
        raise
    finally:
        if timer:
            timer.cancel()
    output.finish()
    seconds = time.monotonic() - started
    if timed_out.is_set():
        tail.append(f"(killed after the {format_seconds(timeout or 0)} time limit)")
        returncode = returncode or -9
    result = Completed(args, returncode, "\n".join(captured), seconds)
    if returncode != 0 and check:
        raise CommandFailed(step, args, returncode, list(tail), hint)
    if not quiet:
        mark = "✓" if returncode == 0 else f"✗ exit {returncode}"
        say(f"{mark} {step} {format_seconds(seconds)}")
    return result


def output_of(argv: list[str | os.PathLike], *, step: str, **kwargs) -> str:
    """Run a probe quietly and return its stripped output (raises on failure)."""
    return run(argv, step=step, capture=True, quiet=True, **kwargs).output.strip()


def start_background(
    argv: list[str | os.PathLike],
    *,
    name: str,
    log_path: Path,
    pid_path: Path,
    env: dict[str, str | None] | None = None,
    cwd: Path | str | None = None,
) -> int:
    """Start a daemon detached from this process; its output goes to log_path.

    The pid is written to pid_path (atomically) so that it can be found and stopped later by
    exactly that pid.
    """
    args = [str(a) for a in argv]
    args[0] = tools.resolve_program(args[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_path.parent.mkdir(parents=True, exist_ok=True)
    say(f"+ {' '.join(args)} &  (log: {log_path})")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=_environment(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    atomic.write_text(pid_path, f"{process.pid}\n")
    say(f"✓ {name} started, pid {process.pid}")
    return process.pid


def spawn(
    argv: list[str | os.PathLike],
    *,
    cwd: Path | str | None = None,
    env: dict[str, str | None] | None = None,
    own_session: bool = True,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen:
    """Start argv with its output (stdout and stderr together) on a pipe the caller reads.

    For the callers that run several programs side by side and prefix each one's lines
    themselves (the release scheduler's workers, validate.together's nox groups). own_session
    False keeps the child in this process group, so a Ctrl-C in the terminal reaches it too.
    """
    args = [str(a) for a in argv]
    args[0] = tools.resolve_program(args[0])
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=_environment(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=own_session,
        pass_fds=pass_fds,
    )


def _feed(process: subprocess.Popen, data: bytes) -> None:
    try:
        assert process.stdin is not None
        process.stdin.write(data)
        process.stdin.close()
    except BrokenPipeError:
        pass


class _OutputReader:
    """Streams a program's output on a thread, so that run() waits for the program, not for
    the end of its output."""

    def __init__(self, process, step, tail, captured, quiet) -> None:
        self._process = process
        self._step = step
        self._tail = tail
        self._captured = captured
        self._quiet = quiet
        self._detached = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                if self._detached:
                    continue  # drained, so a child left running never blocks on a full pipe
                self._tail.append(line)
                if self._captured is not None:
                    self._captured.append(line)
                if not self._quiet:
                    say(f"[{self._step}] {line}")

    def finish(self) -> None:
        """After the program exited: take what it wrote, and stop following its children."""
        self._thread.join(OUTPUT_GRACE_SECONDS)
        with self._lock:
            self._detached = True


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
