"""Moving images off this machine: archives for `docker load`, and pushes to a registry."""

from __future__ import annotations

import contextlib
import json
import re
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerException, Image, docker

from build_scripts.core import atomic, docker_engine
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.images.bases import docker_errors
from build_scripts.images.build import inspect_image
from build_scripts.images.specs import component, image_tags


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


def _existing(release: Release, name: str) -> tuple[tuple[str, ...], Image]:
    tags = image_tags(release, name)
    image = inspect_image(tags[0])
    if image is None:
        raise ConfigError(f"there is no image {tags[0]}", "build it first: invoke images.build")
    return tags, image


def save_images(release: Release, names: Iterable[str]) -> list[Path]:
    """dist/<version>/images/<component>.tar with both tags, for `docker load` elsewhere."""
    docker_engine.ensure_running()
    written = []
    for name in names:
        component(name)
        tags, image = _existing(release, name)
        archive = archive_path(release, name)
        if archive.exists() and saved_image_ids(archive) == {image.id}:
            say(f"{name}: {archive} already holds {image.id[:19]}")
        else:
            say(f"+ docker save --output {archive} {' '.join(tags)}")
            with atomic.atomic_path(archive) as tmp, docker_errors(f"save {name}"):
                docker.image.save(list(tags), output=tmp)
        written.append(archive)
    return written


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
                docker.image.tag(local, target)
            try:
                for target in remote:
                    say(f"+ docker push {target}")
                    docker.image.push(target, quiet=True)
                repository = remote[0].rsplit(":", 1)[0]
                digests = [
                    d.split("@", 1)[1]
                    for d in docker.image.inspect(remote[0]).repo_digests
                    if d.startswith(repository + "@")
                ]
            finally:
                # The registry copy is what counts; the local registry-named tags are clutter.
                with contextlib.suppress(DockerException):
                    docker.image.remove(list(remote))
        if not digests:
            raise VerificationFailed(f"{registry} returned no digest for {remote[0]}")
        say(f"{name}: pushed {', '.join(remote)} as {digests[0]}")
        pushed.append(Pushed(name, remote, digests[0]))
    return pushed
