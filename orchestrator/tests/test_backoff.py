import random

import pytest

from traderadmin_orchestrator.backoff import Backoff, RetryPolicy, call_with_retries


class Flaky:
    """Fails `failures` times with ConnectionError, then returns "ok"."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"failure {self.calls}")
        return "ok"


def test_delays_grow_exponentially_up_to_the_cap():
    backoff = Backoff(base=0.5, factor=2.0, cap=3.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_huge_retry_numbers_stay_at_the_cap():
    assert Backoff(base=1, factor=10, cap=7).delay(10_000) == 7


def test_jitter_only_shortens_and_is_reproducible_with_a_seed():
    backoff = Backoff(base=1.0, factor=2.0, cap=8.0, jitter=0.5)
    first = [backoff.delay(n, random.Random(42)) for n in range(1, 6)]
    again = [backoff.delay(n, random.Random(42)) for n in range(1, 6)]
    assert first == again
    for n, delay in enumerate(first, start=1):
        exact = Backoff(base=1.0, factor=2.0, cap=8.0).delay(n)
        assert exact / 2 <= delay <= exact


def test_retry_numbers_start_at_one():
    with pytest.raises(ValueError, match="start at 1"):
        Backoff().delay(0)


def test_retries_until_success_sleeping_the_backoff_delays():
    sleeps: list[float] = []
    operation = Flaky(failures=2)
    policy = RetryPolicy(max_attempts=5, backoff=Backoff(base=0.1, factor=3, cap=10))
    result = call_with_retries(operation, policy, retry_on=(ConnectionError,), sleep=sleeps.append)
    assert result == "ok"
    assert operation.calls == 3
    assert sleeps == pytest.approx([0.1, 0.3])


def test_gives_up_after_max_attempts_with_the_last_error():
    sleeps: list[float] = []
    operation = Flaky(failures=10)
    with pytest.raises(ConnectionError, match="failure 3"):
        call_with_retries(
            operation, RetryPolicy(max_attempts=3), retry_on=(ConnectionError,), sleep=sleeps.append
        )
    assert operation.calls == 3
    assert len(sleeps) == 2


def test_other_errors_are_not_retried():
    calls = []

    def operation():
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call_with_retries(operation, RetryPolicy(), retry_on=(ConnectionError,), sleep=print)
    assert len(calls) == 1


def test_time_budget_stops_retrying_before_overrunning(fake_clock):
    def sleep(seconds: float) -> None:
        fake_clock.advance(seconds)

    operation = Flaky(failures=10)
    policy = RetryPolicy(
        max_attempts=100, backoff=Backoff(base=1, factor=2, cap=100), budget_seconds=5
    )
    with pytest.raises(ConnectionError):
        call_with_retries(
            operation, policy, retry_on=(ConnectionError,), sleep=sleep, clock=fake_clock
        )
    # Sleeps of 1 and 2 fit into 5 s; the next (4) would end at 7 s, so it stops at 3 calls.
    assert operation.calls == 3


def test_interrupted_sleep_stops_retrying():
    operation = Flaky(failures=10)
    with pytest.raises(ConnectionError):
        call_with_retries(
            operation,
            RetryPolicy(max_attempts=10),
            retry_on=(ConnectionError,),
            sleep=lambda _seconds: True,  # like Event.wait() when shutdown was requested
        )
    assert operation.calls == 1
