"""A deterministic synthetic price feed: a geometric random walk seeded by the symbol.

The same symbol always yields the same price path, so paper-trading results are reproducible
(across runs, processes and Python versions: `random.Random` with an int seed is stable).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

VOLATILITY_PER_TICK = 0.01


def symbol_seed(symbol: str) -> int:
    # hashlib, not hash(): str hashes are salted per process.
    return int.from_bytes(hashlib.sha256(symbol.encode("utf-8")).digest()[:8], "big")


@dataclass
class _Walk:
    rng: random.Random
    tick: int
    level: float


class SyntheticPriceFeed:
    """`price(symbol, tick)` is the walk's value after `tick` steps, rounded to cents."""

    def __init__(self, volatility: float = VOLATILITY_PER_TICK) -> None:
        self._volatility = volatility
        self._walks: dict[str, _Walk] = {}

    def price(self, symbol: str, tick: int) -> float:
        if tick < 0:
            raise ValueError("tick must not be negative")
        walk = self._walks.get(symbol)
        if walk is None or walk.tick > tick:
            # Only the latest point is kept; going back in time replays the walk from the seed.
            walk = self._start(symbol)
            self._walks[symbol] = walk
        while walk.tick < tick:
            walk.level *= math.exp(walk.rng.gauss(0.0, self._volatility))
            walk.tick += 1
        return round(walk.level, 2)

    @staticmethod
    def _start(symbol: str) -> _Walk:
        seed = symbol_seed(symbol)
        start = 20.0 + (seed % 48_001) / 100.0  # 20.00 .. 500.00, different per symbol
        return _Walk(rng=random.Random(seed), tick=0, level=start)

    def forget(self, symbol: str) -> None:
        self._walks.pop(symbol, None)
