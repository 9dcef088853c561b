"""The digests of images in the local cluster's containerd, for manifests that pin them."""

from __future__ import annotations

from pathlib import Path

from build_scripts.cluster.config import Layout
from build_scripts.cluster.options import default_state_dir
from build_scripts.core import cmd
from build_scripts.core.errors import ReleaseError


def normalized(reference: str) -> str:
    """containerd's full name of a Docker-style reference: traderadmin/x:1 -> docker.io/…"""
    first = reference.split("/", 1)[0]
    if "/" not in reference or not ("." in first or ":" in first or first == "localhost"):
        return f"docker.io/{reference if '/' in reference else 'library/' + reference}"
    return reference


def digest_from_listing(listing: str, reference: str) -> str | None:
    """The DIGEST column of `ctr images ls` for exactly this reference."""
    wanted = normalized(reference)
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == wanted and fields[2].startswith("sha256:"):
            return fields[2]
    return None


def imported_digest(reference: str, *, state_dir: Path | None = None) -> str:
    """The manifest digest containerd holds for an imported image (kubelet resolves it)."""
    layout = Layout(state_dir or default_state_dir())
    digest = digest_from_listing(_ctr(layout, "images", "ls"), reference)
    if digest is None:
        raise ReleaseError(
            f"{reference} is not in the local cluster's containerd after the import",
            "run: invoke images.build, then invoke deploy again",
        )
    return digest


def _ctr(layout: Layout, *arguments: str) -> str:
    return cmd.output_of(
        ["ctr", "--address", layout.containerd_socket, "--namespace", "k8s.io", *arguments],
        step="ctr",
    )


def config_digest(manifest: str) -> str | None:
    """The config digest (= Docker's image id) named by an image manifest's JSON."""
    import json

    try:
        return json.loads(manifest)["config"]["digest"]
    except (ValueError, KeyError, TypeError):
        return None


def digest_if_current(
    reference: str, image_id: str, *, state_dir: Path | None = None
) -> str | None:
    """The manifest digest of `reference` in containerd if it holds the image `image_id`
    (Docker's id, the config digest) already; None if it must be imported (again)."""
    layout = Layout(state_dir or default_state_dir())
    try:
        digest = digest_from_listing(_ctr(layout, "images", "ls"), reference)
        if digest is None:
            return None
        return digest if config_digest(_ctr(layout, "content", "get", digest)) == image_id else None
    except ReleaseError:
        return None


def name_by_digest(reference: str, digest: str, *, state_dir: Path | None = None) -> str:
    """Also name the image `name@digest` in containerd, the name the CRI resolves a pinned
    reference (`name:tag@digest`) by; `ctr import --digests` names it `import-<date>@digest`."""
    layout = Layout(state_dir or default_state_dir())
    full = normalized(reference)
    pinned = f"{full.rsplit(':', 1)[0] if ':' in full.split('/')[-1] else full}@{digest}"
    _ctr(layout, "images", "tag", "--force", full, pinned)
    return pinned
