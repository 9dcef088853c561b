"""Steps for watching Kubernetes act on the deployed release's probes: healthy pods stay up, a
frozen backend is restarted, the orchestrator follows the backend out of and back into
readiness."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import httpx
from _support import cluster_api, cluster_layout, wait_until
from behave import then, when
from deployment_steps import NAMESPACE, PORTS, _pods
from kr8s.objects import Deployment

from build_scripts.core import cmd
from build_scripts.core.components import COMPONENTS


def _restarts(context) -> dict[str, int]:
    return {s.name: s.restarts for app in COMPONENTS for s in _pods(context, app)}


def _unhealthy_events(context) -> list[str]:
    names = {s.name for app in COMPONENTS for s in _pods(context, app)}
    events = cluster_api(context).get("events", namespace=NAMESPACE)
    return [
        f"{e.raw['involvedObject']['name']}: {e.raw.get('message')}"
        for e in events
        if e.raw.get("reason") == "Unhealthy"
        and e.raw["involvedObject"]["name"] in names
        and e.raw.get("lastTimestamp", e.raw.get("eventTime", "")) >= context.watch_started_iso
    ]


@when("Kubernetes checks the liveness and readiness probes for {seconds:d} seconds")
def step_watch(context, seconds):
    context.watch_started_iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    context.restarts_before = _restarts(context)
    context.samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        context.samples.append(
            {s.name: (s.phase, s.ready) for app in COMPONENTS for s in _pods(context, app)}
        )
        time.sleep(3)


@then("the probes consistently succeed for healthy pods")
def step_consistent(context):
    assert len(context.samples) >= 5, context.samples
    bad = [s for s in context.samples if any(v != ("Running", True) for v in s.values())]
    assert not bad, f"pods were not Running and Ready in {len(bad)} samples: {bad[:3]}"
    assert _restarts(context) == context.restarts_before, (
        context.restarts_before,
        _restarts(context),
    )
    unhealthy = _unhealthy_events(context)
    assert not unhealthy, unhealthy


def _scale(context, name: str, replicas: int) -> None:
    Deployment.get(name, namespace=NAMESPACE, api=cluster_api(context)).scale(replicas)


@when("the backend is scaled to zero replicas")
def step_scale_zero(context):
    _scale(context, "backend", 0)


@when("the backend is scaled back to one replica")
def step_scale_one(context):
    _scale(context, "backend", 1)


def _endpoint_addresses(context, service: str) -> tuple[list[str], list[str]]:
    (endpoints,) = list(cluster_api(context).get("endpoints", service, namespace=NAMESPACE))
    raw = endpoints.raw
    ready, not_ready = [], []
    for subset in raw.get("subsets", []) or []:
        ready += [a["ip"] for a in subset.get("addresses", [])]
        not_ready += [a["ip"] for a in subset.get("notReadyAddresses", [])]
    return ready, not_ready


@then(
    "the orchestrator pod is marked not ready and leaves its Service's endpoints within "
    "{seconds:d} seconds"
)
def step_orchestrator_unready(context, seconds):
    def unready():
        states = _pods(context, "orchestrator")
        ready, _ = _endpoint_addresses(context, "orchestrator")
        return bool(states) and not any(s.ready for s in states) and not ready

    wait_until(
        "orchestrator NotReady and out of the Service endpoints", unready, seconds, interval=2
    )
    # Not ready is not unhealthy: liveness still passes, so Kubernetes does not restart it.
    assert all(s.phase == "Running" for s in _pods(context, "orchestrator"))


@then("the orchestrator pod is ready again within {seconds:d} seconds")
def step_orchestrator_ready(context, seconds):
    wait_until(
        "orchestrator Ready and back in its Service endpoints",
        lambda: (
            any(s.ready for s in _pods(context, "orchestrator"))
            and _endpoint_addresses(context, "orchestrator")[0]
        ),
        seconds,
        interval=2,
    )


def _backend_pid(context) -> int:
    """The host pid of the backend container's process, from the cluster's containerd."""
    (pod,) = cluster_api(context).get(
        "pods", namespace=NAMESPACE, label_selector={"app.kubernetes.io/name": "backend"}
    )
    container_id = pod.raw["status"]["containerStatuses"][0]["containerID"].split("://")[-1]
    layout = cluster_layout()
    listing = cmd.output_of(
        ["ctr", "--address", layout.containerd_socket, "--namespace", "k8s.io", "task", "ls"],
        step="ctr",
    )
    for line in listing.splitlines():
        fields = line.split()
        if fields and fields[0] == container_id:
            return int(fields[1])
    raise AssertionError(f"no running task {container_id} in:\n{listing}")


@when("the backend process stops responding")
def step_freeze_backend(context):
    context.backend_restarts = {s.name: s.restarts for s in _pods(context, "backend")}
    pid = _backend_pid(context)
    # SIGSTOP freezes the process without ending it: only the liveness probe can notice.
    os.kill(pid, signal.SIGSTOP)
    context.frozen_pid = pid


@then("Kubernetes restarts the backend container within {seconds:d} seconds")
def step_restarted(context, seconds):
    before = context.backend_restarts

    def restarted():
        return any(s.restarts > before.get(s.name, 0) for s in _pods(context, "backend"))

    wait_until("a liveness restart of the backend container", restarted, seconds, interval=3)
    reasons = [
        e.raw.get("message", "")
        for e in cluster_api(context).get("events", namespace=NAMESPACE)
        if e.raw.get("reason") == "Unhealthy"
    ]
    assert any("Liveness probe failed" in r for r in reasons), reasons


@then("the backend pod is ready again within {seconds:d} seconds")
def step_backend_ready(context, seconds):
    wait_until(
        "backend Ready after its restart",
        lambda: any(s.ready for s in _pods(context, "backend")),
        seconds,
        interval=2,
    )


@when("the backend is rolled out again")
def step_rollout_backend(context):
    context.backends_before = {s.name for s in _pods(context, "backend")}
    # What `kubectl rollout restart` does: a new pod template, so a new ReplicaSet (Recreate).
    Deployment.get("backend", namespace=NAMESPACE, api=cluster_api(context)).patch(
        {
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {
                            "kubectl.kubernetes.io/restartedAt": time.strftime(
                                "%Y-%m-%dT%H:%M:%SZ", time.gmtime()
                            )
                        }
                    }
                }
            }
        }
    )


@then("a new backend pod is ready within {seconds:d} seconds")
def step_new_backend_ready(context, seconds):
    def new_ready():
        return [
            s.name
            for s in _pods(context, "backend")
            if s.name not in context.backends_before and s.ready
        ]

    wait_until("a new backend pod Ready", new_ready, seconds, interval=0.5)
    context.backend_ready_at = time.monotonic()


@then("the orchestrator pod is ready within {seconds:d} seconds of the new backend pod")
def step_orchestrator_follows(context, seconds):
    """Its own /readyz (no probe lag) answers 200 and its pod is Ready, both in time."""

    def orchestrator_answers_ready():
        for pod in cluster_api(context).get(
            "pods", namespace=NAMESPACE, label_selector={"app.kubernetes.io/name": "orchestrator"}
        ):
            address = pod.raw["status"].get("podIP")
            with contextlib.suppress(httpx.HTTPError):
                url = f"http://{address}:{PORTS['orchestrator']}/readyz"
                if address and httpx.get(url, timeout=2).status_code == 200:
                    return True
        return False

    wait_until("orchestrator /readyz 200", orchestrator_answers_ready, seconds, interval=0.5)
    wait_until(
        "orchestrator pod Ready",
        lambda: any(s.ready for s in _pods(context, "orchestrator")),
        seconds,
        interval=0.5,
    )
    lag = time.monotonic() - context.backend_ready_at
    assert lag <= seconds, f"orchestrator Ready {lag:.1f}s after the backend"
