import pytest
import yaml

from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import current_release
from build_scripts.kube import manifests


@pytest.fixture(scope="module")
def release():
    return current_release("1.2.3")


@pytest.fixture(scope="module", params=["local", "production"])
def documents(request, release):
    return manifests.validate(manifests.render(release, request.param))


def _kind(documents, kind):
    return [d for d in documents if d["kind"] == kind]


def test_everything_lives_in_the_traderadmin_namespace(documents):
    namespaces = _kind(documents, "Namespace")
    assert [n["metadata"]["name"] for n in namespaces] == ["traderadmin"]
    labels = namespaces[0]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in documents:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "traderadmin", doc["metadata"]


def test_each_container_has_probes_requests_and_limits(documents):
    deployments = _kind(documents, "Deployment")
    assert sorted(d["metadata"]["name"] for d in deployments) == ["backend", "orchestrator"]
    for deployment in deployments:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            for section in ("requests", "limits"):
                assert set(container["resources"][section]) == {"cpu", "memory"}


def test_pods_meet_the_restricted_pod_security_standard(documents):
    for deployment in _kind(documents, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context["readOnlyRootFilesystem"] is True


def test_services_are_cluster_ip_and_select_their_pods(documents):
    services = {s["metadata"]["name"]: s for s in _kind(documents, "Service")}
    assert set(services) == {"backend", "orchestrator"}
    for name, service in services.items():
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["selector"] == {"app.kubernetes.io/name": name}


def test_backend_data_is_on_a_claim_it_mounts(documents):
    (claim,) = _kind(documents, "PersistentVolumeClaim")
    backend = next(d for d in _kind(documents, "Deployment") if d["metadata"]["name"] == "backend")
    volumes = backend["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}} in (
        volumes
    )
    assert backend["spec"]["strategy"]["type"] == "Recreate"


def test_images_carry_the_release_tag(release):
    local = manifests.validate(manifests.render(release, "local"))
    images = [
        c["image"]
        for d in _kind(local, "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    ]
    assert images == ["traderadmin/backend:1.2.3", "traderadmin/orchestrator:1.2.3"]


def test_unknown_environment_names_the_choices(release):
    with pytest.raises(ConfigError) as caught:
        manifests.render(release, "staging")
    assert "local" in caught.value.hint and "production" in caught.value.hint


def test_missing_value_names_the_key(release, tmp_path, monkeypatch):
    deploy = tmp_path / "deploy"
    (deploy / "environments").mkdir(parents=True)
    (deploy / "templates").symlink_to(manifests.deploy_dir() / "templates")
    values = yaml.safe_load((manifests.deploy_dir() / "environments" / "local.yaml").read_text())
    del values["backend"]["storage"]
    (deploy / "environments" / "broken.yaml").write_text(yaml.safe_dump(values))
    monkeypatch.setattr(manifests, "deploy_dir", lambda: deploy)
    with pytest.raises(ConfigError) as caught:
        manifests.render(release, "broken")
    assert "storage" in caught.value.one_line()


def _mounted_secrets(deployment):
    pod = deployment["spec"]["template"]["spec"]
    return {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}


def test_backend_gets_both_role_tokens_and_the_orchestrator_only_its_own(documents):
    deployments = {d["metadata"]["name"]: d for d in _kind(documents, "Deployment")}
    admin, orchestrator = "traderadmin-api-token", "traderadmin-orchestrator-token"
    assert _mounted_secrets(deployments["backend"]) == {admin, orchestrator}
    assert _mounted_secrets(deployments["orchestrator"]) == {orchestrator}
    (backend,) = deployments["backend"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in backend["env"]}
    assert env["BACKEND_ADMIN_TOKEN_FILE"].endswith("/admin/token")
    assert env["BACKEND_ORCHESTRATOR_TOKEN_FILE"].endswith("/orchestrator/token")
    assert not {"BACKEND_TOKEN", "BACKEND_TOKEN_FILE"} & set(env)
    (container,) = deployments["orchestrator"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["ORCHESTRATOR_TOKEN_FILE"].endswith("/orchestrator/token")
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert not any(m.endswith("/admin") for m in mounts)


def test_the_older_token_secret_value_names_the_admin_secret(tmp_path, monkeypatch):
    environments = tmp_path / "deploy" / "environments"
    environments.mkdir(parents=True)
    local = (manifests.deploy_dir() / "environments" / "local.yaml").read_text()
    old = local.replace("admin_token_secret:", "token_secret:")
    (environments / "old.yaml").write_text(old)
    monkeypatch.setattr(manifests, "deploy_dir", lambda: tmp_path / "deploy")
    values = manifests.load_values("old")
    assert values["admin_token_secret"] == "traderadmin-api-token"
    assert "token_secret" not in values
