"""Images as OCI image layouts (skopeo), read back, and copied on from the bundle.

The bundle's images come from the `docker save` archives the images step wrote, not from the
Docker engine: the graph's own outputs are the inputs, and making a bundle needs no daemon.
An OCI layout is content-addressed: index.json names the manifest by digest, and every blob
lives under blobs/sha256/<its own digest>. That digest is what the bundle's manifests pin.
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

from build_scripts.core import cmd
from build_scripts.core.errors import VerificationFailed

INDEX = "index.json"
LAYOUT_MARKER = "oci-layout"
REF_NAME = "org.opencontainers.image.ref.name"


def layout_from_archive(archive: Path, reference: str, destination: Path, tag: str) -> str:
    """`skopeo copy docker-archive:ARCHIVE:REF oci:DESTINATION:TAG`; the manifest digest."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    cmd.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            f"docker-archive:{archive}:{reference}",
            f"oci:{destination}:{tag}",
        ],
        step=f"oci {destination.name}",
        hint="skopeo converts the saved image into an OCI layout; is the archive complete?",
    )
    return manifest_digest(json.loads((destination / INDEX).read_text()), str(destination))


def manifest_digest(index: dict, where: str) -> str:
    """The digest of the one image manifest an index.json names."""
    try:
        manifests = index["manifests"]
        digests = [m["digest"] for m in manifests]
    except (KeyError, TypeError) as exc:
        raise VerificationFailed(f"{where}/{INDEX} is not an OCI image index") from exc
    if len(digests) != 1 or not str(digests[0]).startswith("sha256:"):
        raise VerificationFailed(f"{where}/{INDEX} names {len(digests)} manifests, not one")
    return digests[0]


def blob_name(layout: str, digest: str) -> str:
    """The path of a blob inside the bundle: <layout>/blobs/sha256/<hex>."""
    algorithm, _, hexdigest = digest.partition(":")
    return f"{layout}/blobs/{algorithm}/{hexdigest}"


def layout_problems(layout: str, files: dict[str, str], small: dict[str, bytes]) -> list[str]:
    """What is wrong with one image layout in the bundle.

    files: bundle path -> sha256 of its content; small: the content of small files. Every blob
    must be named by its own digest; the index must name one manifest, present, whose config
    and layers are present too.
    """
    problems = []
    prefix = f"{layout}/blobs/"
    for path, digest in sorted(files.items()):
        if path.startswith(prefix) and path != blob_name(layout, f"sha256:{digest}"):
            problems.append(f"{path} does not match its name (its sha256 is {digest})")
    for needed in (INDEX, LAYOUT_MARKER):
        if f"{layout}/{needed}" not in files:
            problems.append(f"{layout}/{needed} is missing")
    if problems:
        return problems
    try:
        digest = manifest_digest(json.loads(small[f"{layout}/{INDEX}"]), layout)
        manifest = json.loads(small[blob_name(layout, digest)])
        wanted = [manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])]
    except VerificationFailed as exc:
        return [exc.message]
    except (KeyError, TypeError, ValueError):
        return [f"{layout}: its manifest is missing or not an OCI image manifest"]
    return [
        f"{blob_name(layout, d)} is missing (named by the image manifest)"
        for d in wanted
        if blob_name(layout, d) not in files
    ]


def archive_of_layout(layout: Path, destination: Path) -> Path:
    """The layout as a tar (an OCI archive), which `ctr images import` reads."""
    with tarfile.open(destination, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(layout.rglob("*")):
            archive.add(path, arcname=path.relative_to(layout).as_posix(), recursive=False)
    return destination


def push(layout: Path, tag: str, target: str) -> str:
    """Copy the layout to `docker://TARGET` keeping its digests; the digest the registry holds.

    Plain HTTP only for a registry on this machine (127.0.0.1/localhost), as Docker does.
    """
    digest_file = layout.parent / f".{layout.name}.pushed-digest"
    host = target.split("/", 1)[0]
    local = host.split(":")[0] in ("127.0.0.1", "localhost", "[::1]")
    cmd.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--preserve-digests",
            *(["--dest-tls-verify=false"] if local else []),
            "--digestfile",
            digest_file,
            f"oci:{layout}:{tag}",
            f"docker://{target}",
        ],
        step=f"push {layout.name}",
        hint=f"is a registry answering at {host}? (a local one: invoke images.registry)",
    )
    try:
        return digest_file.read_text().strip()
    finally:
        os.unlink(digest_file)
