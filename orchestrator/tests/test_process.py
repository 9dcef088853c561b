"""The orchestrator as a real process, against the in-test fake backend."""

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from orchestrator_fakes import free_port
from orchestrator_processes import (
    assert_json_lines,
    http_status,
    orchestrator_env,
    start_orchestrator,
    wait_for,
)
from traderadmin_orchestrator import __version__

MODULE = [sys.executable, "-m", "traderadmin_orchestrator"]


def test_version_flag_prints_the_version():
    result = subprocess.run([*MODULE, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ORCHESTRATOR_TICK_SECONDS", "fast"),
        ("ORCHESTRATOR_LISTEN", "nowhere"),
        ("ORCHESTRATOR_BACKEND_URL", "backend:8080"),
        ("ORCHESTRATOR_TOKEN_FILE", "/nonexistent/token"),
    ],
)
def test_invalid_environment_exits_2_with_one_log_line(name, value):
    result = subprocess.run(
        MODULE, env=orchestrator_env(**{name: value}), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2, result
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    record = json.loads(lines[0])
    assert record["level"] == "error"
    assert name in record["msg"]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_taken_listen_port_exits_1_with_a_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            MODULE,
            env=orchestrator_env(ORCHESTRATOR_LISTEN=f"127.0.0.1:{port}"),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert "set ORCHESTRATOR_LISTEN to a free address" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_runs_reports_heartbeats_and_stops_cleanly_on_signal(signum, backend_server, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(backend_server.token + "\n")
    port = free_port()
    service = start_orchestrator(
        orchestrator_env(
            ORCHESTRATOR_BACKEND_URL=backend_server.url,
            ORCHESTRATOR_TOKEN_FILE=str(token_file),
            ORCHESTRATOR_LISTEN=f"127.0.0.1:{port}",
            ORCHESTRATOR_TICK_SECONDS="0.2",
            ORCHESTRATOR_INSTANCE="orch-process-test",
        ),
        tmp_path,
    )
    try:
        wait_for(
            lambda: http_status(f"http://127.0.0.1:{port}/readyz") == 200,
            10,
            "/readyz 200",
            service,
        )
        wait_for(lambda: len(backend_server.heartbeats) >= 3, 10, "3 heartbeats", service)
        heartbeat = backend_server.heartbeats[-1]
        assert heartbeat["instance"] == "orch-process-test"
        assert {entry["name"] for entry in heartbeat["strategies"]} == {
            "btc-cross",
            "eth-revert",
            "off",
        }

        started = time.monotonic()
        service.process.send_signal(signum)
        returncode = service.process.wait(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        service.stop()
    assert returncode == 0, service.output()
    assert elapsed < 2.0, f"took {elapsed:.2f}s to stop"
    records = assert_json_lines(service.log_lines())
    assert records[-1]["msg"] == "orchestrator stopped"
    assert records[-1]["signals"] == [signal.Signals(signum).name]
    assert "Traceback" not in service.stderr_path.read_text()
    final = backend_server.heartbeats[-1]
    assert {entry["status"] for entry in final["strategies"]} == {"idle"}


def test_sigterm_while_the_backend_is_down_still_exits_quickly(tmp_path):
    port = free_port()
    service = start_orchestrator(
        orchestrator_env(
            ORCHESTRATOR_BACKEND_URL=f"http://127.0.0.1:{free_port()}",
            ORCHESTRATOR_LISTEN=f"127.0.0.1:{port}",
            ORCHESTRATOR_TICK_SECONDS="1",
        ),
        tmp_path,
    )
    try:
        wait_for(
            lambda: http_status(f"http://127.0.0.1:{port}/readyz") == 503,
            10,
            "/readyz 503",
            service,
        )
        assert http_status(f"http://127.0.0.1:{port}/healthz") == 200
        started = time.monotonic()
        service.process.terminate()
        returncode = service.process.wait(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        service.stop()
    assert returncode == 0, service.output()
    assert elapsed < 2.0
