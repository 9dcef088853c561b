"""What `deploy` says and does when a Deployment of the release fails (kube/release_deploy.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from build_scripts.kube import release_deploy, rollback
from build_scripts.kube.rollout import FAILED, Verdict
from build_scripts.kube.wait import RolloutFailed


def _deployment(name: str, version: str) -> dict:
    return {
        "metadata": {"name": name, "annotations": {"deployment.kubernetes.io/revision": "4"}},
        "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/version": version}}}},
    }


class FakeApi:
    def __init__(self, deployments: dict[str, dict]):
        self.deployments = deployments

    def get(self, kind, namespace=None):
        assert kind == "deployments"
        return [SimpleNamespace(name=n, raw=d) for n, d in self.deployments.items()]


FAILURE = RolloutFailed(
    Verdict("orchestrator", FAILED, "CrashLoopBackOff", "last exit code 1 (Error)", "orch-1"), []
)


@pytest.fixture
def calls(monkeypatch):
    seen = {"restored": [], "waited": []}
    monkeypatch.setattr(
        rollback, "restore", lambda api, ns, actions: seen["restored"].extend(actions)
    )
    monkeypatch.setattr(
        release_deploy,
        "wait_for_release",
        lambda api, ns, names, **kw: seen["waited"].append(names) or [],
    )
    return seen


def _previous(existing):
    return {n: rollback.previous_of(n, existing.get(n)) for n in ("backend", "orchestrator")}


def test_a_failed_release_is_rolled_back_as_a_whole_and_says_so(calls):
    before = {n: _deployment(n, "1.0.0") for n in ("backend", "orchestrator")}
    api = FakeApi({n: _deployment(n, "1.1.0") for n in ("backend", "orchestrator")})
    with pytest.raises(release_deploy.ReleaseRefused) as caught:
        release_deploy.refuse(
            api, "ns", FAILURE, _previous(before), "1.1.0", release_deploy.Options()
        )
    line = caught.value.one_line()
    assert line.startswith("orchestrator: CrashLoopBackOff (pod orch-1)")
    assert (
        "release 1.1.0 rolled back to 1.0.0 (backend revision 4, orchestrator revision 4)" in line
    )
    assert [a.name for a in calls["restored"]] == ["backend", "orchestrator"]
    assert calls["waited"] == [["backend", "orchestrator"]]


def test_a_first_install_has_nothing_to_roll_back_to(calls):
    api = FakeApi({n: _deployment(n, "1.1.0") for n in ("backend", "orchestrator")})
    with pytest.raises(release_deploy.ReleaseRefused) as caught:
        release_deploy.refuse(api, "ns", FAILURE, _previous({}), "1.1.0", release_deploy.Options())
    assert "first install: nothing to roll back to" in caught.value.one_line()
    assert calls["restored"] == [] and calls["waited"] == []


def test_no_rollback_keeps_the_failed_state(calls):
    before = {n: _deployment(n, "1.0.0") for n in ("backend", "orchestrator")}
    api = FakeApi({})
    with pytest.raises(release_deploy.ReleaseRefused) as caught:
        release_deploy.refuse(
            api, "ns", FAILURE, _previous(before), "1.1.0", release_deploy.Options(rollback=False)
        )
    assert "left as it is (--no-rollback)" in caught.value.one_line()
    assert calls["restored"] == []


def test_a_rollback_that_does_not_recover_says_so(monkeypatch, calls):
    def still_failing(api, ns, names, **kw):
        raise RolloutFailed(Verdict("backend", FAILED, "Timeout", "not done after 180s"), [])

    monkeypatch.setattr(release_deploy, "wait_for_release", still_failing)
    before = {n: _deployment(n, "1.0.0") for n in ("backend", "orchestrator")}
    api = FakeApi({n: _deployment(n, "1.1.0") for n in ("backend", "orchestrator")})
    with pytest.raises(release_deploy.ReleaseRefused) as caught:
        release_deploy.refuse(
            api, "ns", FAILURE, _previous(before), "1.1.0", release_deploy.Options()
        )
    assert "not healthy either: backend: Timeout" in caught.value.one_line()
