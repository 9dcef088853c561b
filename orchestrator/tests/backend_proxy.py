"""A reverse proxy in front of the real backend that can drop risk limits from its
configuration answers: a malformed or misrouted response, which the orchestrator must refuse."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class LimitDroppingProxy:
    """Forwards every request to `upstream`. While `mangle` is set, it is applied to the JSON
    body of `GET /api/v1/config` answers and `If-None-Match` is not forwarded (so the
    backend answers with a body, not 304). It records every Authorization header it saw."""

    def __init__(self, upstream: str, port: int) -> None:
        self.upstream = upstream
        self.port = port
        self.mangle: Callable[[dict[str, Any]], None] | None = None
        self.authorizations: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                proxy.authorizations.append(self.headers.get("Authorization", ""))
                mangle = proxy.mangle
                is_config = self.command == "GET" and self.path.startswith("/api/v1/config")
                if mangle is not None and is_config:
                    headers = {k: v for k, v in headers.items() if k.lower() != "if-none-match"}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                try:
                    answer = httpx.request(
                        self.command,
                        proxy.upstream + self.path,
                        headers=headers,
                        content=body,
                        timeout=5,
                    )
                except httpx.HTTPError:
                    self.send_error(502)
                    return
                content = answer.content
                if mangle is not None and is_config and answer.status_code == 200:
                    document = answer.json()
                    mangle(document)
                    content = json.dumps(document).encode()
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = _forward

        return Handler
