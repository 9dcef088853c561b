"""Steps for deploy safety: refused and rolled-back releases, backups, data across undeploys,
and the NetworkPolicies enforced by the local cluster's policy engine."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx
from _support import cluster_api, run, shown, wait_until
from behave import given, then, when
from deployment_steps import (
    NAMESPACE,
    _cli,
    cluster_ip_request,
    cluster_ip_url,
    python_in_orchestrator_pod,
)
from kr8s.objects import Secret
from pod_network_steps import refused_at_once
from python_on_whales import docker

from build_scripts.cluster.config import CONTEXT
from build_scripts.core.components import COMPONENTS, image_reference
from build_scripts.core.metadata import current_release
from build_scripts.kube import manifests
from build_scripts.kube.rollout import judge, version_of
from build_scripts.kube.wait import snapshot
from build_scripts.ship.environment import load_values, token_secrets

# The orchestrator's own entrypoint replaced by one that exits 1 at once.
CRASHING_DOCKERFILE = """\
FROM {base}
ENTRYPOINT ["python3", "-c", "raise SystemExit(1)"]
"""


@given("the current release is deployed")
def step_current_release(context):
    _cli(context, "invoke images.build")
    _cli(context, "invoke deploy")
    release = current_release()
    context.previous_version = release.image_tag
    context.previous_images = _images(context)
    context.previous_orchestrator_version = _orchestrator_version(context)


def _orchestrator_version(context) -> dict:
    response = cluster_ip_request(context, "orchestrator", "/version")
    assert response.status_code == 200, f"{response.url}: {response.status_code} {response.text}"
    return response.json()


def _deployments(context) -> dict[str, dict]:
    return snapshot(cluster_api(context), NAMESPACE).deployments


def _images(context) -> dict[str, str]:
    return {
        name: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for name, d in _deployments(context).items()
    }


@given('a release "{version}" whose orchestrator exits 1 at start')
def step_crashing_release(context, version):
    current = current_release()
    crashing = current_release(version)
    source = context.scratch / "crashing-orchestrator"
    source.mkdir()
    (source / "Dockerfile").write_text(
        CRASHING_DOCKERFILE.format(base=image_reference(current, "orchestrator"))
    )
    # Built with no network: FROM the release's own image, which is local.
    docker.legacy_build(source, tags=[image_reference(crashing, "orchestrator")], network="none")
    docker.image.tag(image_reference(current, "backend"), image_reference(crashing, "backend"))
    context.add_cleanup(
        lambda: docker.image.remove([image_reference(crashing, c) for c in COMPONENTS], force=True)
    )


def _deploy_expecting_failure(context, command: str) -> None:
    started = time.monotonic()
    context.deploy_result = run(context, command)
    context.deploy_seconds = time.monotonic() - started


@when('the user deploys release "{version}"')
def step_deploy_release(context, version):
    _deploy_expecting_failure(context, f"invoke deploy --version {version}")


@when('the user deploys with the orchestrator image "{reference}"')
def step_deploy_image(context, reference):
    _deploy_expecting_failure(context, f"invoke deploy --image orchestrator={reference}")


@then(
    'the deploy fails within {seconds:d} seconds with one line naming "{component}", "{reason}" '
    'and "{outcome}"'
)
def step_deploy_refused(context, seconds, component, reason, outcome):
    result = context.deploy_result
    assert result.returncode != 0, shown(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, shown(result)
    line = errors[0]
    for part in (component, reason, outcome, context.previous_version):
        assert part in line, f"{part!r} not in the error line {line!r}\n{shown(result)}"
    assert context.deploy_seconds <= seconds, (
        f"reported after {context.deploy_seconds:.0f}s (limit {seconds}s)\n{shown(result)}"
    )


@then("every TraderAdmin Deployment is rolled out with the previous version")
def step_previous_version(context):
    state = snapshot(cluster_api(context), NAMESPACE)
    from datetime import UTC, datetime

    for name in COMPONENTS:
        deployment = state.deployments[name]
        verdict = judge(
            deployment, state.replicasets, state.pods, now=datetime.now(UTC), readiness_bound=60
        )
        assert verdict.done, verdict.line()
        assert version_of(deployment) == context.previous_version, version_of(deployment)
    assert _images(context) == context.previous_images, (_images(context), context.previous_images)


@then("the orchestrator reports the previous version")
def step_orchestrator_version(context):
    assert _orchestrator_version(context) == context.previous_orchestrator_version


# --- the configuration -----------------------------------------------------------------------


def _etag(context) -> str:
    def answer():
        try:
            response = httpx.get(
                cluster_ip_url(context, "backend", "/api/v1/config"),
                headers=_auth(context),
                timeout=5,
            )
        except httpx.HTTPError:  # also while kube-proxy routes the new pod's endpoint
            return None
        return response.headers.get("etag") if response.status_code == 200 else None

    return wait_until("the backend to serve its configuration", answer, 60)


def _auth(context) -> dict[str, str]:
    """The admin token (reads are authenticated too), read afresh: a wipe makes a new one."""
    values = load_values("local")
    secret = Secret.get(values["admin_token_secret"], namespace=NAMESPACE, api=cluster_api(context))
    token = base64.b64decode(secret.raw["data"]["token"]).decode().split()[0]
    return {"Authorization": f"Bearer {token}"}


@given("the configuration was changed through the backend's API")
def step_change_configuration(context):
    response = cluster_ip_request(context, "backend", "/api/v1/config", headers=_auth(context))
    assert response.status_code == 200, response.text
    config = response.json()
    strategy = config["strategies"][0]
    changed = cluster_ip_request(
        context,
        "backend",
        f"/api/v1/strategies/{strategy['name']}",
        "PATCH",
        json={"enabled": not strategy.get("enabled", False)},
        headers={**_auth(context), "If-Match": response.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    context.changed_etag = changed.headers["etag"]
    assert context.changed_etag != response.headers["etag"]


@when('the user runs "invoke deploy.backup" into the scenario\'s directory')
def step_backup(context):
    result = _cli(context, f"invoke deploy.backup --directory {context.scratch / 'backups'}")
    (archive,) = (context.scratch / "backups").glob("traderadmin-backup-*.tar.gz")
    assert str(archive) in result.stdout, shown(result)
    context.backup = archive


@when("the release is undeployed with its data and deployed again")
def step_wipe(context):
    _cli(context, "invoke deploy.undeploy --delete-data")
    _cli(context, "invoke deploy")


@then("the configuration is not the backed-up one")
def step_not_backed_up(context):
    assert _etag(context) != context.changed_etag


@when('the user restores that backup with "invoke deploy.restore"')
def step_restore(context):
    context.restore_result = _cli(context, f"invoke deploy.restore {context.backup}")


@then("the configuration has the backed-up ETag")
@then("the configuration has the ETag it had before the undeploy")
def step_same_etag(context):
    assert _etag(context) == context.changed_etag


@when('the user runs "invoke deploy.undeploy"')
def step_undeploy(context):
    context.undeploy_result = _cli(context, "invoke deploy.undeploy")


@then('no TraderAdmin pod is left but the claim "{claim}" and the API token Secret are')
def step_kept(context, claim):
    api = cluster_api(context)
    assert not list(api.get("pods", namespace=NAMESPACE)), shown(context.undeploy_result)
    assert not list(api.get("deployments", namespace=NAMESPACE))
    claims = [c.name for c in api.get("persistentvolumeclaims", namespace=NAMESPACE)]
    assert claims == [claim], claims
    secrets = [s.name for s in api.get("secrets", namespace=NAMESPACE)]
    for name in token_secrets(load_values("local")).values():
        assert name in secrets, (name, secrets)


# --- NetworkPolicy ---------------------------------------------------------------------------


def _backend_pod_ip(context) -> str:
    (pod,) = cluster_api(context).get(
        "pods", namespace=NAMESPACE, label_selector={"app.kubernetes.io/name": "backend"}
    )
    return pod.raw["status"]["podIP"]


@then(
    "the client pod's request to the backend is refused at once, by its Service and its pod address"
)
def step_client_refused(context):
    for url in (
        f"http://backend.{NAMESPACE}.svc.cluster.local:8080/readyz",
        f"http://{_backend_pod_ip(context)}:8080/readyz",
    ):
        refused_at_once(context, url)


@then("a connection from the orchestrator pod to the backend succeeds")
def step_orchestrator_reaches_backend(context):
    probe = (
        "import urllib.request\n"
        f"print(urllib.request.urlopen('http://backend.{NAMESPACE}.svc:8080/readyz', "
        "timeout=5).status)\n"
    )
    output = python_in_orchestrator_pod(context, probe)
    assert re.search(r"^200$", output, re.M), f"from the orchestrator pod: {output}"


@when(
    'the pod of each Deployment in the "{environment}" manifests is created there'
    " by a server-side dry run"
)
def step_dry_run_pods(context, environment):
    # The namespace enforces "restricted" (every namespace but kube-system does), and
    # PodSecurity enforces on pods only (on Deployments it merely warns): so each Deployment's
    # pod template is sent as a Pod. A dry run: admission runs in full, nothing is stored.
    documents = manifests.validate(
        manifests.render(current_release(), environment, load_values(environment))
    )
    context.dry_runs = {}
    for document in documents:
        if document["kind"] != "Deployment":
            continue
        name = document["metadata"]["name"]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": context.namespace},
            "spec": document["spec"]["template"]["spec"],
        }
        context.dry_runs[name] = run(
            None,
            ["kubectl", "--context", CONTEXT, "create", "--dry-run=server", "-f", "-"],
            timeout=60,
            stdin_text=json.dumps(pod),
        )


@then("the API server admits every one of them")
def step_all_admitted(context):
    answers = context.dry_runs
    assert set(answers) == {"backend", "orchestrator"}, sorted(answers)
    refused = {name: shown(answer) for name, answer in answers.items() if answer.returncode != 0}
    assert not refused, refused
