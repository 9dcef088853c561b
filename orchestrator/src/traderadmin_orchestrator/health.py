"""Liveness and readiness, computed from what the main loop records (thread-safe).

Liveness: the loop completed a tick within the liveness window. Readiness: additionally the
backend answered the last configuration request, a configuration is loaded, and the backend
has not rejected our heartbeats (a wrong token should block a rollout, not pass silently).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# An HTTP call may legitimately hold a tick for its timeouts; with short ticks, a window of only
# 3 ticks would let one slow backend answer get the pod restarted.
MIN_LIVENESS_WINDOW_SECONDS = 10.0


def liveness_window(tick_seconds: float) -> float:
    return max(3 * tick_seconds, MIN_LIVENESS_WINDOW_SECONDS)


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    body: dict[str, Any]


class HealthState:
    def __init__(
        self,
        tick_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        window_seconds: float | None = None,
    ) -> None:
        self._clock = clock
        self._window = (
            window_seconds if window_seconds is not None else liveness_window(tick_seconds)
        )
        self._lock = threading.Lock()
        # Until the first tick, the process start counts as the last sign of life.
        self._last_tick_at = clock()
        self._ticks = 0
        self._backend_reachable: bool | None = None
        self._backend_error: str | None = None
        self._config_loaded = False
        self._config_error: str | None = None
        self._heartbeat_rejected: str | None = None
        self._heartbeat_error: str | None = None
        self._heartbeats_sent = 0
        self._strategies: list[dict[str, Any]] = []

    # Recorded by the main loop.

    def record_tick(self, strategies: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            self._last_tick_at = self._clock()
            self._ticks += 1
            self._strategies = list(strategies)

    def record_backend_reachable(self) -> None:
        with self._lock:
            self._backend_reachable, self._backend_error = True, None

    def record_backend_unreachable(self, error: str) -> None:
        with self._lock:
            self._backend_reachable, self._backend_error = False, error

    def record_config_loaded(self) -> None:
        with self._lock:
            self._config_loaded, self._config_error = True, None

    def record_config_error(self, error: str) -> None:
        """The backend answered with something unusable; the last good configuration stays."""
        with self._lock:
            self._config_error = error

    def record_heartbeat_sent(self) -> None:
        with self._lock:
            self._heartbeats_sent += 1
            self._heartbeat_rejected = self._heartbeat_error = None

    def record_heartbeat_rejected(self, error: str) -> None:
        with self._lock:
            self._heartbeat_rejected = error

    def record_heartbeat_failed(self, error: str) -> None:
        with self._lock:
            self._heartbeat_error = error

    # Read by the probe server.

    def liveness(self) -> ProbeResult:
        with self._lock:
            age = self._clock() - self._last_tick_at
            ok = age <= self._window
            return ProbeResult(
                ok,
                {
                    "status": "alive" if ok else "stalled",
                    "last_tick_age_s": round(age, 3),
                    "window_s": self._window,
                    "ticks": self._ticks,
                },
            )

    def readiness(self) -> ProbeResult:
        alive = self.liveness()
        with self._lock:
            reason = self._not_ready_reason(alive.ok)
            body: dict[str, Any] = {
                "status": "ready" if reason is None else "not ready",
                "backend_reachable": bool(self._backend_reachable),
                "config_loaded": self._config_loaded,
                "heartbeats_sent": self._heartbeats_sent,
            }
            if reason is not None:
                body["reason"] = reason
            if self._config_error:
                body["config_error"] = self._config_error
            if self._heartbeat_error:
                body["heartbeat_error"] = self._heartbeat_error
            return ProbeResult(reason is None, body)

    def _not_ready_reason(self, alive: bool) -> str | None:
        if not alive:
            return "main loop stalled"
        if self._backend_reachable is None:
            return "backend not contacted yet"
        if not self._backend_reachable:
            return f"backend unreachable: {self._backend_error}"
        if not self._config_loaded:
            error = self._config_error or "no answer yet"
            return f"no configuration loaded: {error}"
        if self._heartbeat_rejected:
            return f"backend rejected the heartbeat: {self._heartbeat_rejected}"
        return None

    def status(self) -> dict[str, Any]:
        readiness = self.readiness().body
        with self._lock:
            return {**readiness, "ticks": self._ticks, "strategies": list(self._strategies)}
