import pytest
import yaml

from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import current_release
from build_scripts.kube import manifests
from build_scripts.ship.environment import load_values


@pytest.fixture(scope="module")
def release():
    return current_release("1.2.3")


@pytest.fixture(scope="module", params=["local", "production"])
def documents(request, release):
    return manifests.validate(_render(release, request.param))


def _render(release, environment, *args, **kwargs):
    return manifests.render(release, environment, load_values(environment), *args, **kwargs)


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
    local = manifests.validate(_render(release, "local"))
    images = [
        c["image"]
        for d in _kind(local, "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    ]
    assert images == ["traderadmin/backend:1.2.3", "traderadmin/orchestrator:1.2.3"]


def test_unknown_environment_names_the_choices(release):
    with pytest.raises(ConfigError) as caught:
        _render(release, "staging")
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
        _render(release, "broken")
    assert "storage" in caught.value.one_line()


def _deployment(documents, name):
    return next(d for d in _kind(documents, "Deployment") if d["metadata"]["name"] == name)


def test_the_orchestrator_never_runs_twice(documents):
    # RollingUpdate would run the old and the new orchestrator's strategies at once.
    strategy = _deployment(documents, "orchestrator")["spec"]["strategy"]
    assert strategy == {"type": "Recreate"}


def test_every_deployment_has_a_progress_deadline(documents):
    for deployment in _kind(documents, "Deployment"):
        assert deployment["spec"]["progressDeadlineSeconds"] > 0, deployment["metadata"]


def test_images_are_pinned_to_the_digests_given(release):
    digests = {"backend": "sha256:" + "a" * 64, "orchestrator": "sha256:" + "b" * 64}
    pinned = manifests.validate(_render(release, "production", digests))
    images = [
        c["image"]
        for d in _kind(pinned, "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    ]
    assert images == [
        f"registry.example.com/traderadmin-team/traderadmin/backend:1.2.3@{digests['backend']}",
        "registry.example.com/traderadmin-team/traderadmin/orchestrator:1.2.3@"
        + digests["orchestrator"],
    ]


def test_network_policies_deny_by_default_and_open_only_the_named_paths(documents):
    policies = {p["metadata"]["name"]: p["spec"] for p in _kind(documents, "NetworkPolicy")}
    assert policies["default-deny"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    dns = policies["allow-cluster-dns"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    egress = policies["orchestrator-to-backend"]["egress"]
    assert egress == [
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "backend"}}}],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]
    ingress = policies["backend-ingress"]["ingress"]
    assert ingress[0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orchestrator"}}}
    ]


def test_the_admin_path_to_the_backend_is_set_per_environment(release):
    local = manifests.validate(_render(release, "local"))
    production = manifests.validate(_render(release, "production"))

    def ingress(docs):
        (policy,) = [
            p for p in _kind(docs, "NetworkPolicy") if p["metadata"]["name"] == "backend-ingress"
        ]
        return policy["spec"]["ingress"]

    assert len(ingress(local)) == 1
    assert len(ingress(production)) == 2
    assert {"ipBlock": {"cidr": "10.8.0.0/16"}} in ingress(production)[1]["from"]


@pytest.mark.parametrize("environment", ["local", "production"])
def test_rendered_manifests_pass_the_offline_schema_check(release, environment, tmp_path):
    from build_scripts.kube import validate

    rendered = manifests.write_rendered(
        release, environment, load_values(environment), to=tmp_path / f"{environment}.yaml"
    )
    problems, version = validate.schema_problems(rendered)
    assert problems == [] and version == "1.34"


def test_image_overrides_are_used_as_given_and_bad_ones_refused(release):
    overrides = manifests.parse_image_overrides(["orchestrator=x/o:1"], ("backend", "orchestrator"))
    docs = manifests.validate(_render(release, "local", {"backend": "sha256:1"}, overrides))
    images = [
        c["image"]
        for d in _kind(docs, "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    ]
    assert images == ["traderadmin/backend:1.2.3@sha256:1", "x/o:1"]
    for bad in ("frontend=x", "orchestrator=", "orchestrator"):
        with pytest.raises(ConfigError):
            manifests.parse_image_overrides([bad], ("backend", "orchestrator"))


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
    values = load_values("old")
    assert values["admin_token_secret"] == "traderadmin-api-token"
    assert "token_secret" not in values


def test_the_release_annotates_each_pod_template_with_its_image_id(release):
    ids = {"backend": "sha256:" + "b" * 64, "orchestrator": "sha256:" + "c" * 64}
    text = _render(release, "local", image_ids=ids)
    for deployment in _kind(manifests.validate(text), "Deployment"):
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {manifests.IMAGE_ID_ANNOTATION: ids[deployment["metadata"]["name"]]}
    untouched = manifests.validate(_render(release, "local"))
    for deployment in _kind(untouched, "Deployment"):
        assert "annotations" not in deployment["spec"]["template"]["metadata"]


def test_an_environment_with_one_secret_for_both_token_roles_is_refused(tmp_path, monkeypatch):
    environments = tmp_path / "deploy" / "environments"
    environments.mkdir(parents=True)
    local = yaml.safe_load((manifests.deploy_dir() / "environments" / "local.yaml").read_text())
    local["orchestrator_token_secret"] = local["admin_token_secret"]
    (environments / "same.yaml").write_text(yaml.safe_dump(local))
    monkeypatch.setattr(manifests, "deploy_dir", lambda: tmp_path / "deploy")
    with pytest.raises(ConfigError) as caught:
        load_values("same")
    assert "each role needs a Secret of its own" in caught.value.one_line()
