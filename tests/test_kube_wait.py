"""kube/wait.wait_for_release's loop, on judged states fed in order (the judging itself is
tests/test_kube_rollout.py)."""

from __future__ import annotations

import pytest

from build_scripts.kube import wait
from build_scripts.kube.rollout import DONE, FAILED, PROGRESSING, Verdict


@pytest.fixture
def rounds(monkeypatch):
    """Each poll judges the next list of verdicts (the last one repeats)."""
    fed: list[list[Verdict]] = []
    monkeypatch.setattr(wait, "snapshot", lambda api, namespace: None)
    monkeypatch.setattr(
        wait, "judge_all", lambda state, names, now, bound: fed.pop(0) if len(fed) > 1 else fed[0]
    )
    monkeypatch.setattr(wait, "diagnose", lambda api, namespace, verdict: ["diagnosed"])
    return fed


def _wait(timeout=5.0):
    lines: list[str] = []
    kwargs = {"timeout": timeout, "readiness_bound": 60, "interval": 0.01, "report": lines.append}
    return wait.wait_for_release(None, "ns", ["backend"], **kwargs), lines


def test_returns_the_verdicts_once_every_deployment_is_done(rounds):
    rounds += [[Verdict("backend", PROGRESSING, "0/1")], [Verdict("backend", DONE, "1/1")]]
    verdicts, lines = _wait()
    assert [v.state for v in verdicts] == [DONE]
    assert len(lines) == 2  # each new reason reported once


def test_a_failure_stops_the_wait_at_once(rounds):
    rounds += [[Verdict("backend", FAILED, "CrashLoopBackOff", pod="backend-1")]]
    with pytest.raises(wait.RolloutFailed, match="CrashLoopBackOff"):
        _wait(timeout=60)


def test_a_deployment_not_done_in_time_fails_as_a_timeout(rounds):
    rounds += [[Verdict("backend", PROGRESSING, "0/1 replicas available")]]
    with pytest.raises(wait.RolloutFailed, match="Timeout") as caught:
        _wait(timeout=0.1)
    assert "not done after 0s (0/1 replicas available)" in caught.value.one_line()


def test_nothing_to_wait_for_is_done(rounds):
    rounds += [[]]
    assert _wait()[0] == []
