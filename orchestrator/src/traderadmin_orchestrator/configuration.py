"""The backend's configuration document (`GET /api/v1/config`) as validated, immutable values.

Risk limits fail closed: a document without `risk_limits`, or missing one of its three limits
(or with a null one), is refused as a protocol error, never read as "no limit". The backend
always sends all three, so such a document is malformed or comes from something else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from traderadmin_orchestrator.errors import BackendProtocolError

RISK_LIMIT_KEYS = ("max_position", "max_order_value", "max_daily_loss")


@dataclass(frozen=True)
class RiskLimits:
    """Limits applied to every strategy, all required: there is no "unlimited"."""

    max_position: float
    max_order_value: float
    max_daily_loss: float

    def __post_init__(self) -> None:
        for key in RISK_LIMIT_KEYS:
            value = getattr(self, key)
            if not isinstance(value, float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"risk limit {key} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class StrategyConfig:
    name: str
    symbol: str
    enabled: bool
    parameters: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Configuration:
    risk_limits: RiskLimits
    strategies: tuple[StrategyConfig, ...] = ()

    @property
    def enabled_count(self) -> int:
        return sum(1 for strategy in self.strategies if strategy.enabled)


def parse_configuration(payload: Any) -> Configuration:
    """Validate the JSON document; unknown keys are ignored so the backend can add fields."""
    if not isinstance(payload, dict):
        raise BackendProtocolError("config: expected a JSON object")
    strategies_raw = payload.get("strategies") or []
    if not isinstance(strategies_raw, list):
        raise BackendProtocolError("config.strategies: expected a list")
    strategies = tuple(
        _parse_strategy(item, f"config.strategies[{index}]")
        for index, item in enumerate(strategies_raw)
    )
    names = [strategy.name for strategy in strategies]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BackendProtocolError(f"config.strategies: duplicate names {duplicates}")
    return Configuration(
        strategies=strategies,
        risk_limits=_parse_risk_limits(payload.get("risk_limits")),
    )


def _parse_strategy(item: Any, where: str) -> StrategyConfig:
    if not isinstance(item, dict):
        raise BackendProtocolError(f"{where}: expected an object")
    name = _non_empty_string(item.get("name"), f"{where}.name")
    symbol = _non_empty_string(item.get("symbol"), f"{where}.symbol")
    enabled = item.get("enabled", False)
    if not isinstance(enabled, bool):
        raise BackendProtocolError(f"{where}.enabled: expected true or false")
    parameters_raw = item.get("parameters") or {}
    if not isinstance(parameters_raw, dict):
        raise BackendProtocolError(f"{where}.parameters: expected an object")
    parameters = {
        str(key): _finite_number(value, f"{where}.parameters.{key}")
        for key, value in parameters_raw.items()
    }
    return StrategyConfig(name=name, symbol=symbol, enabled=enabled, parameters=parameters)


def _parse_risk_limits(raw: Any) -> RiskLimits:
    if raw is None:
        raise BackendProtocolError(
            "config.risk_limits: missing; refusing a configuration without risk limits"
        )
    if not isinstance(raw, dict):
        raise BackendProtocolError("config.risk_limits: expected an object")
    limits: dict[str, float] = {}
    for key in RISK_LIMIT_KEYS:
        value = raw.get(key)
        if value is None:
            raise BackendProtocolError(
                f"config.risk_limits.{key}: missing; refusing a configuration without "
                "all three risk limits"
            )
        number = _finite_number(value, f"config.risk_limits.{key}")
        if number < 0:
            raise BackendProtocolError(f"config.risk_limits.{key}: must not be negative")
        limits[key] = number
    return RiskLimits(**limits)


def _non_empty_string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BackendProtocolError(f"{where}: expected a non-empty string")
    return value


def _finite_number(value: Any, where: str) -> float:
    # bool is an int subclass; `true` as a window size is a backend bug, not the number 1.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BackendProtocolError(f"{where}: expected a finite number")
    return float(value)
