"""Planning the rollback of a whole release (build_scripts/kube/rollback.py)."""

from __future__ import annotations

import pytest

from build_scripts.kube import rollback


def _deployment(name: str, version: str, image: str) -> dict:
    return {
        "metadata": {"name": name, "annotations": {"deployment.kubernetes.io/revision": "3"}},
        "spec": {
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/version": version}},
                "spec": {"containers": [{"name": name, "image": image}]},
            }
        },
    }


OLD = {n: _deployment(n, "1.0.0", f"{n}:1.0.0") for n in ("backend", "orchestrator")}
NEW = {n: _deployment(n, "1.1.0", f"{n}:1.1.0") for n in ("backend", "orchestrator")}


def _previous(existing: dict) -> dict:
    return {n: rollback.previous_of(n, existing.get(n)) for n in ("backend", "orchestrator")}


CASES = [
    ("both changed: both go back", OLD, NEW, ["backend", "orchestrator"]),
    (
        "only the orchestrator changed: only it goes back",
        OLD,
        {**NEW, "backend": OLD["backend"]},
        ["orchestrator"],
    ),
    ("nothing changed: nothing to do", OLD, OLD, []),
    ("first install: nothing existed", {}, NEW, []),
    (
        "the orchestrator is new in this release: only the backend goes back",
        {"backend": OLD["backend"]},
        NEW,
        ["backend"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "restored"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(before, after, restored):
    actions = rollback.plan(_previous(before), after)
    assert [a.name for a in actions] == restored
    for action in actions:
        assert action.template == OLD[action.name]["spec"]["template"]
        assert action.version == "1.0.0"


def test_first_install_has_nothing_to_roll_back_to():
    assert rollback.nothing_to_roll_back(_previous({}))
    assert not rollback.nothing_to_roll_back(_previous({"backend": OLD["backend"]}))


def test_the_previous_version_is_named():
    assert rollback.previous_version(_previous(OLD)) == (
        "1.0.0 (backend revision 3, orchestrator revision 3)"
    )
    mixed = {"backend": OLD["backend"], "orchestrator": _deployment("orchestrator", "0.9.0", "o")}
    assert rollback.previous_version(_previous(mixed)).startswith("0.9.0/1.0.0 (")
    assert rollback.previous_version(_previous({})) == "nothing"


def test_the_recorded_template_is_a_copy():
    live = _deployment("backend", "1.0.0", "backend:1.0.0")
    previous = rollback.previous_of("backend", live)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    assert previous.template["spec"]["containers"][0]["image"] == "backend:1.0.0"


def test_a_live_rolling_update_deployment_is_switched_to_recreate_first():
    from build_scripts.kube.strategy import strategy_patches

    wanted = [
        {
            "kind": "Deployment",
            "metadata": {"name": "orchestrator"},
            "spec": {"strategy": {"type": "Recreate"}},
        },
        {
            "kind": "Deployment",
            "metadata": {"name": "backend"},
            "spec": {"strategy": {"type": "Recreate"}},
        },
        {"kind": "Service", "metadata": {"name": "backend"}},
    ]
    live = {
        "orchestrator": {
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}
        },
        "backend": {"spec": {"strategy": {"type": "Recreate"}}},
    }
    assert strategy_patches(wanted, live) == {
        "orchestrator": {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}}
    }
    assert strategy_patches(wanted, {}) == {}
