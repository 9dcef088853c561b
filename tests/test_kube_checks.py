"""Manifest validation, status rows, containerd digests and backup archives (kube wing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from build_scripts.cluster.image_digests import digest_from_listing, normalized
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import current_release
from build_scripts.kube import backup, manifests, release_deploy, status, validate
from build_scripts.kube.wait import Snapshot
from build_scripts.ship.environment import load_values


@pytest.fixture
def rendered(tmp_path) -> Path:
    path = tmp_path / "local.yaml"
    path.write_text(manifests.render(current_release("1.2.3"), "local", load_values("local")))
    return path


def _edit(path: Path, change) -> manifests.RenderedManifests:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    change(docs)
    path.write_text(yaml.safe_dump_all(docs))
    return release_deploy.read_manifests(path)


def _backend(docs):
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "backend")


def test_a_misspelt_field_names_file_object_and_field(rendered):
    def typo(docs):
        _backend(docs)["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"

    problems, _ = validate.schema_problems(_edit(rendered, typo))
    assert len(problems) == 1
    line = problems[0].line()
    assert str(rendered) in line and "Deployment/backend" in line
    assert "spec.template.spec.containers.0" in line and "imagePullPolcy" in line


def test_a_wrong_type_names_the_field(rendered):
    problems, _ = validate.schema_problems(
        _edit(rendered, lambda docs: _backend(docs)["spec"].update(replicas="one"))
    )
    assert [(p.obj, p.field) for p in problems] == [("Deployment/backend", "spec.replicas")]
    with pytest.raises(ConfigError) as caught:
        validate.raise_for(problems, "schema check")
    assert "spec.replicas" in caught.value.one_line()


def test_manifests_that_are_not_yaml_fail_as_the_schema_check_does(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("kind: Namespace\nmetadata: {name: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        release_deploy.read_manifests(path)
    line = caught.value.one_line()
    assert line.startswith(f"schema check (Kubernetes {validate.KUBERNETES_VERSION}): {path}")
    assert "(file): not valid YAML" in line


def test_dry_run_output_is_turned_into_problems(tmp_path):
    path = tmp_path / "m.yaml"
    output = (
        'The Deployment "backend" is invalid: spec.template.spec.containers[0].image: '
        "Required value\n"
    )
    (problem,) = validate.dry_run_problems(path, output, 1)
    assert (problem.obj, problem.field) == (
        "Deployment/backend",
        "spec.template.spec.containers[0].image",
    )
    warning = (
        'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != '
        'false (container "x")\ndeployment.apps/orchestrator serverside-applied (server dry run)'
    )
    (problem,) = validate.dry_run_problems(path, warning, 0)
    assert "PodSecurity" in problem.message
    assert (
        validate.dry_run_problems(path, "namespace/x serverside-applied (server dry run)", 0) == []
    )


def test_containerd_digest_of_exactly_the_reference():
    listing = (
        "REF TYPE DIGEST SIZE PLATFORMS LABELS\n"
        "docker.io/traderadmin/backend:1.2.3 application/vnd.docker.distribution.manifest.v2+json "
        "sha256:aaa 5.0 MiB linux/amd64 io.cri-containerd.image=managed\n"
        "docker.io/traderadmin/backend:1.2.30 application/vnd.docker.distribution.manifest.v2+json "
        "sha256:bbb 5.0 MiB linux/amd64 -\n"
    )
    assert normalized("traderadmin/backend:1.2.3") == "docker.io/traderadmin/backend:1.2.3"
    assert normalized("localhost:5000/x/y:1") == "localhost:5000/x/y:1"
    assert digest_from_listing(listing, "traderadmin/backend:1.2.3") == "sha256:aaa"
    assert digest_from_listing(listing, "traderadmin/backend:9") is None


def test_status_rows_show_version_readiness_restarts_and_last_event():
    deployment = {
        "metadata": {
            "name": "backend",
            "uid": "d",
            "generation": 1,
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": {
            "replicas": 1,
            "template": {"metadata": {"labels": {"app.kubernetes.io/version": "1.2.3"}}},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "availableReplicas": 1,
            "readyReplicas": 1,
            "conditions": [{"type": "Progressing", "reason": "NewReplicaSetAvailable"}],
        },
    }
    rs = {
        "metadata": {
            "uid": "r",
            "labels": {"pod-template-hash": "h"},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "ownerReferences": [{"uid": "d"}],
        }
    }
    pod = {
        "metadata": {
            "name": "backend-h-1",
            "labels": {"pod-template-hash": "h"},
            "ownerReferences": [{"uid": "r"}],
        },
        "status": {"containerStatuses": [{"ready": True, "restartCount": 2, "state": {}}]},
    }
    events = [
        {"involvedObject": {"name": "backend-h-1"}, "reason": "Started", "lastTimestamp": "2"},
        {"involvedObject": {"name": "other"}, "reason": "Killing", "lastTimestamp": "3"},
        {"involvedObject": {"name": "backend"}, "reason": "Scaled", "lastTimestamp": "1"},
    ]
    (row,) = status.rows(Snapshot({"backend": deployment}, [rs], [pod]), events)
    assert (row.workload, row.version, row.ready, row.restarts, row.rollout) == (
        "deployment/backend",
        "1.2.3",
        "1/1",
        2,
        "done",
    )
    assert row.last_event.startswith("Started")
    assert "1.2.3" in status.table([row])


def test_backup_archive_round_trip(tmp_path):
    meta = {"etag": '"abc"', "epoch": 1_700_000_000, "namespace": "traderadmin"}
    path = tmp_path / "b.tar.gz"
    path.write_bytes(backup.archive_bytes(meta, b'{"strategies": []}', b'{"entries": []}'))
    read_meta, config = backup.read_archive(path)
    assert read_meta["etag"] == '"abc"' and json.loads(config) == {"strategies": []}


def test_a_file_that_is_no_backup_is_refused(tmp_path):
    path = tmp_path / "x.tar.gz"
    path.write_bytes(b"not an archive")
    with pytest.raises(ConfigError) as caught:
        backup.read_archive(path)
    assert str(path) in caught.value.one_line()


def test_the_config_digest_of_a_manifest_is_dockers_image_id():
    from build_scripts.cluster.image_digests import config_digest

    assert config_digest('{"config": {"digest": "sha256:c"}, "layers": []}') == "sha256:c"
    assert config_digest("not json") is None


def test_the_pinned_name_drops_the_tag(monkeypatch):
    from build_scripts.cluster import image_digests

    seen = []
    monkeypatch.setattr(image_digests, "_ctr", lambda layout, *args: seen.append(args) or "")
    pinned = image_digests.name_by_digest("traderadmin/backend:1.2.3", "sha256:abc")
    assert pinned == "docker.io/traderadmin/backend@sha256:abc"
    assert seen == [("images", "tag", "--force", "docker.io/traderadmin/backend:1.2.3", pinned)]


def test_a_port_forward_stop_losing_asyncios_close_race_is_not_a_failure():
    class Forward:
        def __init__(self, error):
            self.error = error

        def stop(self):
            raise self.error

    # What asyncio's Server._wakeup raises when it runs a second time.
    backup.stop_port_forward(Forward(TypeError("'NoneType' object is not iterable")))
    with pytest.raises(OSError):
        backup.stop_port_forward(Forward(OSError("anything else still shows")))
