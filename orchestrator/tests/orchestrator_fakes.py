"""Test doubles: a fake clock, an in-memory backend, and an HTTP server speaking the contract."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from traderadmin_orchestrator.configuration import Configuration, parse_configuration
from traderadmin_orchestrator.errors import BackendError

SAMPLE_CONFIG: dict[str, Any] = {
    "strategies": [
        {
            "name": "btc-cross",
            "symbol": "BTC-USD",
            "enabled": True,
            "parameters": {"fast_window": 3, "slow_window": 8, "quantity": 2},
        },
        {
            "name": "eth-revert",
            "symbol": "ETH-USD",
            "enabled": True,
            "parameters": {"lookback": 10, "entry_z": 1.0, "exit_z": 0.2},
        },
        {"name": "off", "symbol": "SOL-USD", "enabled": False, "parameters": {}},
    ],
    "risk_limits": {"max_position": 10, "max_order_value": 1_000_000, "max_daily_loss": 1e9},
}


class FakeClock:
    """Monotonic seconds and a UTC wall clock that only move when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.seconds = 1000.0
        self.start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds - 1000.0)


@dataclass
class FakeBackend:
    """Stands in for `BackendClient` in engine tests: scripted configs and failures."""

    config: dict[str, Any] = field(default_factory=lambda: json.loads(json.dumps(SAMPLE_CONFIG)))
    fetch_error: BackendError | None = None
    heartbeat_error: BackendError | None = None
    heartbeats: list[dict[str, Any]] = field(default_factory=list)

    def fetch_configuration(self) -> Configuration:
        if self.fetch_error is not None:
            raise self.fetch_error
        return parse_configuration(self.config)

    def send_heartbeat(
        self, instance: str, strategies: Sequence[dict[str, Any]], *, retry: bool = True
    ) -> None:
        if self.heartbeat_error is not None:
            raise self.heartbeat_error
        self.heartbeats.append({"instance": instance, "strategies": list(strategies)})


class FakeBackendServer:
    """A real HTTP server speaking the backend contract, for client and process tests."""

    def __init__(self, token: str = "s3cret", *, keep_alive: bool = False) -> None:
        self.token = token
        self.keep_alive = keep_alive
        self.config: dict[str, Any] = json.loads(json.dumps(SAMPLE_CONFIG))
        self.heartbeats: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.config_status: int | None = None  # force an error status for /api/v1/config
        # Statuses for the next /api/v1/config requests, one each, before config_status applies.
        self.next_config_statuses: list[int] = []
        self.server_header = "fake-backend"
        # The client's (address, port) of each request: a new port is a new connection.
        self.peers: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        # Kept-alive connections park their handler threads; they must not block stop().
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def etag(self) -> str:
        return '"' + str(abs(hash(json.dumps(self.config, sort_keys=True)))) + '"'

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keeps connections open between requests, as the Go backend does.
            protocol_version = "HTTP/1.1" if fake.keep_alive else "HTTP/1.0"

            def version_string(self) -> str:
                return fake.server_header

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(("GET", self.path, dict(self.headers)))
                    fake.peers.append(self.client_address[:2])
                    forced = fake.next_config_statuses.pop(0) if fake.next_config_statuses else None
                if self.path == "/api/v1/config":
                    if forced is not None:
                        self._send(forced)
                    elif fake.config_status is not None:
                        self._send(fake.config_status, {"error": "forced"})
                    elif self.headers.get("If-None-Match") == fake.etag():
                        self._send(304)
                    else:
                        self._send(200, fake.config, {"ETag": fake.etag()})
                elif self.path in ("/healthz", "/readyz"):
                    self._send(200, {"status": "ok"})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                with fake._lock:
                    fake.requests.append(("POST", self.path, dict(self.headers)))
                if self.path != "/api/v1/heartbeat":
                    self._send(404, {"error": "not found"})
                elif self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._send(401, {"error": "unauthorized"})
                else:
                    with fake._lock:
                        fake.heartbeats.append(body)
                    self._send(204)

        return Handler


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
