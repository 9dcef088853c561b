"""The main loop: each tick reloads the configuration, steps every strategy on the synthetic
feed, and posts a heartbeat. Backend failures are recorded and logged, never raised."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from traderadmin_orchestrator.configuration import Configuration
from traderadmin_orchestrator.errors import BackendError, BackendRejected, BackendUnavailable
from traderadmin_orchestrator.health import HealthState
from traderadmin_orchestrator.price_feed import SyntheticPriceFeed
from traderadmin_orchestrator.risk import daily_loss_breached, position_limit
from traderadmin_orchestrator.runner import Status, StrategyReport, StrategyRunner

log = logging.getLogger(__name__)

# A persisting error is logged when it appears or changes, then again at this interval, so the
# log shows it is still there without a line every tick.
REPEAT_LOG_SECONDS = 60.0


class BackendApi(Protocol):
    def fetch_configuration(self) -> Configuration: ...

    def send_heartbeat(
        self, instance: str, strategies: Sequence[dict[str, Any]], *, retry: bool = True
    ) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class Orchestrator:
    def __init__(
        self,
        backend: BackendApi,
        health: HealthState,
        *,
        instance: str,
        tick_seconds: float,
        feed: SyntheticPriceFeed | None = None,
        wall_clock: Callable[[], datetime] = utc_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backend = backend
        self._health = health
        self._instance = instance
        self._tick_seconds = tick_seconds
        self._feed = feed or SyntheticPriceFeed()
        self._wall_clock = wall_clock
        self._clock = clock
        self._configuration: Configuration | None = None
        self._runners: dict[str, StrategyRunner] = {}
        self._tick_index = 0
        self._backend_reachable: bool | None = None
        self._day: date | None = None
        self._retired_daily_pnl = 0.0
        self._halted_day: date | None = None
        # topic -> (error text, clock() when it was last logged at its own level)
        self._last_errors: dict[str, tuple[str, float]] = {}

    @property
    def tick_index(self) -> int:
        return self._tick_index

    def reports(self) -> list[StrategyReport]:
        return [runner.report() for runner in self._runners.values()]

    def run(self, stop: threading.Event) -> None:
        """Tick every `tick_seconds` until `stop` is set. A slow tick delays the next one
        instead of causing a burst of catch-up ticks."""
        next_tick_at = self._clock()
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # a bug in one tick must not end the service; log it loudly
                log.exception("tick failed unexpectedly", extra={"tick": self._tick_index})
            next_tick_at = max(next_tick_at + self._tick_seconds, self._clock())
            stop.wait(next_tick_at - self._clock())
        self._send_final_heartbeat()

    def tick(self) -> None:
        now = self._wall_clock()
        reachable = self._refresh_configuration()
        if self._configuration is not None:
            self._reconcile_runners(self._configuration)
            self._trade(self._configuration, now)
        reports = self.reports()
        if reachable:
            self._send_heartbeat(reports, now)
        self._health.record_tick([report.as_dict() for report in reports])
        self._tick_index += 1

    def _trade(self, configuration: Configuration, now: datetime) -> None:
        """Price every strategy, apply the portfolio-wide limits, then let each one trade in
        configuration order (so the position limit is shared out deterministically)."""
        limits = configuration.risk_limits
        for runner in self._runners.values():
            runner.observe(self._feed.price(runner.config.symbol, self._tick_index), now)

        today = now.astimezone(UTC).date()
        if today != self._day:
            self._day, self._retired_daily_pnl = today, 0.0
        if self._halted_day != today:
            daily_pnl = self._retired_daily_pnl + sum(r.daily_pnl() for r in self._runners.values())
            if daily_loss_breached(daily_pnl, limits.max_daily_loss):
                self._halted_day = today
                log.warning(
                    "daily loss limit reached: flattening and halting all strategies until the "
                    "next UTC day",
                    extra={
                        "daily_pnl": round(daily_pnl, 2),
                        "max_daily_loss": limits.max_daily_loss,
                    },
                )
        halted = self._halted_day == today

        for strategy in configuration.strategies:
            runner = self._runners[strategy.name]
            others = sum(r.exposure for r in self._runners.values() if r is not runner)
            runner.step(limits, position_limit(limits.max_position, others), halted)

    def _refresh_configuration(self) -> bool:
        """Fetch the configuration; return whether the backend answered at all."""
        try:
            configuration = self._backend.fetch_configuration()
        except BackendUnavailable as exc:
            self._set_reachable(False, str(exc))
            return False
        except BackendError as exc:  # answered, but 4xx or a body we cannot use
            self._set_reachable(True)
            self._health.record_config_error(str(exc))
            # Fail closed: a refused document (e.g. without complete risk limits) never
            # replaces the last good one, and without one nothing trades.
            message = (
                "configuration refused, keeping the last good one"
                if self._configuration is not None
                else "configuration refused and none loaded yet: not trading"
            )
            self._log_on_change("config", logging.ERROR, message, exc)
            return True
        self._set_reachable(True)
        if self._last_errors.pop("config", None) is not None:
            log.info("configuration available again")
        if configuration != self._configuration:
            log.info(
                "configuration loaded",
                extra={
                    "strategies": len(configuration.strategies),
                    "enabled": configuration.enabled_count,
                    "risk_limits": vars(configuration.risk_limits),
                },
            )
            self._configuration = configuration
        self._health.record_config_loaded()
        return True

    def _set_reachable(self, reachable: bool, error: str | None = None) -> None:
        # Log transitions (and a persisting outage once a minute): a backend that is down for an
        # hour is about 60 lines, not 720.
        if reachable:
            self._last_errors.pop("backend", None)
            if self._backend_reachable is not True:
                log.info("backend reachable")
        else:
            self._log_on_change(
                "backend",
                logging.WARNING,
                "backend unreachable, will keep retrying",
                error or "unknown error",
            )
        self._backend_reachable = reachable
        if reachable:
            self._health.record_backend_reachable()
        else:
            self._health.record_backend_unreachable(error or "unknown error")

    def _reconcile_runners(self, configuration: Configuration) -> None:
        wanted = {strategy.name: strategy for strategy in configuration.strategies}
        for name in list(self._runners):
            runner = self._runners[name]
            config = wanted.get(name)
            if config is None or config.symbol != runner.config.symbol:
                runner.close_out("strategy removed" if config is None else "symbol changed")
                # Its realized loss still counts toward today's max_daily_loss.
                self._retired_daily_pnl += runner.daily_pnl()
                del self._runners[name]
                log.info("strategy stopped", extra={"strategy": name})
        for name, config in wanted.items():
            runner = self._runners.get(name)
            if runner is None:
                self._runners[name] = StrategyRunner(config)
                log.info(
                    "strategy added",
                    extra={"strategy": name, "symbol": config.symbol, "enabled": config.enabled},
                )
            elif runner.config != config:
                runner.reconfigure(config)
                log.info("strategy reconfigured", extra={"strategy": name})

    def _send_heartbeat(self, reports: Sequence[StrategyReport], now: datetime) -> None:
        entries = [report.heartbeat_entry(now) for report in reports]
        try:
            self._backend.send_heartbeat(self._instance, entries)
        except BackendRejected as exc:
            self._health.record_heartbeat_rejected(str(exc))
            self._log_on_change("heartbeat", logging.ERROR, "backend rejected the heartbeat", exc)
        except BackendError as exc:
            self._health.record_heartbeat_failed(str(exc))
            self._log_on_change("heartbeat", logging.WARNING, "heartbeat not delivered", exc)
        else:
            self._health.record_heartbeat_sent()
            if self._last_errors.pop("heartbeat", None) is not None:
                log.info("heartbeats delivered again")

    def _log_on_change(self, topic: str, level: int, message: str, error: Exception | str) -> None:
        """Log a recurring error when it first appears or changes, then once every
        REPEAT_LOG_SECONDS while it persists; the ticks in between log it at debug level."""
        text = str(error)
        now = self._clock()
        previous = self._last_errors.get(topic)
        if previous is None or previous[0] != text or now - previous[1] >= REPEAT_LOG_SECONDS:
            self._last_errors[topic] = (text, now)
            log.log(level, message, extra={"error": text})
        else:
            log.debug(message, extra={"error": text})

    def _send_final_heartbeat(self) -> None:
        """Tell the backend the strategies stopped; one quick attempt, skipped if it is down."""
        if not self._backend_reachable:
            return
        now = self._wall_clock()
        entries = [
            {**report.heartbeat_entry(now), "status": str(Status.IDLE)} for report in self.reports()
        ]
        try:
            self._backend.send_heartbeat(self._instance, entries, retry=False)
        except BackendError as exc:
            log.warning("final heartbeat not delivered", extra={"error": str(exc)})
