"""Start the orchestrator (and the real backend) as processes and poll their HTTP endpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx


def orchestrator_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRATOR_")}
    env.update(overrides)
    return env


class Service:
    """A child process whose stdout/stderr go to files (a full pipe would block it)."""

    def __init__(self, argv: list[str], env: Mapping[str, str], log_dir: Path, name: str) -> None:
        self.name = name
        self.stdout_path = log_dir / f"{name}.stdout"
        self.stderr_path = log_dir / f"{name}.stderr"
        with self.stdout_path.open("ab") as stdout, self.stderr_path.open("ab") as stderr:
            self.process = subprocess.Popen(argv, env=dict(env), stdout=stdout, stderr=stderr)

    def output(self) -> str:
        return (
            f"--- {self.name} stdout ---\n{self.stdout_path.read_text(errors='replace')[-6000:]}"
            f"\n--- {self.name} stderr ---\n{self.stderr_path.read_text(errors='replace')[-3000:]}"
        )

    def log_lines(self) -> list[str]:
        return self.stdout_path.read_text().splitlines()

    def stop(self, timeout: float = 5.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_orchestrator(env: Mapping[str, str], log_dir: Path, name: str = "orchestrator"):
    return Service([sys.executable, "-m", "traderadmin_orchestrator"], env, log_dir, name)


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, service: Service | None = None
) -> float:
    """Poll `condition` until true; return the seconds it took, or fail with the logs."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        if service is not None and service.process.poll() is not None:
            break
        time.sleep(0.1)
    details = service.output() if service is not None else ""
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{details}")


def http_status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=1.0).status_code
    except httpx.HTTPError:
        return None


def assert_json_lines(lines: list[str]) -> list[dict]:
    records = [json.loads(line) for line in lines]
    for record in records:
        assert {"ts", "level", "logger", "msg"} <= set(record), record
    return records
