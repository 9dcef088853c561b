"""Steps for deploying TraderAdmin to the local cluster: the objects, the Services and the
API tokens. Watching Kubernetes act on probes is deployment_health_steps.py."""

from __future__ import annotations

import base64
import time

import httpx
from _support import cluster_api, run, shown, wait_until
from behave import given, then, when
from kr8s.objects import Deployment, Secret

from build_scripts.cluster.config import CONTEXT
from build_scripts.core.components import COMPONENTS
from build_scripts.core.metadata import current_release
from build_scripts.kube import manifests
from build_scripts.kube.status import pod_states
from build_scripts.ship.environment import load_values, token_secrets

NAMESPACE = "traderadmin"

PORTS = {"backend": 8080, "orchestrator": 8081}


def _cli(context, command: str):
    result = run(context, command)
    assert result.returncode == 0, shown(result)
    return result


def _pods(context, app):
    return pod_states(cluster_api(context), NAMESPACE, app)


def _all_ready(context) -> bool:
    for app in COMPONENTS:
        states = _pods(context, app)
        if not states or not all(s.phase == "Running" and s.ready for s in states):
            return False
    return True


@given("Docker images for all services are built and available")
def step_images(context):
    _cli(context, "invoke images.build")


@given('Kubernetes manifests in "deploy/" are finalized')
def step_manifests(context):
    release = current_release()
    documents = manifests.validate(manifests.render(release, "local", load_values("local")))
    kinds = sorted({d["kind"] for d in documents})
    assert kinds == [
        "Deployment",
        "Namespace",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "Service",
    ], kinds


@when("the user applies the Kubernetes manifests to the target cluster")
def step_apply(context):
    started = time.monotonic()
    context.deploy_result = _cli(context, "invoke deploy --environment local")
    context.deploy_seconds = time.monotonic() - started


@given('the "{name}" namespace does not exist')
def step_no_namespace(context, name):
    api = cluster_api(context)
    for namespace in api.get("namespaces"):
        if namespace.name == name:
            namespace.delete()
    wait_until(
        f"namespace {name} deleted",
        lambda: not [n for n in cluster_api(context).get("namespaces") if n.name == name],
        180,
        interval=1,
    )


@then("the deploy took at most {seconds:d} seconds and every TraderAdmin pod is Running and Ready")
def step_fresh_deploy_fast(context, seconds):
    assert _all_ready(context), [(a, _pods(context, a)) for a in COMPONENTS]
    assert context.deploy_seconds <= seconds, (
        f"invoke deploy took {context.deploy_seconds:.1f}s (limit {seconds}s)\n"
        + shown(context.deploy_result)
    )


@then("all required Deployments, Services, and PVCs are created")
def step_objects(context):
    api = cluster_api(context)
    found = {
        kind: sorted(o.name for o in api.get(kind, namespace=NAMESPACE))
        for kind in ("deployments", "services", "persistentvolumeclaims")
    }
    assert found == {
        "deployments": ["backend", "orchestrator"],
        "services": ["backend", "orchestrator"],
        "persistentvolumeclaims": ["backend-data"],
    }, found
    (claim,) = api.get("persistentvolumeclaims", namespace=NAMESPACE)
    assert claim.raw["status"]["phase"] == "Bound", claim.raw["status"]


@then('all Pods eventually reach the "Running" state and pass their readiness probes')
def step_running_ready(context):
    wait_until(
        "every TraderAdmin pod Running and Ready", lambda: _all_ready(context), 180, interval=2
    )
    for app in COMPONENTS:
        for state in _pods(context, app):
            assert state.phase == "Running" and state.ready, state


def _cluster_ip(context, service: str) -> str:
    (svc,) = [
        s for s in cluster_api(context).get("services", namespace=NAMESPACE) if s.name == service
    ]
    return svc.raw["spec"]["clusterIP"]


def cluster_ip_url(context, service: str, path: str) -> str:
    return f"http://{_cluster_ip(context, service)}:{PORTS[service]}{path}"


# A Service's new endpoints reach kube-proxy's rules a moment after the pods turn Ready, so
# a request right after a rollout can be refused (no rule yet) or sent to a pod that is gone
# (its connection times out). Nothing else is retried: a request that got through stands.
NOT_ROUTED_YET = (httpx.ConnectError, httpx.ConnectTimeout)


def cluster_ip_request(
    context, service: str, path: str, method: str = "GET", timeout: float = 30, **kwargs
) -> httpx.Response:
    """One request to a TraderAdmin Service on its ClusterIP (kube-proxy's rules also route
    this host's own traffic there), once kube-proxy routes it."""
    url = cluster_ip_url(context, service, path)
    return wait_until(
        f"{method} {url} to reach a pod",
        lambda: httpx.request(method, url, timeout=5, **kwargs),
        timeout,
        ignore=NOT_ROUTED_YET,
    )


@then('the {service} answers "{path}" with {code:d} on its ClusterIP')
def step_cluster_ip(context, service, path, code):
    response = cluster_ip_request(context, service, path)
    assert response.status_code == code, f"{response.url}: {response.status_code} {response.text}"


def _role_token(context, role: str) -> str:
    name = token_secrets(load_values("local"))[role]
    secret = Secret.get(name, namespace=NAMESPACE, api=cluster_api(context))
    return base64.b64decode(secret.raw["data"]["token"]).decode().splitlines()[0].strip()


@then("the backend on its ClusterIP closes its API to requests without a token")
def step_api_needs_token(context):
    for path in ("/api/v1/config", "/api/v1/audit", "/api/v1/status"):
        response = cluster_ip_request(context, "backend", path)
        assert response.status_code == 401, f"GET {path}: {response.status_code} {response.text}"


@then("the orchestrator's token reads the configuration but cannot change it")
def step_orchestrator_token_scoped(context):
    orchestrator = {"Authorization": f"Bearer {_role_token(context, 'orchestrator')}"}
    admin = {"Authorization": f"Bearer {_role_token(context, 'admin')}"}
    got = cluster_ip_request(context, "backend", "/api/v1/config", headers=orchestrator)
    assert got.status_code == 200, (
        f"GET with the orchestrator's token: {got.status_code} {got.text}"
    )
    put = cluster_ip_request(
        context,
        "backend",
        "/api/v1/config",
        "PUT",
        headers={**orchestrator, "If-Match": got.headers["ETag"]},
        content=got.content,
    )
    assert put.status_code == 403, (
        f"PUT with the orchestrator's token: {put.status_code} {put.text}"
    )
    audit = cluster_ip_request(context, "backend", "/api/v1/audit", headers=admin)
    assert audit.status_code == 200, f"GET audit with the admin token: {audit.status_code}"


@then("the orchestrator's pod mounts only its own token Secret")
def step_orchestrator_secrets(context):
    values = load_values("local")
    deployment = Deployment.get("orchestrator", namespace=NAMESPACE, api=cluster_api(context))
    volumes = deployment.raw["spec"]["template"]["spec"]["volumes"]
    secrets = {v["secret"]["secretName"] for v in volumes if "secret" in v}
    assert secrets == {values["orchestrator_token_secret"]}, secrets


@given("the TraderAdmin services are deployed and running in Kubernetes")
def step_deployed(context):
    api = cluster_api(context)
    if not [d for d in api.get("deployments", namespace=NAMESPACE)] or not _all_ready(context):
        _cli(context, "invoke images.build")
        _cli(context, "invoke deploy --environment local")
    wait_until(
        "every TraderAdmin pod Running and Ready", lambda: _all_ready(context), 180, interval=2
    )


def python_in_orchestrator_pod(context, program: str) -> str:
    """Run a Python program in the running orchestrator pod; its stdout and stderr."""
    (pod,) = [
        p
        for p in cluster_api(context).get(
            "pods",
            namespace=NAMESPACE,
            label_selector={"app.kubernetes.io/name": "orchestrator"},
        )
        if p.raw["status"].get("phase") == "Running"
    ]
    # kubectl, not kr8s' exec: kr8s' websocket exec never returned from this pod here.
    kubectl_exec = ["kubectl", "--context", CONTEXT, "-n", NAMESPACE, "exec", pod.name, "--"]
    result = run(None, [*kubectl_exec, "python3", "-c", program], timeout=60)
    return result.stdout + result.stderr


@then('a connection from the orchestrator pod to "{address}" is refused at once')
def step_orchestrator_connection_refused(context, address):
    host, port = address.rsplit(":", 1)
    probe = (
        "import socket, time\n"
        "started = time.monotonic()\n"
        "try:\n"
        f"    socket.create_connection(({host!r}, {int(port)}), timeout=5)\n"
        "    print('connected')\n"
        "except OSError as error:\n"
        "    print(type(error).__name__, error)\n"
        "print(f'after {time.monotonic() - started:.2f}s')\n"
    )
    output = python_in_orchestrator_pod(context, probe)
    assert "ConnectionRefusedError" in output, f"{address} from the orchestrator pod: {output}"
    seconds = float(output.rsplit("after ", 1)[1].rstrip("s\n"))
    assert seconds < 2, f"refused only after {seconds}s: {output}"
