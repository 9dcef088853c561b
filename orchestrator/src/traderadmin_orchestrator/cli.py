"""Process entry point: parse flags, read settings, wire the parts, handle SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from traderadmin_orchestrator import __version__
from traderadmin_orchestrator.backend_client import BackendClient
from traderadmin_orchestrator.backoff import Backoff, RetryPolicy
from traderadmin_orchestrator.engine import Orchestrator
from traderadmin_orchestrator.errors import FatalError
from traderadmin_orchestrator.health import HealthState
from traderadmin_orchestrator.logs import configure_logging
from traderadmin_orchestrator.probe_server import ProbeServer
from traderadmin_orchestrator.settings import Settings, load_settings
from traderadmin_orchestrator.token_source import TokenSource

log = logging.getLogger("traderadmin_orchestrator")

EPILOG = """\
environment:
  ORCHESTRATOR_BACKEND_URL    backend base URL (default http://127.0.0.1:8080)
  ORCHESTRATOR_TOKEN          bearer token for the backend, or
  ORCHESTRATOR_TOKEN_FILE     file holding it (a mounted Secret; re-read when it changes)
  ORCHESTRATOR_LISTEN         probe server address (default 0.0.0.0:8081)
  ORCHESTRATOR_TICK_SECONDS   seconds between ticks (default 5)
  ORCHESTRATOR_INSTANCE       name sent in heartbeats (default: the hostname)
  ORCHESTRATOR_LOG_LEVEL      DEBUG, INFO, WARNING or ERROR (default INFO)
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="traderadmin-orchestrator",
        description="Run the backend's enabled strategies in paper trading and report heartbeats.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.parse_args(argv)

    configure_logging()
    try:
        settings = load_settings()
    except FatalError as exc:
        log.error(str(exc), extra={"exit_code": exc.exit_code})
        return exc.exit_code
    configure_logging(settings.log_level)
    try:
        return run(settings)
    except FatalError as exc:
        log.error(str(exc), extra={"exit_code": exc.exit_code})
        return exc.exit_code
    except Exception as exc:
        # Tracebacks only at DEBUG; otherwise one line saying what broke.
        log.error(
            f"unexpected error: {type(exc).__name__}: {exc}",
            exc_info=settings.log_level == "DEBUG",
        )
        return 1


def run(settings: Settings, stop: threading.Event | None = None) -> int:
    """Serve probes and run the tick loop until `stop` is set (SIGTERM/SIGINT set it)."""
    stop = stop or threading.Event()
    received_signals = _install_signal_handlers(stop)

    health = HealthState(settings.tick_seconds)
    try:
        probe_server = ProbeServer(settings.listen_host, settings.listen_port, health, __version__)
    except OSError as exc:
        raise FatalError(
            f"cannot listen on {settings.listen_host}:{settings.listen_port} ({exc}) — "
            "set ORCHESTRATOR_LISTEN to a free address"
        ) from exc
    client = BackendClient(
        settings.backend_url,
        TokenSource(settings.token, settings.token_file),
        # Bounded by one tick so a struggling backend cannot stall the loop; the next tick
        # simply tries again.
        retry_policy=RetryPolicy(
            max_attempts=3,
            backoff=Backoff(base=0.2, factor=2.0, cap=2.0, jitter=0.5),
            budget_seconds=settings.tick_seconds,
        ),
        sleep=stop.wait,
    )
    orchestrator = Orchestrator(
        client, health, instance=settings.instance, tick_seconds=settings.tick_seconds
    )
    probe_server.start()
    host, port = probe_server.address
    log.info(
        "orchestrator started",
        extra={
            "version": __version__,
            "instance": settings.instance,
            "backend_url": settings.backend_url,
            "listen": f"{host}:{port}",
            "tick_seconds": settings.tick_seconds,
            "token": "file" if settings.token_file else ("env" if settings.token else "none"),
        },
    )
    if not settings.token and not settings.token_file:
        log.warning(
            "no ORCHESTRATOR_TOKEN or ORCHESTRATOR_TOKEN_FILE; heartbeats are unauthenticated"
        )
    try:
        orchestrator.run(stop)
    finally:
        probe_server.stop()
        client.close()
    log.info(
        "orchestrator stopped",
        extra={"ticks": orchestrator.tick_index, "signals": received_signals},
    )
    return 0


def _install_signal_handlers(stop: threading.Event) -> list[str]:
    """Make SIGTERM/SIGINT set `stop`; returns the list the handler appends signal names to."""
    received: list[str] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        # No logging here: the handler may interrupt the main thread inside a log call.
        received.append(signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    return received
