"""Images inside the cluster's containerd: the cluster's own (pause, CoreDNS) and the release's."""

from __future__ import annotations

from pathlib import Path

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster.config import (
    COREDNS_IMAGE,
    PAUSE_IMAGE,
    PAUSE_VERSION,
    Layout,
)
from build_scripts.cluster.options import ClusterOptions, default_state_dir
from build_scripts.cluster.supervise import running_pid
from build_scripts.core import cmd
from build_scripts.core.components import RUNTIME_UID, image_reference
from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import Release


def import_images(layout: Layout, archives: list[Path]) -> None:
    """Import (again) the images the cluster itself needs.

    containerd 1.6 does not pin its sandbox image, so the kubelet's image GC may have removed
    pause; importing an unchanged archive is cheap and changes nothing.
    """
    for archive in archives:
        ctr_import(layout, archive, step="images", quiet=True)


def ctr_import(layout: Layout, archive: Path, *, step: str, quiet: bool = False) -> None:
    """Import an image archive into the cluster's containerd, namespace k8s.io (the CRI's)."""
    cmd.run(
        [
            "ctr",
            "--address",
            layout.containerd_socket,
            "--namespace",
            "k8s.io",
            "images",
            "import",
            # Also name each image by its digest (name@sha256:…), so pods can pin it.
            "--digests",
            archive,
        ],
        step=step,
        quiet=quiet,
    )


def import_docker_image(reference: str, *, state_dir: Path | None = None) -> None:
    """Copy an image from the local Docker engine into the cluster's containerd (k8s.io).

    Pods use it with imagePullPolicy IfNotPresent/Never: there is no registry here.
    """
    import tempfile

    from python_on_whales import docker

    layout = Layout(state_dir or default_state_dir())
    if running_pid(layout, "containerd") is None:
        raise ReleaseError("the local cluster is not running", "run: invoke cluster.up")
    with tempfile.TemporaryDirectory(prefix="traderadmin-image-") as scratch:
        archive = Path(scratch) / "image.tar"
        docker.image.save(reference, output=archive)
        ctr_import(layout, archive, step="image import")


def ensure_images(options: ClusterOptions, toolset: cluster_build.Toolset) -> list[Path]:
    images = cluster_build.kubernetes_dir(options.kubernetes_version) / "images"
    pause_binary = cluster_build.build_pause(
        options.kubernetes_version, PAUSE_VERSION, images / f"pause-{PAUSE_VERSION}"
    )
    pause = cluster_build.scratch_image_archive(
        pause_binary,
        PAUSE_IMAGE,
        images / f"pause-{PAUSE_VERSION}.tar",
        entrypoint=["/pause"],
        user="65535:65535",
    )
    coredns = cluster_build.scratch_image_archive(
        toolset.coredns,
        COREDNS_IMAGE,
        images / f"coredns-{options.coredns_version}.tar",
        entrypoint=["/coredns"],
        user=f"{RUNTIME_UID}:{RUNTIME_UID}",
        exposed_ports=("53/udp", "53/tcp", "9153/tcp"),
    )
    return [pause, coredns]


def load_release_images(release: Release, components: tuple[str, ...]) -> list[str]:
    """Copy the release's images from Docker into the local cluster's containerd.

    The local cluster has no registry to pull from; its pods use the imported images
    (imagePullPolicy IfNotPresent).
    """
    references = [image_reference(release, c) for c in components]
    for reference in references:
        import_docker_image(reference)
    return references
