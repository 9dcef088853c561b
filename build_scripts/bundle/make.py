"""Making the bundle: one tar streamed from the release folder, signed, written atomically.

What goes in: the files the release steps made (installer, desktop binaries, SBOMs), each
image as an OCI layout converted from its saved archive, the manifests of every environment
rendered pinned to the digests of exactly those layouts, an in-toto provenance statement of
the bundle's content, bundle.json (what is where), SHA256SUMS over every file and, with a key,
SHA256SUMS.asc. Each file is hashed as it is streamed into the tar (one read), the tar is
written under a temporary name and renamed into place only when complete (atomic_path).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from build_scripts.bundle import names, oci, signing
from build_scripts.core import atomic, sums
from build_scripts.core.artifacts import Artifact, Kind, human_size
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.kube import manifests
from build_scripts.ship import environment as environment_values


@dataclass(frozen=True)
class Image:
    component: str
    name: str  # traderadmin/backend
    tag: str
    archive: Path  # the `docker save` archive the images step wrote


@dataclass(frozen=True)
class Plan:
    """What the bundle holds besides images and manifests: bundle path -> file in dist/."""

    files: dict[str, Path]
    images: list[Image]
    environments: list[str]


class _Hashing:
    """A reader that hashes what tarfile copies out of it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        return block


class _Writer:
    """Members below one top folder, with fixed owners and times; records each sha256."""

    def __init__(self, archive: tarfile.TarFile, top: str, mtime: int) -> None:
        self.archive, self.top, self.mtime = archive, top, mtime
        self.digests: dict[str, str] = {}
        self.folders: set[str] = set()

    def _info(self, path: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(f"{self.top}/{path}" if path else self.top)
        info.type, info.mode, info.size, info.mtime = kind, mode, size, self.mtime
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    def _folders_of(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for depth in range(len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in self.folders:
                self.folders.add(folder)
                self.archive.addfile(self._info(folder, tarfile.DIRTYPE, 0o755))

    def add_file(self, path: str, source: Path) -> None:
        self._folders_of(path)
        executable = source.stat().st_mode & 0o111
        info = self._info(path, tarfile.REGTYPE, 0o755 if executable else 0o644)
        info.size = source.stat().st_size
        with open(source, "rb") as handle:
            reader = _Hashing(handle)
            self.archive.addfile(info, reader)  # type: ignore[arg-type]
        self.digests[path] = reader.digest.hexdigest()

    def add_bytes(self, path: str, data: bytes) -> None:
        self._folders_of(path)
        info = self._info(path, tarfile.REGTYPE, 0o644, len(data))
        self.archive.addfile(info, io.BytesIO(data))
        self.digests[path] = hashlib.sha256(data).hexdigest()


def environment_facts(environment: str) -> dict:
    """What deploying one environment from the bundle needs besides its manifests."""
    values = environment_values.load_values(environment)
    return {
        "manifests": names.manifests_file(environment),
        "namespace": values["namespace"],
        "token_secrets": environment_values.token_secrets(values),
        "local_cluster": bool(values.get("load_images_into_local_cluster")),
        "registry": values.get("image_registry") or "",
    }


def description(
    release: Release, images: dict[str, dict], environments: dict[str, dict], signed: bool
) -> dict:
    return {
        "format": names.FORMAT,
        "product": release.product,
        "version": release.version_text,
        "commit": release.commit,
        "source_date_epoch": release.source_date_epoch,
        "signature": (
            {"format": "OpenPGP detached signature, ASCII-armoured", "file": signing.SIGNATURE_NAME}
            if signed
            else signing.UNSIGNED
        ),
        "images": images,
        "environments": environments,
    }


def make_bundle(
    release: Release,
    plan: Plan,
    *,
    signer: signing.Signer | None,
    provenance: Callable[[list[tuple[str, str]]], dict],
) -> Artifact:
    """Write dist/<version>/<product>-<version>-bundle.tar; its Artifact, noting the signer
    or `unsigned`."""
    destination = names.bundle_path(release)
    with tempfile.TemporaryDirectory(prefix="traderadmin-bundle-") as scratch:
        images: dict[str, dict] = {}
        layouts: dict[str, Path] = {}
        for image in plan.images:
            layout = Path(scratch) / image.component
            digest = oci.layout_from_archive(
                image.archive, f"{image.name}:{image.tag}", layout, image.tag
            )
            layouts[image.component] = layout
            images[image.component] = {
                "name": image.name,
                "tag": image.tag,
                "layout": names.layout_dir(image.component),
                "digest": digest,
                "sbom": names.image_sbom(image.component),
            }
            say(f"  {image.name}:{image.tag} → {names.layout_dir(image.component)} ({digest})")
        pinned = {c: facts["digest"] for c, facts in images.items()}
        environments = {env: environment_facts(env) for env in plan.environments}
        with atomic.atomic_path(destination) as tmp:
            with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as archive:
                writer = _Writer(archive, names.top_folder(release), release.source_date_epoch)
                for path, source in sorted(plan.files.items()):
                    writer.add_file(path, source)
                for component, layout in sorted(layouts.items()):
                    for file in sorted(p for p in layout.rglob("*") if p.is_file()):
                        relative = file.relative_to(layout).as_posix()
                        writer.add_file(f"{names.layout_dir(component)}/{relative}", file)
                for environment in plan.environments:
                    values = environment_values.load_values(environment)
                    text = manifests.render(release, environment, values, pinned)
                    writer.add_bytes(names.manifests_file(environment), text.encode())
                statement = provenance(sorted(writer.digests.items()))
                writer.add_bytes(names.PROVENANCE, _json(statement))
                writer.add_bytes(
                    names.DESCRIPTION,
                    _json(description(release, images, environments, signer is not None)),
                )
                sums_text = sums.format_sums(writer.digests).encode()
                writer.add_bytes(sums.FILE_NAME, sums_text)
                signed_by = signing.UNSIGNED
                if signer is not None:
                    signature, fingerprint = signing.sign(sums_text, signer)
                    writer.add_bytes(signing.SIGNATURE_NAME, signature)
                    signed_by = f"signed by {fingerprint}"
            count = len(writer.digests)
    size = human_size(destination.stat().st_size)
    say(f"  {destination.name}: {count} files, {len(images)} images, {size}, {signed_by}")
    note = f"air-gapped bundle, {len(images)} images, {signed_by}"
    return Artifact(destination, note, Kind.BUNDLE)


def facts(release: Release) -> dict:
    """For release.json: the bundle's file, its signature state and its images' digests."""
    wanted = f"{names.top_folder(release)}/{names.DESCRIPTION}"
    with tarfile.open(names.bundle_path(release), "r|") as archive:
        for member in archive:
            if member.name == wanted and (handle := archive.extractfile(member)):
                found = json.loads(handle.read())
                return {
                    "bundle": {
                        "file": names.file_name(release),
                        "signature": found["signature"],
                        "images": {c: i["digest"] for c, i in sorted(found["images"].items())},
                    }
                }
    return {}


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()
