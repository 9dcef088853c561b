"""Moving images off this machine: archives for `docker load`, and pushes to a registry."""

from __future__ import annotations

import contextlib
import json
import re
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import docker_engine, on_first_use
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.images import normalize
from build_scripts.images.bases import docker_errors
from build_scripts.images.build import inspect_image, smoke_version
from build_scripts.images.specs import component, image_tags

whales = on_first_use.module("python_on_whales")


def images_dir(release: Release) -> Path:
    return release.dist_dir / "images"


def archive_path(release: Release, name: str) -> Path:
    return images_dir(release) / f"{name}.tar"


def saved_image_ids(archive: Path) -> set[str]:
    """The image ids (config digests) inside a `docker save` archive."""
    try:
        with tarfile.open(archive) as saved:
            handle = saved.extractfile("manifest.json")
            manifest = json.loads(handle.read()) if handle else []
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return set()
    ids = set()
    for entry in manifest:
        config = entry.get("Config", "")
        ids.add("sha256:" + Path(config).name.removesuffix(".json"))
    return ids


def _existing(release: Release, name: str) -> tuple[tuple[str, ...], whales.Image]:
    tags = image_tags(release, name)
    image = inspect_image(tags[0])
    if image is None:
        raise ConfigError(f"there is no image {tags[0]}", "build it first: invoke images.build")
    return tags, image


def save_images(release: Release, names: Iterable[str]) -> list[Path]:
    """dist/<version>/images/<component>.tar with both tags, for `docker load` elsewhere.

    The archive is the reproducible form of the image (images/normalize.py), and Docker holds
    that very image afterwards: its id is the archive's config digest.
    """
    docker_engine.ensure_running()
    written = []
    for name in names:
        component(name)
        tags, image = _existing(release, name)
        archive = archive_path(release, name)
        if archive.exists() and saved_image_ids(archive) == {image.id}:
            say(f"{name}: {archive} already holds {image.id[:19]}")
        else:
            save_reproducible(release, name, tags, image, archive)
        written.append(archive)
    return written


def base_layers(image: whales.Image) -> list[str]:
    """The diff_ids of the image's runtime base (named by its OCI label) when present here and
    the image starts with its layers; [] otherwise (then every layer is rewritten)."""
    base_name = (image.config.labels or {}).get("org.opencontainers.image.base.name", "")
    base = inspect_image(base_name) if base_name else None
    if base is None:
        return []
    layers, own = list(base.root_fs.layers or []), list(image.root_fs.layers or [])
    return layers if own[: len(layers)] == layers else []


def save_reproducible(
    release: Release, name: str, tags: tuple[str, ...], image: whales.Image, archive: Path
) -> normalize.Normalized:
    """docker save, rewritten in the normal form at SOURCE_DATE_EPOCH, then `docker load`ed
    so the tags name the image the archive holds; the image as built is removed."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    say(f"+ docker save {tags[0]} | normalize (SOURCE_DATE_EPOCH {release.source_date_epoch})")
    with (
        tempfile.TemporaryDirectory(prefix=".save-", dir=archive.parent) as scratch,
        docker_errors(f"save {name}"),
    ):
        saved = Path(scratch) / "saved.tar"
        whales.docker.image.save(tags[0], output=saved)
        result = normalize.normalize_archive(
            saved,
            archive,
            epoch=release.source_date_epoch,
            tags=tags,
            keep_diff_ids=base_layers(image),
        )
    say(f"+ docker load --input {archive}")
    with docker_errors(f"load {name}"):
        whales.docker.image.load(archive, quiet=True)
        loaded = whales.docker.image.inspect(tags[0]).id
    if loaded != result.image_id:
        raise VerificationFailed(
            f"docker load of {archive} gave {loaded}, not its config digest {result.image_id}"
        )
    if result.image_id != image.id:
        # Built here a moment ago and untagged now; a tag elsewhere keeps it.
        with contextlib.suppress(whales.DockerException):
            whales.docker.image.remove(image.id)
    printed = smoke_version(release, component(name), result.image_id)
    say(
        f"{name}: {result.image_id[:19]} ({result.rewritten} layer(s) normalized), "
        f"--version: {printed}"
    )
    return result


def parse_registry(text: str | None) -> str:
    """HOST[:PORT] of a registry (no scheme, no path)."""
    value = (text or "").strip().rstrip("/")
    if not value:
        raise ConfigError("no registry given", "pass one: invoke images.push --registry HOST:PORT")
    if "://" in value or "/" in value or not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", value):
        raise ConfigError(
            f"invalid registry {text!r}", "give HOST:PORT without a scheme, e.g. 127.0.0.1:5000"
        )
    return value


@dataclass(frozen=True)
class Pushed:
    component: str
    references: tuple[str, ...]
    digest: str


def push_images(release: Release, names: Iterable[str], registry: str) -> list[Pushed]:
    """Push both tags of each image to registry; return the manifest digest it stored."""
    registry = parse_registry(registry)
    docker_engine.ensure_running()
    pushed = []
    for name in names:
        component(name)
        tags, _ = _existing(release, name)
        remote = tuple(f"{registry}/{tag}" for tag in tags)
        hint = f"is a registry answering at {registry}? (a local one: invoke images.registry)"
        with docker_errors(f"push {name}", hint):
            for local, target in zip(tags, remote, strict=True):
                whales.docker.image.tag(local, target)
            try:
                for target in remote:
                    say(f"+ docker push {target}")
                    whales.docker.image.push(target, quiet=True)
                repository = remote[0].rsplit(":", 1)[0]
                digests = [
                    d.split("@", 1)[1]
                    for d in whales.docker.image.inspect(remote[0]).repo_digests
                    if d.startswith(repository + "@")
                ]
            finally:
                # The registry copy is what counts; the local registry-named tags are clutter.
                with contextlib.suppress(whales.DockerException):
                    whales.docker.image.remove(list(remote))
        if not digests:
            raise VerificationFailed(f"{registry} returned no digest for {remote[0]}")
        say(f"{name}: pushed {', '.join(remote)} as {digests[0]}")
        pushed.append(Pushed(name, remote, digests[0]))
    return pushed
