"""Probe endpoints (/healthz, /readyz, /version, /status) on the standard library's
ThreadingHTTPServer, served from a background thread."""

from __future__ import annotations

import json
import logging
import platform
import socket
import socketserver
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from traderadmin_orchestrator.health import HealthState, ProbeResult

log = logging.getLogger(__name__)


class _ProbeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    health: HealthState
    version_body: dict[str, Any]

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the bind address's FQDN, a reverse DNS query that can
        # hold start-up for seconds where cluster DNS is slow; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _IPv6ProbeHTTPServer(_ProbeHTTPServer):
    address_family = socket.AF_INET6


class _ProbeHandler(BaseHTTPRequestHandler):
    server: _ProbeHTTPServer
    timeout = 5  # seconds a client may take to send its request line
    routes: ClassVar[tuple[str, ...]] = ("/healthz", "/readyz", "/version", "/status")

    def do_GET(self) -> None:
        self._respond(include_body=True)

    def do_HEAD(self) -> None:
        self._respond(include_body=False)

    def _respond(self, include_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        health = self.server.health
        if path == "/healthz":
            status, body = _from_probe(health.liveness())
        elif path == "/readyz":
            status, body = _from_probe(health.readiness())
        elif path == "/version":
            status, body = HTTPStatus.OK, self.server.version_body
        elif path == "/status":
            status, body = HTTPStatus.OK, health.status()
        else:
            status, body = HTTPStatus.NOT_FOUND, {"error": "not found", "paths": self.routes}
        payload = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if include_body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Probes arrive every few seconds; keep them out of the INFO log.
        log.debug(
            "probe request", extra={"client": self.client_address[0], "request": format % args}
        )


def _from_probe(result: ProbeResult) -> tuple[HTTPStatus, dict[str, Any]]:
    return (HTTPStatus.OK if result.ok else HTTPStatus.SERVICE_UNAVAILABLE), result.body


class ProbeServer:
    def __init__(self, host: str, port: int, health: HealthState, version: str) -> None:
        server_class = _IPv6ProbeHTTPServer if ":" in host else _ProbeHTTPServer
        self._server = server_class((host, port), _ProbeHandler)  # binds now: OSError if taken
        self._server.health = health
        self._server.version_body = {
            "name": "traderadmin-orchestrator",
            "version": version,
            "python": platform.python_version(),
        }
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="probe-server",
            daemon=True,
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=2)
        self._server.server_close()
