"""Steps for the local Kubernetes cluster: real pods, real probes, real DNS and storage.

The cluster is driven through the tasks a user runs (`invoke cluster.up/down/status`); the API
is read and written with kr8s. Images come from the local Docker engine, as the project's own
images do, and reach the cluster through the engine's `import_docker_image`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import kr8s
from _support import cluster_api, cluster_layout, run, shown, wait_until
from behave import given, then, when
from kr8s.objects import Deployment, Namespace, PersistentVolumeClaim, Pod, Service

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import host, image_digests, ownership, status, supervise
from build_scripts.cluster import images as cluster_images
from build_scripts.cluster import options as cluster_options
from build_scripts.core import daemon, paths

# A tiny static HTTP server (and client, for probing from inside another pod) as the "locally
# built image": features/fixtures/echo-image. FROM scratch: the binary is all there is, so it
# also exercises a non-root, read-only-root-filesystem container under Pod Security `restricted`.
ECHO_IMAGE = Path(__file__).resolve().parent.parent / "fixtures" / "echo-image"
# Built once per test run, whatever the number of scenarios that use it.
_IMAGES_READY: set[str] = set()

RESTRICTED_POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}


def _pod(context, name: str, spec: dict) -> Pod:
    """A Pod object (not created yet) in the scenario's namespace."""
    return Pod(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": context.namespace},
            "spec": spec,
        },
        api=cluster_api(context),
    )


def _pod_report(context, selector: dict | None = None, name: str | None = None) -> str:
    api = cluster_api(context)
    if name:
        pods = [Pod.get(name, namespace=context.namespace, api=api)]
    else:
        pods = list(api.get("pods", namespace=context.namespace, label_selector=selector))
    lines = []
    for pod in pods:
        pod.refresh()
        lines.append(f"pod {pod.name}: {pod.raw.get('status', {})}")
    events = api.get("events", namespace=context.namespace)
    lines += [f"event {e.raw.get('reason')}: {e.raw.get('message')}" for e in events]
    return "\n".join(lines)


# --- the cluster ------------------------------------------------------------------------------


@given("the local cluster is up")
def step_cluster_up(context):
    # Tasks put the engine's bin dir (kubectl) on PATH; so do we, for the commands we run.
    context.env_overrides["PATH"] = os.pathsep.join(
        [os.environ.get("PATH", ""), str(paths.bin_dir())]
    )
    started = time.monotonic()
    result = run(context, ["invoke", "cluster.up"])
    assert result.returncode == 0, shown(result, limit=6000)
    context.cluster_up_seconds = time.monotonic() - started
    context.kube = None


@then("the node is Ready")
def step_node_ready(context):
    node = next(iter(cluster_api(context).get("nodes")))
    conditions = {c["type"]: c["status"] for c in node.raw["status"]["conditions"]}
    assert conditions.get("Ready") == "True", node.raw["status"]


@then("every component of the cluster is running")
def step_every_component_running(context):
    result = status.status(cluster_options.ClusterOptions(state_dir=cluster_layout().root))
    assert result.healthy, status.format_status(result)


@given('the cluster component "{name}" has crashed')
def step_component_crashed(context, name):
    layout = cluster_layout()
    pid = supervise.running_pid(layout, name)
    assert pid is not None, f"{name} is not running"
    # SIGKILL, so nothing is cleaned up: the pid file stays, as after a real crash.
    os.kill(pid, 9)
    wait_until(f"{name} to die", lambda: supervise.running_pid(layout, name) is None, 30)


@then('the output shows the last line of the "{name}" log')
def step_output_shows_log_tail(context, name):
    last = daemon.log_tail(cluster_layout().log(name), 1)
    assert last, f"the {name} log is empty"
    assert f"| {last[0]}" in context.result.stdout, shown(context.result, limit=6000)


@then("no process of the local cluster is left")
def step_no_cluster_process(context):
    layout = cluster_layout()
    bin_dir = paths.cache_dir() / "kubernetes"
    survivors = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = daemon.cmdline(int(entry.name))
        if not argv:
            continue  # gone, or a zombie waiting to be reaped
        ours = argv[0].startswith(str(bin_dir)) or any(str(layout.root) in a for a in argv)
        try:
            cgroups = (entry / "cgroup").read_text()
        except OSError:
            cgroups = ""
        in_pods = any(f":{ownership.CGROUP_ROOT}/" in line for line in cgroups.splitlines())
        if ours or in_pods:
            survivors.append(f"{entry.name}: {' '.join(argv)}")
    assert not survivors, "\n".join(survivors)
    result = status.status(cluster_options.ClusterOptions(state_dir=layout.root))
    assert {c.state for c in result.components} == {"stopped"}, status.format_status(result)


@then("nothing is mounted under the cluster's state directory")
def step_nothing_mounted(context):
    root = cluster_layout().root
    mounts = host.mounts_under(root) if root.exists() else []
    assert not mounts, "\n".join(mounts)


@then("the cluster's state directory is gone")
def step_state_gone(context):
    assert not cluster_layout().root.exists(), sorted(os.listdir(cluster_layout().root))


@then('the user\'s kubeconfig has no "{name}" context')
def step_no_context(context, name):
    import yaml

    path = Path.home() / ".kube" / "config"
    if not path.exists():
        return
    config = yaml.safe_load(path.read_text()) or {}
    names = [c.get("name") for c in config.get("contexts") or []]
    assert name not in names, names


# --- workloads --------------------------------------------------------------------------------


@given("a namespace of its own")
def step_namespace(context):
    name = f"scenario-{secrets.token_hex(3)}"
    namespace = Namespace(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        api=cluster_api(context),
    )
    namespace.create()
    context.namespace = name

    def remove():
        with contextlib.suppress(kr8s.NotFoundError):
            namespace.delete(propagation_policy="Background")

    context.add_cleanup(remove)


@given('the image "{reference}" built with Docker and imported into the cluster')
def step_image(context, reference):
    from python_on_whales import docker

    context.image = reference
    if reference in _IMAGES_READY:
        # Built once per run, but a scenario in between may have wiped the cluster's
        # containerd (cluster.down --wipe): import again when it no longer holds the image.
        if image_digests.digest_if_current(reference, docker.image.inspect(reference).id) is None:
            cluster_images.import_docker_image(reference)
        return

    source = context.scratch / "echo-image"
    shutil.copytree(ECHO_IMAGE, source)
    build = subprocess.run(
        ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", "echo", "."],
        cwd=source,
        env={**os.environ, "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    # The Debian engine has no buildx; the classic builder is enough for FROM scratch.
    docker.legacy_build(source, tags=[reference])
    cluster_images.import_docker_image(reference)
    _IMAGES_READY.add(reference)


def _deployment(name: str, image: str, probe_path: str) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": RESTRICTED_POD_SECURITY,
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            # There is no registry: the image must already be in containerd.
                            "imagePullPolicy": "Never",
                            "args": ["serve"],
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "readinessProbe": {
                                "httpGet": {"path": probe_path, "port": 8080},
                                "periodSeconds": 2,
                                "failureThreshold": 2,
                            },
                            "livenessProbe": {
                                "httpGet": {"path": probe_path, "port": 8080},
                                "periodSeconds": 10,
                            },
                            "securityContext": RESTRICTED_CONTAINER_SECURITY,
                        }
                    ],
                },
            },
        },
    }


@when('I deploy "{name}" from that image with a readiness probe on "{path}"')
@given('"{name}" is deployed from that image with a readiness probe on "{path}"')
def step_deploy(context, name, path):
    api = cluster_api(context)
    body = _deployment(name, context.image, path)
    body["metadata"]["namespace"] = context.namespace
    Deployment(body, api=api).create()
    Service(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": context.namespace},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": "http"}]},
        },
        api=api,
    ).create()
    context.deployment = name


@then('the Deployment "{name}" becomes Available within {seconds:d} seconds')
def step_deployment_available(context, name, seconds):
    deployment = Deployment.get(name, namespace=context.namespace, api=cluster_api(context))

    def available() -> bool:
        deployment.refresh()
        conditions = deployment.raw.get("status", {}).get("conditions", [])
        return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)

    wait_until(
        f"Deployment {name} Available",
        available,
        seconds,
        lambda: _pod_report(context, selector={"app": name}),
    )


@then('its pod is Running with the readiness probe on "{path}" passing')
def step_pod_ready(context, path):
    pods = list(
        cluster_api(context).get(
            "pods", namespace=context.namespace, label_selector={"app": context.deployment}
        )
    )
    assert pods, f"no pods for {context.deployment}"
    for pod in pods:
        status = pod.raw["status"]
        assert status["phase"] == "Running", status
        container = pod.raw["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == path
        ready = {c["type"]: c["status"] for c in status["conditions"]}
        assert ready.get("Ready") == "True" and ready.get("ContainersReady") == "True", status
        assert all(c["ready"] and "running" in c["state"] for c in status["containerStatuses"])


@when("I create a pod that runs as root without a security context")
def step_violating_pod(context):
    pod = _pod(
        context,
        "runs-as-root",
        {
            "containers": [
                {
                    "name": "root",
                    "image": context.image,
                    "imagePullPolicy": "Never",
                    "securityContext": {"runAsUser": 0},
                }
            ]
        },
    )
    context.rejection = None
    try:
        pod.create()
    except kr8s.ServerError as error:
        context.rejection = error
    else:
        context.add_cleanup(pod.delete)


@then('the API server rejects it for violating the Pod Security level "{level}"')
def step_rejected(context, level):
    error = context.rejection
    assert error is not None, "the pod was admitted"
    assert error.response is not None and error.response.status_code == 403, error
    assert f'violates PodSecurity "{level}"' in str(error), str(error)
    assert not Pod(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "runs-as-root", "namespace": context.namespace},
        },
        api=cluster_api(context),
    ).exists()


def _run_once(context, name: str, args: list[str], claim: str | None = None) -> str:
    """Run the image once with `args` (optionally with `claim` at /data); its output."""
    spec = {
        "restartPolicy": "Never",
        "securityContext": RESTRICTED_POD_SECURITY,
        "containers": [
            {
                "name": "run",
                "image": context.image,
                "imagePullPolicy": "Never",
                "args": args,
                "securityContext": RESTRICTED_CONTAINER_SECURITY,
            }
        ],
    }
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    pod = _pod(
        context,
        name,
        spec,
    )
    pod.create()

    def finished() -> bool:
        pod.refresh()
        return pod.raw.get("status", {}).get("phase") in ("Succeeded", "Failed")

    wait_until(f"pod {name} to finish", finished, 120, lambda: _pod_report(context, name=name))
    output = "".join(pod.logs())
    assert pod.raw["status"]["phase"] == "Succeeded", f"{output}\n{_pod_report(context, name=name)}"
    return output


@given("a client pod running that image")
def step_client_pod(context):
    pod = _pod(
        context,
        "client",
        {
            "securityContext": RESTRICTED_POD_SECURITY,
            "containers": [
                {
                    "name": "client",
                    "image": context.image,
                    "imagePullPolicy": "Never",
                    "args": ["sleep"],
                    "securityContext": RESTRICTED_CONTAINER_SECURITY,
                }
            ],
        },
    )
    pod.create()
    wait_until(
        "the client pod Ready",
        lambda: pod.refresh() or pod.ready(),
        120,
        lambda: _pod_report(context, name="client"),
    )
    context.client = pod


def _get_from_client(context, url: str):
    return context.client.exec(["/echo", "get", url], check=False)


# kube-proxy programs a Service's new endpoint asynchronously (its sync loop), after the
# Deployment already reports Available; until then the pod isolation refuses the untranslated
# packet at once. So the first answer is awaited, for a bounded time.
SERVICE_PROGRAMMING_SECONDS = 30


def _answers_from_client(context, url: str) -> None:
    outputs: list[str] = []

    def answered() -> bool:
        result = _get_from_client(context, url)
        outputs.append(result.stdout.decode() + result.stderr.decode())
        return result.returncode == 0 and "echo from " in outputs[-1]

    wait_until(
        f"{url} to answer from the client pod",
        answered,
        SERVICE_PROGRAMMING_SECONDS,
        lambda: f"last output: {outputs[-1] if outputs else '(none)'}",
        interval=0.5,
    )


@then('the Service "{name}" answers on its ClusterIP from the client pod')
def step_cluster_ip_answers(context, name):
    service = Service.get(name, namespace=context.namespace, api=cluster_api(context))
    _answers_from_client(context, f"http://{service.raw['spec']['clusterIP']}/")


@then('the Service answers on its DNS name "{template}" from the client pod')
def step_dns_answers(context, template):
    _answers_from_client(context, f"http://{template.format(namespace=context.namespace)}/")


@when('I claim "{size}" of storage as "{name}" without naming a StorageClass')
def step_claim(context, size, name):
    PersistentVolumeClaim(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": context.namespace},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}},
            },
        },
        api=cluster_api(context),
    ).create()


@then('the claim "{name}" is Bound within {seconds:d} seconds')
def step_claim_bound(context, name, seconds):
    claim = PersistentVolumeClaim.get(name, namespace=context.namespace, api=cluster_api(context))

    def bound() -> bool:
        claim.refresh()
        return claim.raw.get("status", {}).get("phase") == "Bound"

    wait_until(f"claim {name} Bound", bound, seconds, lambda: str(claim.raw))
    assert claim.raw["spec"]["storageClassName"] == "local-path", claim.raw["spec"]


@when('a pod writes "{text}" to the claim "{name}" and is deleted')
def step_write_claim(context, text, name):
    _run_once(context, "writer", ["write", "/data/message", text], claim=name)
    writer = Pod.get("writer", namespace=context.namespace, api=cluster_api(context))
    writer.delete()
    wait_until("the writer pod to be gone", lambda: not writer.exists(), 60)


@then('a new pod mounting the claim "{name}" reads "{text}"')
def step_read_claim(context, name, text):
    output = _run_once(context, "reader", ["read", "/data/message"], claim=name)
    assert output == text, repr(output)


@given('the cluster program "{name}" is owned by another user')
def step_program_owned_by_another_user(context, name):
    program = cluster_build.kubernetes_dir() / "bin" / name
    before = program.stat()
    os.chown(program, 1000, 1000)
    context.add_cleanup(os.chown, program, before.st_uid, before.st_gid)
