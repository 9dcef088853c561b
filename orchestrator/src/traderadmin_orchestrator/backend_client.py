"""HTTP client for the TraderAdmin backend API: configuration and heartbeats, with retries."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx

from traderadmin_orchestrator import __version__
from traderadmin_orchestrator.backoff import RetryPolicy, Sleep, call_with_retries
from traderadmin_orchestrator.configuration import Configuration, parse_configuration
from traderadmin_orchestrator.errors import (
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
from traderadmin_orchestrator.token_source import TokenSource

T = TypeVar("T")

CONFIG_PATH = "/api/v1/config"
HEARTBEAT_PATH = "/api/v1/heartbeat"

# Short connect timeout: a refused or black-holed backend must not stall the tick loop.
DEFAULT_TIMEOUT = httpx.Timeout(connect=2.0, read=3.0, write=3.0, pool=2.0)


class BackendClient:
    """One `httpx.Client` (keep-alive) to the backend. Every public call retries transient
    failures (connection errors, timeouts, 5xx, 429) under `retry_policy`, and raises
    `BackendUnavailable`, `BackendRejected` or `BackendProtocolError` once it gives up.

    After a transport error or any answer the contract does not expect, the pooled
    connections are dropped so that the next call dials afresh: a kept-alive connection to
    the wrong server (seen when a Service had no endpoints and the packet was routed off the
    node) would otherwise answer every tick until it happened to close."""

    def __init__(
        self,
        base_url: str,
        token_source: TokenSource | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base_url = base_url
        self._timeout = timeout
        self._transport = transport
        self._client = self._new_client()
        self._token_source = token_source or TokenSource()
        self._retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random()
        self._etag: str | None = None
        self._configuration: Configuration | None = None

    def close(self) -> None:
        self._client.close()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self._base_url,
            timeout=self._timeout,
            transport=self._transport,
            headers={"User-Agent": f"traderadmin-orchestrator/{__version__}"},
        )

    def _drop_connections(self) -> None:
        """Close every pooled connection; the next request opens a new one."""
        if self._transport is None:
            self._client.close()
        # An injected transport (tests) belongs to the caller and stays open.
        self._client = self._new_client()

    def fetch_configuration(self) -> Configuration:
        """`GET /api/v1/config`; a 304 for our ETag returns the configuration we already have."""
        return self._with_retries(self._fetch_configuration_once, "fetch configuration")

    def send_heartbeat(
        self, instance: str, strategies: Sequence[dict[str, Any]], *, retry: bool = True
    ) -> None:
        """`POST /api/v1/heartbeat` with the per-strategy status entries."""
        body = {"instance": instance, "strategies": list(strategies)}

        def send() -> None:
            self._request("POST", HEARTBEAT_PATH, json=body)

        if retry:
            self._with_retries(send, "send heartbeat")
        else:
            send()

    def _fetch_configuration_once(self) -> Configuration:
        headers = {}
        if self._etag and self._configuration is not None:
            headers["If-None-Match"] = self._etag
        response = self._request("GET", CONFIG_PATH, headers=headers)
        if response.status_code == httpx.codes.NOT_MODIFIED:
            if self._configuration is None:
                self._etag = None
                raise self._protocol_error(
                    "backend answered 304 but no configuration is cached", response
                )
            return self._configuration
        try:
            payload = response.json()
        except ValueError as exc:
            raise self._protocol_error(
                f"GET {CONFIG_PATH}: body is not JSON: {exc}", response
            ) from exc
        try:
            configuration = parse_configuration(payload)
        except BackendProtocolError as exc:
            raise self._protocol_error(str(exc), response) from exc
        self._configuration = configuration
        self._etag = response.headers.get("ETag")
        return configuration

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", None) or {}
        token = self._token_source.current()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._client.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            self._drop_connections()
            raise BackendUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            self._drop_connections()
            raise BackendProtocolError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status < 400:
            return response
        # Whatever answered this is not behaving as the backend should; do not ask it again.
        answered_by = describe_peer(response)
        self._drop_connections()
        if status >= 500 or status == httpx.codes.TOO_MANY_REQUESTS:
            raise BackendUnavailable(f"{method} {path}: HTTP {status} from {answered_by}")
        hint = ""
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            hint = " (check ORCHESTRATOR_TOKEN / ORCHESTRATOR_TOKEN_FILE)"
        raise BackendRejected(
            f"{method} {path}: HTTP {status} from {answered_by}{hint}: {response.text[:200]}",
            status,
        )

    def _protocol_error(self, message: str, response: httpx.Response) -> BackendProtocolError:
        """A 2xx/304 whose body breaks the contract: maybe not our backend either."""
        answered_by = describe_peer(response)
        self._drop_connections()
        return BackendProtocolError(f"{message} (from {answered_by})")

    def _with_retries(self, operation: Callable[[], T], what: str) -> T:
        return call_with_retries(
            operation,
            self._retry_policy,
            retry_on=(BackendUnavailable,),
            sleep=self._sleep,
            rng=self._rng,
            what=what,
        )


def describe_peer(response: httpx.Response) -> str:
    """`address:port (Server: …)` of whoever sent `response`, for error messages.

    The address is the socket's peer (for a Service, its ClusterIP), falling back to the URL's
    host when the connection is already gone or the transport has no socket (tests).
    """
    address = None
    stream = response.extensions.get("network_stream")
    if stream is not None:
        try:
            peer = stream.get_extra_info("server_addr")
        except OSError:
            peer = None
        if peer:
            address = f"{peer[0]}:{peer[1]}"
    if address is None:
        url = response.request.url
        address = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    server = response.headers.get("Server")
    return f"{address} (Server: {server})" if server else f"{address} (no Server header)"
