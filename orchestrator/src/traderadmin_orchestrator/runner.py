"""One configured strategy in paper trading: its price history, book and status."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from traderadmin_orchestrator.configuration import RiskLimits, StrategyConfig
from traderadmin_orchestrator.errors import InvalidParameters
from traderadmin_orchestrator.paper_account import QUANTITY_EPSILON, PaperAccount
from traderadmin_orchestrator.risk import clamp_order
from traderadmin_orchestrator.strategy import Strategy, build_strategy

log = logging.getLogger(__name__)


class Status(StrEnum):
    """The heartbeat contract's strategy states."""

    RUNNING = "running"
    IDLE = "idle"
    ERROR = "error"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StrategyReport:
    name: str
    symbol: str
    status: Status
    position: float
    pnl: float
    last_tick: datetime | None
    last_price: float | None
    fills: int
    detail: str | None

    def heartbeat_entry(self, fallback_time: datetime) -> dict[str, Any]:
        """The strategy's entry in `POST /api/v1/heartbeat`."""
        return {
            "name": self.name,
            "status": str(self.status),
            "position": self.position,
            "pnl": self.pnl,
            "last_tick": rfc3339(self.last_tick or fallback_time),
        }

    def as_dict(self) -> dict[str, Any]:
        """The strategy's entry in the orchestrator's own `/status` endpoint."""
        return {
            "name": self.name,
            "symbol": self.symbol,
            "status": str(self.status),
            "position": self.position,
            "pnl": self.pnl,
            "last_tick": rfc3339(self.last_tick) if self.last_tick else None,
            "last_price": self.last_price,
            "fills": self.fills,
            "detail": self.detail,
        }


class StrategyRunner:
    """Per tick the engine calls `observe` (new price) and then `step` (decide and fill)."""

    def __init__(self, config: StrategyConfig) -> None:
        self.account = PaperAccount()
        self._history: deque[float] = deque(maxlen=1)  # sized by reconfigure()
        self._last_price: float | None = None
        self._last_tick: datetime | None = None
        self._day: date | None = None
        self._day_start_pnl = 0.0
        self._status = Status.IDLE
        self._detail: str | None = None
        self.config = config
        self._strategy: Strategy | None = None
        self.reconfigure(config)

    def reconfigure(self, config: StrategyConfig) -> None:
        """Apply new parameters or enabled flag. The symbol must stay the same: the book and
        price history belong to it, so a new symbol needs a new runner."""
        if config.symbol != self.config.symbol:
            raise ValueError("a runner cannot change symbol; create a new runner")
        self.config = config
        try:
            self._strategy = build_strategy(config.parameters)
        except InvalidParameters as exc:
            self._strategy = None
            self._detail = f"invalid parameters: {exc}"
            log.error(
                "strategy parameters invalid, not trading it",
                extra={"strategy": config.name, "error": str(exc)},
            )
            return
        self._detail = None
        # Keep the prices already seen so a parameter change does not restart the warm-up.
        self._history = deque(self._history, maxlen=self._strategy.history_length)

    @property
    def exposure(self) -> float:
        return abs(self.account.position)

    def observe(self, price: float, now: datetime) -> None:
        self._last_price = price
        self._last_tick = now
        self._history.append(price)
        today = now.astimezone(UTC).date()
        if today != self._day:
            self._day = today
            self._day_start_pnl = self.account.total_pnl(price)

    def daily_pnl(self) -> float:
        if self._last_price is None:
            return 0.0
        return self.account.total_pnl(self._last_price) - self._day_start_pnl

    def step(self, limits: RiskLimits, max_position: float | None, halted: bool) -> None:
        """Trade toward the strategy's target at the last observed price, within the limits.
        `max_position` is this strategy's share of the portfolio-wide position limit."""
        price = self._last_price
        if price is None:
            return
        if not self.config.enabled:
            self.close_out("strategy disabled")
            self._set(Status.IDLE, "disabled")
            return
        if self._strategy is None:
            self.close_out("strategy parameters invalid")
            self._set(Status.ERROR, self._detail)
            return
        if halted:
            self.close_out("max_daily_loss reached")
            self._set(Status.IDLE, "halted until the next UTC day: max_daily_loss reached")
            return

        target = self._strategy.target_position(list(self._history))
        if target is None:  # warming up or no signal: hold, but still obey a lowered limit
            target = self.account.position
        order = clamp_order(
            self.account.position,
            target,
            price,
            max_position=max_position,
            max_order_value=limits.max_order_value,
        )
        if abs(order) >= QUANTITY_EPSILON:
            self.account.fill(order, price)
            log.info(
                "paper fill",
                extra={
                    "strategy": self.config.name,
                    "symbol": self.config.symbol,
                    "quantity": round(order, 6),
                    "price": price,
                    "position": round(self.account.position, 6),
                },
            )
        self._set(Status.RUNNING, None)

    def close_out(self, reason: str) -> None:
        """Flatten at the last observed price; closing is never blocked by a limit."""
        if self._last_price is None or not self.account.position:
            return
        quantity = -self.account.position
        self.account.flatten(self._last_price)
        log.info(
            "paper position closed",
            extra={
                "strategy": self.config.name,
                "symbol": self.config.symbol,
                "quantity": round(quantity, 6),
                "price": self._last_price,
                "reason": reason,
            },
        )

    def _set(self, status: Status, detail: str | None) -> None:
        self._status = status
        self._detail = detail

    def report(self) -> StrategyReport:
        price = self._last_price
        pnl = self.account.total_pnl(price) if price is not None else self.account.realized_pnl
        return StrategyReport(
            name=self.config.name,
            symbol=self.config.symbol,
            status=self._status,
            position=round(self.account.position, 6),
            pnl=round(pnl, 2),
            last_tick=self._last_tick,
            last_price=price,
            fills=self.account.fills,
            detail=self._detail,
        )
