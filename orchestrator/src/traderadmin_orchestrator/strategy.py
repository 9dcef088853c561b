"""Trading rules. Each maps the recent prices to the position it wants (None: keep what we hold).

The backend stores a strategy's parameters as a free-form {name: number} map, so the rule is
chosen from the parameter names: `lookback`/`entry_z`/`exit_z` select z-score mean reversion,
anything else a moving-average crossover (`fast_window`/`slow_window` or their usual spellings).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from traderadmin_orchestrator.errors import InvalidParameters

MAX_WINDOW = 10_000  # the runner keeps this many prices in memory per strategy
DEFAULT_QUANTITY = 1.0

FAST_KEYS = ("fast_window", "fast", "fast_period", "short_window")
SLOW_KEYS = ("slow_window", "slow", "slow_period", "long_window")
QUANTITY_KEYS = ("quantity", "qty", "order_size", "size")
MEAN_REVERSION_KEYS = ("lookback", "entry_z", "exit_z")


class Strategy(Protocol):
    @property
    def history_length(self) -> int:
        """How many of the latest prices `target_position` looks at."""
        ...

    def target_position(self, prices: Sequence[float]) -> float | None: ...


@dataclass(frozen=True)
class MovingAverageCrossover:
    """Long `quantity` while the fast average is above the slow one, short while below."""

    fast: int = 5
    slow: int = 20
    quantity: float = DEFAULT_QUANTITY

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, float]) -> MovingAverageCrossover:
        fast = _window(_lookup(parameters, FAST_KEYS, cls.fast), "fast window")
        slow = _window(_lookup(parameters, SLOW_KEYS, cls.slow), "slow window")
        if fast >= slow:
            raise InvalidParameters(f"fast window ({fast}) must be shorter than slow ({slow})")
        return cls(fast=fast, slow=slow, quantity=_quantity(parameters))

    @property
    def history_length(self) -> int:
        return self.slow

    def target_position(self, prices: Sequence[float]) -> float | None:
        if len(prices) < self.slow:
            return None  # warming up
        fast_average = sum(prices[-self.fast :]) / self.fast
        slow_average = sum(prices[-self.slow :]) / self.slow
        if fast_average > slow_average:
            return self.quantity
        if fast_average < slow_average:
            return -self.quantity
        return None


@dataclass(frozen=True)
class MeanReversion:
    """Z-score of the price over `lookback`: short above +entry_z, long below -entry_z,
    flat once back within +/-exit_z, otherwise hold."""

    lookback: int = 20
    entry_z: float = 2.0
    exit_z: float = 0.5
    quantity: float = DEFAULT_QUANTITY

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, float]) -> MeanReversion:
        lookback = _window(parameters.get("lookback", cls.lookback), "lookback")
        entry_z = parameters.get("entry_z", cls.entry_z)
        exit_z = parameters.get("exit_z", cls.exit_z)
        if lookback < 2:
            raise InvalidParameters("lookback must be at least 2 prices")
        if not 0 <= exit_z < entry_z:
            raise InvalidParameters(f"need 0 <= exit_z ({exit_z:g}) < entry_z ({entry_z:g})")
        return cls(
            lookback=lookback, entry_z=entry_z, exit_z=exit_z, quantity=_quantity(parameters)
        )

    @property
    def history_length(self) -> int:
        return self.lookback

    def target_position(self, prices: Sequence[float]) -> float | None:
        if len(prices) < self.lookback:
            return None
        window = prices[-self.lookback :]
        mean = sum(window) / self.lookback
        deviation = math.sqrt(sum((price - mean) ** 2 for price in window) / self.lookback)
        if deviation == 0:
            return None
        z = (window[-1] - mean) / deviation
        if z > self.entry_z:
            return -self.quantity
        if z < -self.entry_z:
            return self.quantity
        if abs(z) < self.exit_z:
            return 0.0
        return None


def build_strategy(parameters: Mapping[str, float]) -> Strategy:
    """Pick and validate the rule for a strategy's parameters; raise `InvalidParameters`."""
    if any(key in parameters for key in MEAN_REVERSION_KEYS):
        return MeanReversion.from_parameters(parameters)
    return MovingAverageCrossover.from_parameters(parameters)


def _lookup(parameters: Mapping[str, float], keys: tuple[str, ...], default: float) -> float:
    for key in keys:
        if key in parameters:
            return parameters[key]
    return default


def _window(value: float, name: str) -> int:
    if value != int(value) or not 1 <= value <= MAX_WINDOW:
        raise InvalidParameters(f"{name} ({value:g}) must be a whole number from 1 to {MAX_WINDOW}")
    return int(value)


def _quantity(parameters: Mapping[str, float]) -> float:
    quantity = _lookup(parameters, QUANTITY_KEYS, DEFAULT_QUANTITY)
    if quantity <= 0:
        raise InvalidParameters(f"quantity ({quantity:g}) must be positive")
    return quantity
