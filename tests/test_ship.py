"""The ship layer: any image source pinned to {component: PinnedImage}, manifests rendered once
with it, and the deploy sequence in the order the user sees (--confirm asks before the first
change). The cluster is a fake here (the scenarios of features/ deploy for real); the image
sources' Docker and containerd are fakes too, the manifests are rendered for real."""

from __future__ import annotations

import pytest
import yaml

from build_scripts.core import metadata
from build_scripts.core.errors import ConfigError
from build_scripts.kube import release_deploy
from build_scripts.kube.manifests import RenderedManifests
from build_scripts.ship import environment, images, sequence
from build_scripts.ship import release as shipping
from build_scripts.ship.images import PinnedImage, Preview

DIGEST = "sha256:" + "a" * 64


class FakeSource:
    """An image source that writes down what it was asked, in order."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def preview(self) -> Preview:
        self.events.append("preview")
        return Preview({}, ["import the image x into the local cluster"])

    def pin(self) -> dict[str, PinnedImage]:
        self.events.append("pin (the first change)")
        return {"backend": PinnedImage("backend", "traderadmin/backend:1.2.3", DIGEST)}


class FakeTarget:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def api(self):
        self.events.append("api")
        return object()

    def describe(self) -> str:
        return "context fake"


@pytest.fixture
def events(monkeypatch) -> list[str]:
    found: list[str] = []

    def ask_first(api, target, rendered, token_secrets, confirm, before=()):
        found.append(f"ask ({'; '.join(before)})")
        if not confirm("apply these changes?"):
            raise ConfigError("deploy not confirmed: nothing was applied")

    def deploy(api, target, rendered, *, token_secrets, release_version, options):
        found.append(f"deploy {release_version} {rendered.path.name}")

    monkeypatch.setattr(release_deploy, "ask_first", ask_first)
    monkeypatch.setattr(release_deploy, "deploy", deploy)
    return found


class FakeManifests:
    def __init__(self, events: list[str], folder) -> None:
        self.events, self.folder = events, folder

    def pinned_to(self, pinned, to):
        self.events.append(f"render {sorted(pinned)}")
        return RenderedManifests(to or self.folder / "deployed.yaml", ())

    def token_secrets(self):
        return {"admin": "s"}


def _shipment(events, tmp_path) -> sequence.Shipment:
    return sequence.Shipment("1.2.3", FakeSource(events), FakeManifests(events, tmp_path))


def _ship(shipment, events, answer, pin_title=None) -> None:
    sequence.ship(
        shipment, FakeTarget(events), _options(answer), title="deploy", pin_title=pin_title
    )


def _options(answer: bool | None) -> release_deploy.Options:
    return release_deploy.Options(confirm=None if answer is None else (lambda q: answer))


def test_without_confirm_the_images_are_pinned_then_rendered_once_then_deployed(events, tmp_path):
    _ship(_shipment(events, tmp_path), events, None)
    assert events == [
        "api",
        "pin (the first change)",
        "render ['backend']",
        "deploy 1.2.3 deployed.yaml",
    ]


def test_confirm_asks_before_the_first_change_and_a_no_changes_nothing(events, tmp_path):
    with pytest.raises(ConfigError, match="not confirmed"):
        _ship(_shipment(events, tmp_path), events, False)
    assert events == [
        "api",
        "preview",
        "render []",  # the preview's manifests, with what is known so far
        "ask (import the image x into the local cluster)",
    ]
    events.clear()
    _ship(_shipment(events, tmp_path), events, True)
    assert events.index("ask (import the image x into the local cluster)") < events.index(
        "pin (the first change)"
    )
    assert events[-1] == "deploy 1.2.3 deployed.yaml"


def test_a_source_with_a_step_of_its_own_pins_after_the_question_before_the_cluster(
    events, tmp_path
):
    _ship(_shipment(events, tmp_path), events, True, pin_title="import the bundle's images")
    assert events == [
        "preview",
        "render []",
        "api",
        "ask (import the image x into the local cluster)",
        "pin (the first change)",
        "api",
        "render ['backend']",
        "deploy 1.2.3 deployed.yaml",
    ]


# --- the release's own images ------------------------------------------------------------


@pytest.fixture
def release(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    return metadata.current_release("1.2.3")


@pytest.fixture
def docker(monkeypatch) -> dict:
    """Docker holds these references (-> image id); containerd holds the ids in `current`."""
    state = {"ids": {}, "current": {}, "imported": []}
    monkeypatch.setattr(images, "_docker_image_id", lambda ref: state["ids"].get(ref))
    monkeypatch.setattr(
        images.image_digests,
        "digest_if_current",
        lambda ref, image_id: state["current"].get(image_id),
    )
    monkeypatch.setattr(
        images.cluster_images, "import_docker_image", lambda ref: state["imported"].append(ref)
    )
    monkeypatch.setattr(images.image_digests, "imported_digest", lambda ref: DIGEST)
    monkeypatch.setattr(images.image_digests, "name_by_digest", lambda ref, digest: ref)
    return state


def test_local_images_import_what_the_cluster_lacks_and_record_the_digests(release, docker):
    backend, orchestrator = "traderadmin/backend:1.2.3", "traderadmin/orchestrator:1.2.3"
    docker["ids"] = {backend: "id-b", orchestrator: "id-o"}
    docker["current"] = {"id-o": "sha256:" + "o" * 64}
    source = images.LocalImages(release, ("backend", "orchestrator"))
    preview = source.preview()
    assert preview.changes == [f"import the image {backend} into the local cluster"]
    assert list(preview.known) == ["orchestrator"] and docker["imported"] == []
    pinned = source.pin()
    assert docker["imported"] == [backend]
    assert pinned["backend"].reference == f"{backend}@{DIGEST}"
    assert images.deploy_records.recorded_image_digests(release, "local") == {
        "backend": DIGEST,
        "orchestrator": "sha256:" + "o" * 64,
    }


def test_local_images_missing_in_docker_say_how_to_build_them(release, docker):
    with pytest.raises(ConfigError) as caught:
        images.LocalImages(release, ("backend",)).pin()
    assert caught.value.one_line().startswith("there is no image traderadmin/backend:1.2.3")
    assert "invoke images.build --version 1.2.3" in caught.value.one_line()


def test_pushed_images_need_a_recorded_push(release):
    source = images.PushedImages(release, ("backend",), "127.0.0.1:5000", "staging")
    assert source.preview().known == {}
    with pytest.raises(ConfigError, match=r"no pushed digest of backend 1\.2\.3 for registry"):
        source.pin()
    images.deploy_records.record_image_digests(release, "127.0.0.1:5000", {"backend": DIGEST})
    (pinned,) = source.pin().values()
    assert pinned.reference == f"127.0.0.1:5000/traderadmin/backend:1.2.3@{DIGEST}"


def test_the_release_is_rendered_pinned_to_its_images_and_overrides_stay_as_given(
    release, docker, events, tmp_path, monkeypatch
):
    docker["ids"] = {"traderadmin/backend:1.2.3": "id-b"}
    loads = []
    load_values = environment.load_values
    monkeypatch.setattr(environment, "load_values", lambda e: loads.append(e) or load_values(e))
    shipment = shipping.shipment(release, "local", ["orchestrator=example/orch:9"])
    assert shipment.source == images.LocalImages(release, ("backend",))
    rendered = shipment.manifests.pinned_to(shipment.source.pin(), tmp_path / "out.yaml")
    # The objects handed to the deploy are the file's, parsed once when rendered.
    written = tuple(d for d in yaml.safe_load_all(rendered.path.read_text()) if d)
    assert rendered.documents == written
    pods = [
        d["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in rendered.documents
        if d["kind"] == "Deployment"
    ]
    assert sorted(pods) == ["example/orch:9", f"traderadmin/backend:1.2.3@{DIGEST}"]
    assert rendered.namespace() == "traderadmin"
    assert set(rendered.deployments()) == {"backend", "orchestrator"}
    assert set(shipment.manifests.token_secrets()) == {"admin", "orchestrator"}
    assert loads == ["local"]  # the environment's values, loaded once for the whole deploy
