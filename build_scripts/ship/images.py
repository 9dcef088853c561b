"""Where a deploy's images come from, as one typed map {component: PinnedImage}.

Three sources, one shape (Skaffold's build hands deploy `{image: digest}` whatever built it):
the release's images in the local Docker engine, imported into the local cluster's containerd
(LocalImages); the digests a push to the environment's registry recorded (PushedImages); and an
air-gapped bundle's OCI layouts (bundle/image_source.py's BundleImages). Each says first, without
changing anything, what it already knows and what it would do (`preview`, for --confirm), then
makes the images available and pins them (`pin`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from build_scripts.cluster import image_digests
from build_scripts.cluster import images as cluster_images
from build_scripts.core.components import image_reference
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.kube import deploy_records


@dataclass(frozen=True)
class PinnedImage:
    component: str
    # The name the digest belongs to: traderadmin/backend:1.2.3, or below a registry.
    name: str
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.digest}"


@dataclass(frozen=True)
class Preview:
    """What a source knows before it changes anything, and what it would change first."""

    known: dict[str, PinnedImage] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)


class ImageSource(Protocol):
    def preview(self) -> Preview: ...

    def pin(self) -> dict[str, PinnedImage]: ...


def digests(pinned: dict[str, PinnedImage]) -> dict[str, str]:
    """component -> digest, what the manifests are rendered with."""
    return {component: image.digest for component, image in pinned.items()}


def _docker_image_id(reference: str) -> str | None:
    from python_on_whales import DockerException, docker

    try:
        return docker.image.inspect(reference).id
    except DockerException:
        return None


@dataclass(frozen=True)
class LocalImages:
    """The release's images from Docker, imported into the local cluster (those it does not
    hold yet); the digests containerd holds are recorded and pinned."""

    release: Release
    components: tuple[str, ...]

    def preview(self) -> Preview:
        known, changes = {}, []
        for component in self.components:
            reference = image_reference(self.release, component)
            image_id = _docker_image_id(reference)
            if image_id is None:
                continue  # pin() says how to build it
            digest = image_digests.digest_if_current(reference, image_id)
            if digest:
                known[component] = PinnedImage(component, reference, digest)
            else:
                changes.append(f"import the image {reference} into the local cluster")
        return Preview(known, changes)

    def pin(self) -> dict[str, PinnedImage]:
        pinned = {}
        for component in self.components:
            reference = image_reference(self.release, component)
            image_id = _docker_image_id(reference)
            if image_id is None:
                raise ConfigError(
                    f"there is no image {reference} in Docker",
                    f"build it first: invoke images.build --version {self.release.version_text}",
                )
            digest = image_digests.digest_if_current(reference, image_id)
            if digest:
                say(f"  {reference}: already in the cluster as {digest[:19]}")
            else:
                cluster_images.import_docker_image(reference)
                digest = image_digests.imported_digest(reference)
            image_digests.name_by_digest(reference, digest)
            pinned[component] = PinnedImage(component, reference, digest)
        if pinned:
            deploy_records.record_image_digests(self.release, "local", digests(pinned))
        return pinned


@dataclass(frozen=True)
class PushedImages:
    """The digests `invoke images.push` recorded for the environment's registry."""

    release: Release
    components: tuple[str, ...]
    registry: str
    environment: str

    def _recorded(self) -> dict[str, PinnedImage]:
        recorded = deploy_records.recorded_image_digests(self.release, self.registry)
        return {
            component: PinnedImage(
                component, image_reference(self.release, component, self.registry), digest
            )
            for component, digest in recorded.items()
        }

    def preview(self) -> Preview:
        return Preview(self._recorded())

    def pin(self) -> dict[str, PinnedImage]:
        pinned = self._recorded()
        missing = [c for c in self.components if c not in pinned]
        if missing:
            raise ConfigError(
                f"no pushed digest of {', '.join(missing)} {self.release.version_text} for "
                f"registry {self.registry!r} (environment {self.environment}) in "
                f"{deploy_records.records_dir(self.release)}",
                f"push the images first: invoke images.push --registry {self.registry}",
            )
        return pinned


def where(values: dict) -> str:
    """Where an environment's images come from: the local cluster's containerd ("local"),
    or its registry."""
    if values.get("load_images_into_local_cluster"):
        return "local"
    return values.get("image_registry") or ""


def source_for(
    release: Release, values: dict, environment: str, components: tuple[str, ...]
) -> ImageSource:
    """The source of a release's images for an environment (by its values)."""
    found = where(values)
    if found == "local":
        return LocalImages(release, components)
    return PushedImages(release, components, found, environment)
