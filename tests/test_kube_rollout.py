"""The rollout judge (build_scripts/kube/rollout.py), table-driven over API-shaped dicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from build_scripts.kube.rollout import DONE, FAILED, PROGRESSING, judge, split_pods

NOW = datetime(2026, 12, 2, 4, 0, 0, tzinfo=UTC)


def _ts(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(
    *,
    generation=2,
    observed=2,
    replicas=1,
    updated=1,
    available=1,
    total=1,
    reason="NewReplicaSetAvailable",
    revision="2",
    version="1.1.0",
):
    return {
        "metadata": {
            "name": "orchestrator",
            "uid": "dep",
            "generation": generation,
            "annotations": {"deployment.kubernetes.io/revision": revision},
        },
        "spec": {
            "replicas": replicas,
            "template": {"metadata": {"labels": {"app.kubernetes.io/version": version}}},
        },
        "status": {
            "observedGeneration": observed,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "replicas": total,
            "conditions": [{"type": "Progressing", "reason": reason, "message": "msg"}],
        },
    }


def replicaset(uid: str, revision: str, hash_: str):
    return {
        "metadata": {
            "name": f"orchestrator-{hash_}",
            "uid": uid,
            "labels": {"pod-template-hash": hash_},
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [{"uid": "dep"}],
        }
    }


REPLICASETS = [replicaset("rs-old", "1", "old"), replicaset("rs-new", "2", "new")]


def pod(
    hash_: str,
    *,
    ready=True,
    waiting=None,
    running_for=None,
    last_exit=None,
    name=None,
    unready_for=None,
):
    state: dict = {}
    if waiting:
        state = {"waiting": {"reason": waiting, "message": f"{waiting} message"}}
    elif running_for is not None:
        state = {"running": {"startedAt": _ts(running_for)}}
    container = {"name": "orchestrator", "ready": ready, "state": state, "restartCount": 0}
    if last_exit is not None:
        container["lastState"] = {"terminated": {"exitCode": last_exit, "reason": "Error"}}
    return {
        "metadata": {
            "name": name or f"orchestrator-{hash_}-x",
            "labels": {"pod-template-hash": hash_},
            "ownerReferences": [{"uid": f"rs-{hash_}"}],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [container],
            "conditions": []
            if unready_for is None
            else [{"type": "Ready", "status": "False", "lastTransitionTime": _ts(unready_for)}],
        },
    }


CASES = [
    # (id, deployment, pods, state, reason fragment)
    ("done", deployment(), [pod("new", running_for=30)], DONE, "1/1 available"),
    (
        "controller has not seen the new spec",
        deployment(generation=3, observed=2),
        [pod("old", running_for=300)],
        PROGRESSING,
        "generation 3",
    ),
    (
        "the old pod is Ready but the new one is not updated yet",
        deployment(updated=0, reason="ReplicaSetUpdated"),
        [pod("old", running_for=300)],
        PROGRESSING,
        "0/1 replicas updated",
    ),
    (
        "the old Ready pod does not stand in for a crashing new one",
        deployment(available=1, total=2, reason="ReplicaSetUpdated"),
        [
            pod("old", running_for=300),
            pod("new", ready=False, waiting="CrashLoopBackOff", last_exit=1),
        ],
        FAILED,
        "CrashLoopBackOff",
    ),
    (
        "image cannot be pulled",
        deployment(available=0, reason="ReplicaSetUpdated"),
        [pod("new", ready=False, waiting="ImagePullBackOff")],
        FAILED,
        "ImagePullBackOff",
    ),
    (
        "image never pulled and not on the node",
        deployment(available=0, reason="ReplicaSetUpdated"),
        [pod("new", ready=False, waiting="ErrImageNeverPull")],
        FAILED,
        "ErrImageNeverPull",
    ),
    (
        "secret missing",
        deployment(available=0, reason="ReplicaSetUpdated"),
        [pod("new", ready=False, waiting="CreateContainerConfigError")],
        FAILED,
        "CreateContainerConfigError",
    ),
    (
        "still creating the container is not a failure",
        deployment(available=0, reason="ReplicaSetUpdated"),
        [pod("new", ready=False, waiting="ContainerCreating")],
        PROGRESSING,
        "0/1 replicas available",
    ),
    (
        "the controller's deadline passed",
        deployment(available=0, reason="ProgressDeadlineExceeded"),
        [pod("new", ready=False, running_for=10)],
        FAILED,
        "ProgressDeadlineExceeded",
    ),
    (
        "not ready for a while, within the bound",
        deployment(available=0, reason="ReplicaSetUpdated"),
        [pod("new", ready=False, running_for=20)],
        PROGRESSING,
        "0/1 replicas available",
    ),
    (
        "not ready past the bound",
        deployment(available=0, reason="ReplicaSetUpdated"),
        [pod("new", ready=False, running_for=61)],
        FAILED,
        "ReadinessFailing",
    ),
    (
        "ready before, lost it recently (a dependency restarted): judged from then",
        deployment(available=0, reason="NewReplicaSetAvailable"),
        [pod("new", ready=False, running_for=157, unready_for=10)],
        PROGRESSING,
        "0/1 replicas available",
    ),
    (
        "ready before, unready past the bound since",
        deployment(available=0, reason="NewReplicaSetAvailable"),
        [pod("new", ready=False, running_for=157, unready_for=70)],
        FAILED,
        "not ready for 70s",
    ),
    (
        "never ready: the condition's transition is older than the container",
        deployment(available=0, reason="ReplicaSetUpdated"),
        [pod("new", ready=False, running_for=61, unready_for=65)],
        FAILED,
        "not ready for 61s",
    ),
    (
        "an old pod still terminating (Recreate holds the volume)",
        deployment(total=2),
        [pod("old", ready=False, running_for=300), pod("new", running_for=5)],
        PROGRESSING,
        "old pod",
    ),
    (
        "counts fine but Progressing not yet NewReplicaSetAvailable",
        deployment(reason="ReplicaSetUpdated"),
        [pod("new", running_for=5)],
        PROGRESSING,
        "ReplicaSetUpdated",
    ),
    (
        "a crashing OLD pod does not fail the new rollout",
        deployment(total=2),
        [pod("old", ready=False, waiting="CrashLoopBackOff"), pod("new", running_for=5)],
        PROGRESSING,
        "old pod",
    ),
]


@pytest.mark.parametrize(
    ("deployment_", "pods", "state", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_judge(deployment_, pods, state, fragment):
    verdict = judge(deployment_, REPLICASETS, pods, now=NOW, readiness_bound=60)
    assert verdict.state == state, verdict
    assert fragment in verdict.line(), verdict.line()


def test_a_failure_names_the_pod_the_exit_code_and_asks_for_the_crashed_logs():
    verdict = judge(
        deployment(available=0, reason="ReplicaSetUpdated"),
        REPLICASETS,
        [pod("new", ready=False, waiting="CrashLoopBackOff", last_exit=1, name="orch-1")],
        now=NOW,
        readiness_bound=60,
    )
    assert verdict.pod == "orch-1" and verdict.container == "orchestrator"
    assert "last exit code 1" in verdict.detail
    assert verdict.previous_logs


def test_pods_split_by_the_current_revisions_template_hash():
    pods = [
        pod("old"),
        pod("new"),
        {
            **pod("new"),
            "metadata": {**pod("new")["metadata"], "ownerReferences": [{"uid": "other"}]},
        },
    ]
    current, old = split_pods(deployment(), REPLICASETS, pods)
    assert [p["metadata"]["labels"]["pod-template-hash"] for p in current] == ["new"]
    assert [p["metadata"]["labels"]["pod-template-hash"] for p in old] == ["old"]
