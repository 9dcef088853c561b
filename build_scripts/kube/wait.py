"""Waiting for the Deployments of a release, judged by kube/rollout.py, through kr8s.

One poll lists the namespace's Deployments, ReplicaSets and pods (three API calls, whatever the
number of components) and judges each Deployment. The wait ends as soon as every one is done,
or as soon as one has failed; then the failed pod's reason, recent events and last log lines
are gathered for the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from build_scripts.core import on_first_use, poll
from build_scripts.core.errors import VerificationFailed
from build_scripts.core.progress import format_seconds, say
from build_scripts.kube.rollout import FAILED, Verdict, judge

kr8s = on_first_use.module("kr8s")
kr8s_objects = on_first_use.module("kr8s.objects")

EVENT_LINES = 8
LOG_LINES = 20


class RolloutFailed(VerificationFailed):
    """A Deployment of the release failed (or did not finish in time); `verdict` says why."""

    def __init__(self, verdict: Verdict, diagnostics: list[str], hint: str | None = None):
        super().__init__(verdict.line(), hint)
        self.verdict = verdict
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Snapshot:
    deployments: dict[str, dict]
    replicasets: list[dict]
    pods: list[dict]


def snapshot(api: kr8s.Api, namespace: str) -> Snapshot:
    def raw(kind: str) -> list[dict]:
        return [o.raw for o in api.get(kind, namespace=namespace)]

    deployments = {d["metadata"]["name"]: d for d in raw("deployments")}
    return Snapshot(deployments, raw("replicasets"), raw("pods"))


def judge_all(
    state: Snapshot, names: list[str], now: datetime, readiness_bound: float
) -> list[Verdict]:
    verdicts = []
    for name in names:
        deployment = state.deployments.get(name)
        if deployment is None:
            verdicts.append(Verdict(name, FAILED, "Missing", "the Deployment does not exist"))
            continue
        verdicts.append(
            judge(
                deployment, state.replicasets, state.pods, now=now, readiness_bound=readiness_bound
            )
        )
    return verdicts


def wait_for_release(
    api: kr8s.Api,
    namespace: str,
    names: list[str],
    *,
    timeout: float,
    readiness_bound: float,
    interval: float = 1.0,
    report: Callable[[str], None] = say,
) -> list[Verdict]:
    """Poll until every named Deployment is done; raise RolloutFailed on the first failure."""
    started = time.monotonic()
    shown: dict[str, str] = {}
    last: list[Verdict] = []

    def all_done() -> tuple[list[Verdict]] | None:
        verdicts = judge_all(snapshot(api, namespace), names, datetime.now(UTC), readiness_bound)
        last[:] = verdicts
        elapsed = format_seconds(time.monotonic() - started)
        for verdict in verdicts:
            if shown.get(verdict.component) != verdict.reason:
                shown[verdict.component] = verdict.reason
                report(f"  [{elapsed}] {verdict.line()}")
        failed = next((v for v in verdicts if v.failed), None)
        if failed:
            raise RolloutFailed(failed, diagnose(api, namespace, failed))
        # A tuple: done with no Deployment to wait for is done too.
        return (verdicts,) if all(v.done for v in verdicts) else None

    def timed_out(_: str) -> RolloutFailed:
        late = next(v for v in last if not v.done)
        verdict = Verdict(
            late.component,
            FAILED,
            "Timeout",
            f"not done after {timeout:.0f}s ({late.reason})",
            late.pod,
        )
        return RolloutFailed(verdict, diagnose(api, namespace, verdict))

    (verdicts,) = poll.until(
        all_done,
        what=f"the Deployments in {namespace}",
        timeout=timeout,
        interval=interval,
        fail=timed_out,
    )
    return verdicts


def diagnose(api: kr8s.Api, namespace: str, verdict: Verdict) -> list[str]:
    """The failed pod's recent events and last log lines (of the crashed instance if any)."""
    lines: list[str] = []
    subject = verdict.pod or verdict.component
    try:
        events = sorted(
            (
                e.raw
                for e in api.get(
                    "events", namespace=namespace, field_selector={"involvedObject.name": subject}
                )
            ),
            key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "",
        )
    except Exception as exc:  # diagnostics must not hide the failure itself
        events = []
        lines.append(f"(events unavailable: {exc})")
    lines.append(f"recent events of {subject}:")
    lines += [
        f"  {e.get('type', '')} {e.get('reason', '')}: {e.get('message', '').strip()}"
        for e in events[-EVENT_LINES:]
    ] or ["  (none)"]
    if verdict.pod:
        lines.append(f"last log lines of {verdict.pod}:")
        try:
            pod = kr8s_objects.Pod.get(verdict.pod, namespace=namespace, api=api)
            logs = list(
                pod.logs(
                    container=verdict.container,
                    previous=verdict.previous_logs,
                    tail_lines=LOG_LINES,
                    timeout=10,
                )
            )
            lines += [f"  {line}" for line in logs] or ["  (no output)"]
        except Exception as exc:  # an image that never started has no logs
            lines.append(
                f"  (no logs: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            )
    return lines
