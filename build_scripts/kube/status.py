"""`deploy.status`: each workload's version, ready/desired, restarts, rollout state, last event;
each pod's phase, readiness and restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from build_scripts.core import on_first_use
from build_scripts.kube.rollout import judge, split_pods, version_of
from build_scripts.kube.wait import Snapshot, snapshot

kr8s = on_first_use.module("kr8s")


@dataclass(frozen=True)
class Row:
    workload: str
    version: str
    ready: str
    restarts: int
    rollout: str
    last_event: str


def rows(state: Snapshot, events: list[dict], readiness_bound: float = 60.0) -> list[Row]:
    """One row per Deployment (pure: from listed objects)."""
    result = []
    for name, deployment in sorted(state.deployments.items()):
        current, old = split_pods(deployment, state.replicasets, state.pods)
        pods = current + old
        restarts = sum(
            c.get("restartCount", 0)
            for p in pods
            for c in p.get("status", {}).get("containerStatuses") or []
        )
        status = deployment.get("status", {})
        wanted = deployment.get("spec", {}).get("replicas", 1)
        verdict = judge(
            deployment,
            state.replicasets,
            state.pods,
            now=datetime.now(UTC),
            readiness_bound=readiness_bound,
        )
        subjects = {name} | {p["metadata"]["name"] for p in pods}
        mine = [e for e in events if e.get("involvedObject", {}).get("name") in subjects]
        mine.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        last = mine[-1] if mine else {}
        last_event = (
            f"{last.get('reason', '')}: {' '.join(str(last.get('message', '')).split())[:80]}"
            if last
            else "-"
        )
        result.append(
            Row(
                workload=f"deployment/{name}",
                version=version_of(deployment),
                ready=f"{status.get('readyReplicas', 0)}/{wanted}",
                restarts=restarts,
                rollout=verdict.state if verdict.done else f"{verdict.state}: {verdict.reason}",
                last_event=last_event,
            )
        )
    return result


def table(found: list[Row]) -> str:
    header = ("WORKLOAD", "VERSION", "READY", "RESTARTS", "ROLLOUT", "LAST EVENT")
    cells = [header] + [
        (r.workload, r.version, r.ready, str(r.restarts), r.rollout, r.last_event) for r in found
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c[i].ljust(widths[i]) for i in range(len(header))).rstrip() for c in cells
    )


def release_status(api: kr8s.Api, namespace: str) -> list[Row]:
    events = [e.raw for e in api.get("events", namespace=namespace)]
    return rows(snapshot(api, namespace), events)


@dataclass(frozen=True)
class PodState:
    name: str
    phase: str
    ready: bool
    restarts: int


def pod_states(api: kr8s.Api, namespace: str, app: str) -> list[PodState]:
    states = []
    for pod in api.get("pods", namespace=namespace, label_selector={"app.kubernetes.io/name": app}):
        status = pod.raw.get("status", {})
        containers = status.get("containerStatuses", [])
        states.append(
            PodState(
                name=pod.name,
                phase=status.get("phase", "?"),
                ready=bool(containers) and all(c.get("ready") for c in containers),
                restarts=sum(c.get("restartCount", 0) for c in containers),
            )
        )
    return states
