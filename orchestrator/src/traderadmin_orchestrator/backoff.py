"""Exponential backoff with a cap, and a retry loop bounded by attempts and a time budget."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

# Returns True when the wait was interrupted (shutdown), like `threading.Event.wait`.
Sleep = Callable[[float], bool | None]


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (1-based): min(cap, base * factor**(n-1)), minus optional jitter."""

    base: float = 0.2
    factor: float = 2.0
    cap: float = 2.0
    # Fraction of each delay that is randomised away, so many orchestrators restarting together
    # do not retry in lockstep; 0 makes delays exact (tests).
    jitter: float = 0.0

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        if retry < 1:
            raise ValueError("retry numbers start at 1")
        try:
            raw = self.base * self.factor ** (retry - 1)
        except OverflowError:
            raw = self.cap
        delay = min(self.cap, raw)
        if self.jitter and rng is not None:
            delay *= 1.0 - self.jitter * rng.random()
        return delay


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    # Upper bound on the time spent waiting between attempts plus the attempts themselves, so
    # one tick's backend calls cannot stall the loop past its liveness deadline.
    budget_seconds: float | None = None


def call_with_retries(
    operation: Callable[[], T],
    policy: RetryPolicy,
    *,
    retry_on: tuple[type[BaseException], ...],
    sleep: Sleep | None = None,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    what: str = "operation",
) -> T:
    """Run `operation`, retrying `retry_on` errors; re-raise the last one when out of attempts,
    out of budget, or when `sleep` reports an interruption."""
    sleep = sleep or time.sleep
    started = clock()
    retry = 0
    while True:
        try:
            return operation()
        except retry_on as exc:
            retry += 1
            if retry >= policy.max_attempts:
                raise
            delay = policy.backoff.delay(retry, rng)
            if (
                policy.budget_seconds is not None
                and clock() - started + delay > policy.budget_seconds
            ):
                raise
            log.debug(
                "retrying after error",
                extra={"what": what, "retry": retry, "delay_s": round(delay, 3), "error": str(exc)},
            )
            if sleep(delay):
                raise
