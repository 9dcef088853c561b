"""What every step module uses: run a command the way a user does (invoke through this
interpreter), show its output as an assertion message, wait until something holds, and the
handles a scenario shares (its release, the local cluster's API)."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import kr8s

from build_scripts.cluster.config import CONTEXT, Layout
from build_scripts.cluster.options import default_state_dir
from build_scripts.core import cmd, metadata, poll


def run(
    context,
    command: str | list[str],
    timeout: float = 3600,
    stdin_text: str | None = None,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = False,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """Every process a step starts and waits for goes through here.

    With a scenario's context: run in the repository with the scenario's environment, and keep
    the result (context.result, context.elapsed) for the steps that judge it; `invoke …` runs
    through this interpreter by absolute path, so the scenario does not depend on PATH.
    With context None: a helper command (gpg, ip, kubectl, sha256sum…) in this process's
    environment, only returned. `stdin_text` is typed on its standard input; `env` adds to the
    environment; `check` raises on a non-zero exit; `text=False` captures bytes."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if argv[0] == "invoke":
        argv = [sys.executable, "-m", "invoke", *argv[1:]]
    overrides = context.env_overrides if context is not None else {}
    started = time.monotonic()
    result = subprocess.run(
        argv,
        cwd=cwd or (context.repo if context is not None else None),
        env={**os.environ, **overrides, **(env or {})},
        capture_output=True,
        text=text,
        timeout=timeout,
        input=stdin_text,
        check=check,
    )
    if context is not None:
        context.elapsed = time.monotonic() - started
        context.result = result
    return result


def background(
    context, argv: list[str], *, cwd: Path | None = None, new_session: bool = False
) -> subprocess.Popen:
    """A process that runs beside the scenario (a server), stopped when the scenario ends
    (before the cleanups registered ahead of it: behave runs them last first)."""
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd or context.scratch,
        start_new_session=new_session,
    )

    def stop() -> None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)

    context.add_cleanup(stop)
    return process


def shown(result: subprocess.CompletedProcess, limit: int | None = None) -> str:
    """The captured output of a run, as the failure message of an assertion (`limit`: the last
    characters of stdout, half as many of stderr)."""
    stdout = result.stdout if limit is None else result.stdout[-limit:]
    stderr = result.stderr if limit is None else result.stderr[-(limit // 2) :]
    return f"exit {result.returncode}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"


def wait_until(
    what: str,
    check: Callable[[], object],
    timeout: float,
    describe: Callable[[], str] | None = None,
    *,
    interval: float = 1.0,
    ignore: tuple[type[BaseException], ...] = (),
):
    """Poll `check` until it returns something true, and return that; fail after `timeout`
    (the engine's core/poll.py loop, failing as an assertion with `describe()` or what the
    check last saw: it may raise poll.NotYet("…") to say)."""
    result, last = poll.eventually(check, timeout=timeout, interval=interval, ignore=ignore)
    if result:
        return result
    detail = describe() if describe else f"last: {last}"
    raise AssertionError(f"{poll.timeout_message(what, timeout, None)}\n{detail}")


def current_release(context) -> metadata.Release:
    """The release the CLI builds in this checkout (no override)."""
    if not hasattr(context, "release"):
        context.release = metadata.current_release()
    return context.release


def describe_file(path: Path) -> str:
    return cmd.output_of(["file", "-b", path], step="file")


def cluster_layout() -> Layout:
    return Layout(default_state_dir())


def cluster_api(context) -> kr8s.Api:
    """The local cluster's API as its admin (one client per scenario)."""
    if getattr(context, "kube", None) is None:
        context.kube = kr8s.api(kubeconfig=str(cluster_layout().kubeconfig), context=CONTEXT)
    return context.kube
