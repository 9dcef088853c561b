"""Images inside the cluster's containerd: the cluster's own (pause, CoreDNS) and the release's."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster.build import kubernetes_source
from build_scripts.cluster.config import (
    COREDNS_IMAGE,
    PAUSE_IMAGE,
    PAUSE_VERSION,
    Layout,
)
from build_scripts.cluster.options import ClusterOptions, default_state_dir
from build_scripts.cluster.supervise import running_pid
from build_scripts.core import atomic, cmd
from build_scripts.core.components import RUNTIME_UID
from build_scripts.core.errors import ReleaseError


def import_images(layout: Layout, archives: list[Path]) -> None:
    """Import (again) the images the cluster itself needs.

    containerd 1.6 does not pin its sandbox image, so the kubelet's image GC may have removed
    pause; importing an unchanged archive is cheap and changes nothing.
    """
    for archive in archives:
        ctr_import(layout, archive, step="images", quiet=True)


def ctr_import(
    layout: Layout,
    archive: Path,
    *,
    step: str,
    quiet: bool = False,
    base_name: str | None = None,
) -> None:
    """Import an image archive into the cluster's containerd, namespace k8s.io (the CRI's).

    base_name names an archive whose manifest carries a tag only (an OCI layout's): it
    becomes <base_name>:<tag>.
    """
    cmd.run(
        [
            "ctr",
            "--address",
            layout.containerd_socket,
            "--namespace",
            "k8s.io",
            "images",
            "import",
            *(["--base-name", base_name] if base_name else []),
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
    pause_binary = build_pause(
        options.kubernetes_version, PAUSE_VERSION, images / f"pause-{PAUSE_VERSION}"
    )
    pause = scratch_image_archive(
        pause_binary,
        PAUSE_IMAGE,
        images / f"pause-{PAUSE_VERSION}.tar",
        entrypoint=["/pause"],
        user="65535:65535",
    )
    coredns = scratch_image_archive(
        toolset.coredns,
        COREDNS_IMAGE,
        images / f"coredns-{options.coredns_version}.tar",
        entrypoint=["/coredns"],
        user=f"{RUNTIME_UID}:{RUNTIME_UID}",
        exposed_ports=("53/udp", "53/tcp", "9153/tcp"),
    )
    return [pause, coredns]


def build_pause(version: str, pause_version: str, destination: Path) -> Path:
    """The pause binary from build/pause/linux/pause.c, static, as Kubernetes' Makefile does."""
    if os.access(destination, os.X_OK):
        return destination
    source = kubernetes_source(version) / "build" / "pause" / "linux" / "pause.c"
    with atomic.atomic_path(destination, mode=0o755) as tmp:
        _compile_pause(source, pause_version, tmp)
    return destination


def _compile_pause(source: Path, pause_version: str, output: Path) -> None:
    cmd.run(
        [
            "gcc",
            "-Os",
            "-Wall",
            "-Werror",
            "-static",
            f"-DVERSION=v{pause_version}-traderadmin",
            "-o",
            output,
            source,
        ],
        step="pause",
    )


def _tar_member(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    return info, data


def scratch_image_archive(
    binary: Path,
    reference: str,
    destination: Path,
    *,
    entrypoint: list[str],
    user: str = "",
    exposed_ports: tuple[str, ...] = (),
) -> Path:
    """A `docker save`-format archive of a FROM-scratch image holding one static binary.

    Deterministic: the same binary gives the same image ID, so re-importing changes nothing.
    """
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w", format=tarfile.PAX_FORMAT) as layer:
        info, data = _tar_member(entrypoint[0].lstrip("/"), binary.read_bytes(), 0o755)
        layer.addfile(info, io.BytesIO(data))
    layer_bytes = layer_buffer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Entrypoint": entrypoint,
            "User": user,
            "ExposedPorts": {p: {} for p in exposed_ports},
            "Env": ["PATH=/"],
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [
            {
                "created": "1970-01-01T00:00:00Z",
                "created_by": f"traderadmin: COPY {binary.name} {entrypoint[0]}",
            }
        ],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.split(":", 1)[1] + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [reference], "Layers": [layer_name]}]
    with (
        atomic.atomic_path(destination) as tmp,
        tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name, data in (
            (config_name, config_bytes),
            (layer_name, layer_bytes),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info, payload = _tar_member(name, data)
            archive.addfile(info, io.BytesIO(payload))
    return destination


def image_id(archive: Path) -> str:
    """The config digest (image ID) of a `docker save`-format archive."""
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    return "sha256:" + manifest[0]["Config"].removesuffix(".json")
