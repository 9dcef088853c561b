"""What every step module uses: run a command the way a user does (invoke through this
interpreter), show its output as an assertion message, wait until something holds, and the
handles a scenario shares (its release, the local cluster's API)."""

from __future__ import annotations

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
    context, command: str | list[str], timeout: float = 3600, stdin_text: str | None = None
) -> subprocess.CompletedProcess:
    """Run a command in the repository with the scenario's environment; `invoke …` runs through
    this interpreter by absolute path, so the scenario does not depend on PATH. `stdin_text`
    is typed on its standard input."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv[0] == "invoke":
        argv = [sys.executable, "-m", "invoke", *argv[1:]]
    env = {**os.environ, **context.env_overrides}
    started = time.monotonic()
    result = subprocess.run(
        argv,
        cwd=context.repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin_text,
    )
    context.elapsed = time.monotonic() - started
    context.result = result
    return result


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
