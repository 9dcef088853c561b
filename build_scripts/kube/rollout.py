"""Judging a Deployment's rollout the way the Deployment controller does.

Pure functions over the API objects as dicts (a Deployment, the ReplicaSets it owns, the pods
its selector matches), so every rule is tested with tables (tests/test_kube_rollout.py). The
polling around them is in kube/wait.py.

A rollout is done only when all of these hold:
  - the controller has seen the current spec: status.observedGeneration >= metadata.generation;
  - every replica runs the new template and is available: updatedReplicas == availableReplicas
    == spec.replicas;
  - no pod of an older ReplicaSet is left, not even a terminating one (status.replicas counts
    them, and a Recreate rollout must not be judged while an old pod still holds the volume);
  - the Progressing condition says NewReplicaSetAvailable.
Counting Ready pods is not enough: an old pod, still Running and Ready beside a crashing new one,
once made a broken release look healthy.

It fails at once, instead of waiting for the deadline, when a new pod can never become ready by
waiting: CrashLoopBackOff, an image that cannot be pulled, a container config error, the
controller's own ProgressDeadlineExceeded, or a container that has been running longer than the
readiness bound without ever passing its readiness probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DONE = "done"
PROGRESSING = "progressing"
FAILED = "failed"

# Waiting reasons after which the kubelet will not succeed by itself.
FATAL_WAITING_REASONS = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
)
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH_LABEL = "pod-template-hash"
VERSION_LABEL = "app.kubernetes.io/version"


@dataclass(frozen=True)
class Verdict:
    """The state of one Deployment's rollout; `pod` names the pod a failure was seen on."""

    component: str
    state: str
    reason: str
    detail: str = ""
    pod: str | None = None
    container: str | None = None
    previous_logs: bool = field(default=False, compare=False)

    @property
    def done(self) -> bool:
        return self.state == DONE

    @property
    def failed(self) -> bool:
        return self.state == FAILED

    def line(self) -> str:
        where = f" (pod {self.pod})" if self.pod else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.component}: {self.reason}{where}{detail}"


def _owned_by(obj: dict, owner: dict) -> bool:
    uid = owner.get("metadata", {}).get("uid")
    return any(ref.get("uid") == uid for ref in obj.get("metadata", {}).get("ownerReferences", []))


def new_replicaset(deployment: dict, replicasets: list[dict]) -> dict | None:
    """The ReplicaSet of the Deployment's current revision (None before the controller made it)."""
    revision = deployment.get("metadata", {}).get("annotations", {}).get(REVISION_ANNOTATION)
    owned = [rs for rs in replicasets if _owned_by(rs, deployment)]
    for rs in owned:
        if rs["metadata"].get("annotations", {}).get(REVISION_ANNOTATION) == revision:
            return rs
    return None


def split_pods(
    deployment: dict, replicasets: list[dict], pods: list[dict]
) -> tuple[list[dict], list[dict]]:
    """(pods of the new ReplicaSet, pods of any older one) among the Deployment's pods."""
    new = new_replicaset(deployment, replicasets)
    new_hash = new["metadata"].get("labels", {}).get(TEMPLATE_HASH_LABEL) if new else None
    owned_rs = {rs["metadata"]["uid"] for rs in replicasets if _owned_by(rs, deployment)}
    current, old = [], []
    for pod in pods:
        refs = {ref.get("uid") for ref in pod.get("metadata", {}).get("ownerReferences", [])}
        if not refs & owned_rs:
            continue
        if new_hash and pod["metadata"].get("labels", {}).get(TEMPLATE_HASH_LABEL) == new_hash:
            current.append(pod)
        else:
            old.append(pod)
    return current, old


def _condition(obj: dict, kind: str) -> dict:
    for condition in obj.get("status", {}).get("conditions", []) or []:
        if condition.get("type") == kind:
            return condition
    return {}


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def pod_failure(component: str, pod: dict, now: datetime, readiness_bound: float) -> Verdict | None:
    """A reason this (new) pod will never become ready by waiting, or None."""
    name = pod["metadata"]["name"]
    status = pod.get("status", {})
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    for container in statuses:
        waiting = container.get("state", {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason in FATAL_WAITING_REASONS:
            last = container.get("lastState", {}).get("terminated") or {}
            detail = waiting.get("message", "")
            if last:
                exit_detail = f"last exit code {last.get('exitCode')}"
                if last.get("reason"):
                    exit_detail += f" ({last['reason']})"
                detail = f"{exit_detail}; {detail}" if detail else exit_detail
            return Verdict(
                component,
                FAILED,
                reason,
                detail.strip(),
                name,
                container.get("name"),
                previous_logs=bool(last),
            )
    if status.get("phase") == "Failed":
        return Verdict(
            component, FAILED, status.get("reason") or "PodFailed", status.get("message", ""), name
        )
    # A pod that was Ready and lost it (its backend restarted, say) is judged from that moment,
    # not from its container's start: else a deploy while a dependency blips rolls back a
    # healthy release (seen in the soak: "running 157s without passing its readiness probe").
    unready_since = next(
        (
            _parse_time(c.get("lastTransitionTime"))
            for c in status.get("conditions") or []
            if c.get("type") == "Ready" and c.get("status") != "True"
        ),
        None,
    )
    for container in status.get("containerStatuses") or []:
        running = container.get("state", {}).get("running") or {}
        started = _parse_time(running.get("startedAt"))
        if container.get("ready") or started is None:
            continue
        since = max(started, unready_since) if unready_since else started
        seconds = (now - since).total_seconds()
        if seconds > readiness_bound:
            return Verdict(
                component,
                FAILED,
                "ReadinessFailing",
                f"container {container.get('name')} not ready for {seconds:.0f}s: its "
                f"readiness probe has not passed (bound {readiness_bound:.0f}s)",
                name,
                container.get("name"),
            )
    return None


def judge(
    deployment: dict,
    replicasets: list[dict],
    pods: list[dict],
    *,
    now: datetime,
    readiness_bound: float,
) -> Verdict:
    """Where one Deployment's rollout stands: done, still progressing, or failed (and why)."""
    name = deployment["metadata"]["name"]
    generation = deployment["metadata"].get("generation", 0)
    status = deployment.get("status", {}) or {}
    observed = status.get("observedGeneration", 0)
    if observed < generation:
        return Verdict(
            name, PROGRESSING, f"waiting for the controller to see generation {generation}"
        )
    progressing = _condition(deployment, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return Verdict(name, FAILED, "ProgressDeadlineExceeded", progressing.get("message", ""))
    current, old = split_pods(deployment, replicasets, pods)
    for pod in current:
        failure = pod_failure(name, pod, now, readiness_bound)
        if failure:
            return failure
    wanted = deployment.get("spec", {}).get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    total = status.get("replicas", 0)
    if updated != wanted:
        return Verdict(name, PROGRESSING, f"{updated}/{wanted} replicas updated")
    if available != wanted:
        return Verdict(name, PROGRESSING, f"{available}/{wanted} replicas available")
    if old or total != wanted:
        count = max(len(old), total - wanted)
        return Verdict(name, PROGRESSING, f"waiting for {count} old pod(s) to go")
    if progressing.get("reason") != "NewReplicaSetAvailable":
        return Verdict(
            name, PROGRESSING, f"Progressing is {progressing.get('reason') or 'not reported'}"
        )
    return Verdict(name, DONE, f"{available}/{wanted} available, version {version_of(deployment)}")


def version_of(deployment: dict) -> str:
    """The release version the Deployment's pod template carries (its version label)."""
    labels = deployment.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    return labels.get(VERSION_LABEL, "unknown")
