"""core/poll.py and daemon.start_and_wait: the one way the engine waits."""

from __future__ import annotations

import sys

import pytest

from build_scripts.core import daemon, poll
from build_scripts.core.errors import DaemonDied, TimedOut, VerificationFailed


def test_until_returns_the_first_true_value():
    answers = iter([None, 0, "ready"])
    assert poll.until(lambda: next(answers), what="x", timeout=5, interval=0) == "ready"


def test_a_timeout_names_what_was_awaited_and_the_last_observation():
    def check():
        raise poll.NotYet("pod is Pending")

    with pytest.raises(TimedOut) as caught:
        poll.until(check, what="the pod", timeout=0.2, interval=0.05, hint="look")
    assert caught.value.what == "the pod"
    assert caught.value.last == "pod is Pending"
    assert "waiting for the pod; last seen: pod is Pending" in caught.value.message
    assert caught.value.hint == "look"


def test_ignored_errors_are_observations_and_fail_picks_the_error():
    def check():
        raise ConnectionError("refused")

    with pytest.raises(VerificationFailed, match="ConnectionError: refused"):
        poll.until(
            check,
            what="it",
            timeout=0.1,
            interval=0.02,
            ignore=(ConnectionError,),
            fail=VerificationFailed,
        )


def test_watch_gives_up_early():
    def watch():
        raise DaemonDied("gone")

    with pytest.raises(DaemonDied):
        poll.until(lambda: False, what="never", timeout=60, watch=watch)


def test_a_daemon_that_dies_fails_at_once_with_its_log_tail(tmp_path, capsys):
    script = "print('listening failed: port taken', flush=True); raise SystemExit(1)"
    with pytest.raises(DaemonDied, match="port taken") as caught:
        daemon.start_and_wait(
            [sys.executable, "-c", script],
            name="dier",
            answers=lambda: False,
            log_path=tmp_path / "dier.log",
            pid_path=tmp_path / "dier.pid",
            timeout=60,
            interval=0.05,
        )
    assert "exited while starting" in caught.value.message
    assert "last lines of" in capsys.readouterr().out


def test_a_daemon_that_never_answers_times_out_and_is_stopped(tmp_path):
    script = "print('still booting', flush=True); import time; time.sleep(60)"
    pid_path = tmp_path / "slow.pid"
    with pytest.raises(TimedOut, match="still booting"):
        daemon.start_and_wait(
            [sys.executable, "-c", script],
            name="slow",
            answers=lambda: False,
            log_path=tmp_path / "slow.log",
            pid_path=pid_path,
            timeout=1,
            interval=0.1,
        )
    assert not pid_path.exists()


def test_a_daemon_that_answers_is_left_running(tmp_path):
    marker = tmp_path / "up"
    script = f"import pathlib, time; pathlib.Path({str(marker)!r}).touch(); time.sleep(60)"
    pid = daemon.start_and_wait(
        [sys.executable, "-c", script],
        name="good",
        answers=marker.exists,
        log_path=tmp_path / "good.log",
        pid_path=tmp_path / "good.pid",
        timeout=30,
        interval=0.05,
    )
    try:
        assert daemon.alive(pid)
    finally:
        daemon.terminate(pid, "good", grace=5)
    assert not daemon.alive(pid)
