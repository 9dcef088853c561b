"""End to end: the real Go backend binary and the orchestrator, as processes on free ports.

Needs Go to build ../backend (or TRADERADMIN_BACKEND_BIN pointing at a built binary). When
neither works the test fails with the reason; it is never skipped silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from backend_proxy import LimitDroppingProxy
from orchestrator_fakes import free_port
from orchestrator_processes import (
    Service,
    assert_json_lines,
    http_status,
    orchestrator_env,
    start_orchestrator,
    wait_for,
)

pytestmark = pytest.mark.integration

BACKEND_SOURCE = Path(__file__).resolve().parents[2] / "backend"
BACKEND_PACKAGE = "./cmd/traderadmin-backend"
TOKEN = "integration-orchestrator-token"
ADMIN_TOKEN = "integration-admin-token"
INSTANCE = "orch-integration"
READY_WITHIN_SECONDS = 10


@pytest.fixture(scope="session")
def backend_binary(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("TRADERADMIN_BACKEND_BIN")
    if prebuilt:
        if not os.access(prebuilt, os.X_OK):
            pytest.fail(f"TRADERADMIN_BACKEND_BIN={prebuilt} is not an executable file")
        return Path(prebuilt)
    go = shutil.which("go")
    if go is None:
        pytest.fail(
            "go not found on PATH — install Go (see backend/go.mod for the version) or set "
            "TRADERADMIN_BACKEND_BIN to a built traderadmin-backend binary"
        )
    if not (BACKEND_SOURCE / BACKEND_PACKAGE).is_dir():
        pytest.fail(f"backend sources not found at {BACKEND_SOURCE / BACKEND_PACKAGE}")
    binary = tmp_path_factory.mktemp("backend-bin") / "traderadmin-backend"
    result = subprocess.run(
        [go, "build", "-o", str(binary), BACKEND_PACKAGE],
        cwd=BACKEND_SOURCE,
        env={**os.environ, "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(
            f"building the backend failed (go build exit {result.returncode}) in "
            f"{BACKEND_SOURCE}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return binary


def start_backend(binary: Path, port: int, data_dir: Path, log_dir: Path, name: str) -> Service:
    env = {
        **os.environ,
        "BACKEND_LISTEN": f"127.0.0.1:{port}",
        "BACKEND_DATA_DIR": str(data_dir),
        "BACKEND_ADMIN_TOKEN": ADMIN_TOKEN,
        "BACKEND_ORCHESTRATOR_TOKEN": TOKEN,
    }
    return Service([str(binary)], env, log_dir, name)


def readiness_reason(probe: str) -> str:
    response = httpx.get(f"{probe}/readyz", timeout=2)
    return response.json().get("reason", "") if response.status_code == 503 else ""


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def backend_status(backend_url: str) -> dict:
    return httpx.get(f"{backend_url}/api/v1/status", headers=ADMIN, timeout=2).json()


def enable_strategy(backend_url: str) -> str:
    """Enable the first strategy of the backend's default configuration; return its name."""
    response = httpx.get(f"{backend_url}/api/v1/config", headers=ADMIN, timeout=2)
    response.raise_for_status()
    name = response.json()["strategies"][0]["name"]
    patched = httpx.patch(
        f"{backend_url}/api/v1/strategies/{name}",
        json={"enabled": True},
        headers={**ADMIN, "If-Match": response.headers["ETag"]},
        timeout=2,
    )
    assert patched.status_code == 200, patched.text
    return name


def test_readiness_follows_the_real_backend(backend_binary, tmp_path):
    backend_port, orchestrator_port = free_port(), free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    probe = f"http://127.0.0.1:{orchestrator_port}"
    data_dir = tmp_path / "backend-data"
    data_dir.mkdir()

    orchestrator = start_orchestrator(
        orchestrator_env(
            ORCHESTRATOR_BACKEND_URL=backend_url,
            ORCHESTRATOR_TOKEN=TOKEN,
            ORCHESTRATOR_LISTEN=f"127.0.0.1:{orchestrator_port}",
            ORCHESTRATOR_TICK_SECONDS="0.5",
            ORCHESTRATOR_INSTANCE=INSTANCE,
        ),
        tmp_path,
    )
    backends: list[Service] = []
    try:
        # 1. Backend down: alive but not ready, with the reason.
        wait_for(lambda: http_status(f"{probe}/healthz") == 200, 10, "/healthz", orchestrator)
        wait_for(
            lambda: "backend unreachable" in readiness_reason(probe),
            10,
            "/readyz 503 saying the backend is unreachable",
            orchestrator,
        )

        # 2. Backend starts: ready within 10 s, and heartbeats arrive.
        backends.append(start_backend(backend_binary, backend_port, data_dir, tmp_path, "backend"))
        wait_for(
            lambda: http_status(f"{probe}/readyz") == 200,
            READY_WITHIN_SECONDS,
            "orchestrator /readyz 200 after the backend started",
            orchestrator,
        )
        wait_for(
            lambda: backend_status(backend_url)["received"],
            10,
            "a heartbeat on the backend",
            backends[-1],
        )
        status = backend_status(backend_url)
        assert status["fresh"] is True
        assert status["heartbeat"]["instance"] == INSTANCE

        # Enabling a strategy on the backend makes the orchestrator trade it.
        name = enable_strategy(backend_url)

        def strategy_running() -> bool:
            entries = backend_status(backend_url)["heartbeat"]["strategies"]
            return any(e["name"] == name and e["status"] == "running" for e in entries)

        wait_for(strategy_running, 10, f"{name} reported running", orchestrator)

        # 3. Backend killed: not ready within 10 s, still alive.
        backends[-1].process.kill()
        backends[-1].process.wait(5)
        wait_for(
            lambda: http_status(f"{probe}/readyz") == 503,
            READY_WITHIN_SECONDS,
            "/readyz 503 after the backend was killed",
            orchestrator,
        )
        assert http_status(f"{probe}/healthz") == 200

        # 4. Backend restarted on the same port and data: ready again, heartbeats resume.
        backends.append(
            start_backend(backend_binary, backend_port, data_dir, tmp_path, "backend-restarted")
        )
        wait_for(
            lambda: http_status(f"{probe}/readyz") == 200,
            READY_WITHIN_SECONDS,
            "orchestrator /readyz 200 after the backend restarted",
            orchestrator,
        )
        wait_for(strategy_running, 10, "heartbeats after the restart", backends[-1])

        # 5. SIGTERM: clean exit 0, quickly.
        started = time.monotonic()
        orchestrator.process.terminate()
        returncode = orchestrator.process.wait(timeout=10)
        elapsed = time.monotonic() - started
    except BaseException:
        print(orchestrator.output())
        for backend in backends:
            print(backend.output())
        raise
    finally:
        orchestrator.stop()
        for backend in backends:
            backend.stop()
    assert returncode == 0, orchestrator.output()
    assert elapsed < 3.0, f"orchestrator took {elapsed:.2f}s to stop"


def config_error(probe: str) -> str:
    return httpx.get(f"{probe}/readyz", timeout=2).json().get("config_error", "")


def drop_all_limits(document: dict) -> None:
    document.pop("risk_limits", None)


def drop_daily_loss_limit(document: dict) -> None:
    document["risk_limits"].pop("max_daily_loss", None)


def test_fails_closed_on_configuration_without_limits(backend_binary, tmp_path):
    """The real backend behind a proxy that drops the risk limits from its answers."""
    backend_port, proxy_port, orchestrator_port = free_port(), free_port(), free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    probe = f"http://127.0.0.1:{orchestrator_port}"
    data_dir = tmp_path / "backend-data"
    data_dir.mkdir()
    backend = start_backend(backend_binary, backend_port, data_dir, tmp_path, "backend")
    proxy = LimitDroppingProxy(backend_url, proxy_port)
    proxy.mangle = drop_all_limits
    proxy.start()
    orchestrator = None
    try:
        wait_for(lambda: http_status(f"{backend_url}/readyz") == 200, 10, "backend ready", backend)
        name = enable_strategy(backend_url)  # something to trade, if limits were not needed
        orchestrator = start_orchestrator(
            orchestrator_env(
                ORCHESTRATOR_BACKEND_URL=f"http://127.0.0.1:{proxy_port}",
                ORCHESTRATOR_TOKEN=TOKEN,
                ORCHESTRATOR_LISTEN=f"127.0.0.1:{orchestrator_port}",
                ORCHESTRATOR_TICK_SECONDS="0.2",
                ORCHESTRATOR_INSTANCE=INSTANCE,
            ),
            tmp_path,
        )

        # 1. No limits from the start: not ready, says why, trades nothing.
        wait_for(lambda: http_status(f"{probe}/healthz") == 200, 10, "/healthz", orchestrator)
        wait_for(
            lambda: "risk_limits: missing" in readiness_reason(probe),
            10,
            "/readyz 503 naming the missing risk limits",
            orchestrator,
        )
        wait_for(lambda: backend_status(backend_url)["received"], 10, "a heartbeat", backend)
        time.sleep(1.0)  # several ticks
        assert backend_status(backend_url)["heartbeat"]["strategies"] == []
        records = assert_json_lines(orchestrator.log_lines())
        refusals = [r for r in records if r["msg"].startswith("configuration refused")]
        assert refusals, orchestrator.output()
        assert "none loaded yet: not trading" in refusals[0]["msg"]
        assert "risk_limits" in refusals[0]["error"]
        assert not [r for r in records if r["msg"] == "paper fill"], orchestrator.output()

        # 2. Complete limits: ready and trading the enabled strategy.
        proxy.mangle = None
        wait_for(lambda: http_status(f"{probe}/readyz") == 200, 10, "/readyz 200", orchestrator)

        def strategy_running() -> bool:
            entries = backend_status(backend_url)["heartbeat"]["strategies"]
            return any(e["name"] == name and e["status"] == "running" for e in entries)

        wait_for(strategy_running, 10, f"{name} reported running", orchestrator)

        # 3. One limit goes missing: the last good configuration stays, and the log says why.
        proxy.mangle = drop_daily_loss_limit
        wait_for(
            lambda: "max_daily_loss: missing" in config_error(probe),
            10,
            "config_error naming max_daily_loss",
            orchestrator,
        )
        assert http_status(f"{probe}/readyz") == 200
        assert strategy_running()
        records = assert_json_lines(orchestrator.log_lines())
        assert any(
            r["msg"] == "configuration refused, keeping the last good one"
            and "max_daily_loss" in r["error"]
            for r in records
        ), orchestrator.output()

        # The orchestrator only ever presented its own (orchestrator-role) token.
        assert set(proxy.authorizations) == {f"Bearer {TOKEN}"}
    except BaseException:
        if orchestrator is not None:
            print(orchestrator.output())
        print(backend.output())
        raise
    finally:
        if orchestrator is not None:
            orchestrator.stop()
        proxy.stop()
        backend.stop()
