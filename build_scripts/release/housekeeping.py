"""Removing what old snapshot builds left behind: release folders in dist/ and their images.

Every commit is a new snapshot version, so dist/<version>/ and the traderadmin/* image tags
grow by one per commit built. Tagged releases (versions without a pre-release part) and the
newest snapshots are kept.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from build_scripts.core import docker_engine, on_first_use, paths
from build_scripts.core.components import COMPONENTS, image_name
from build_scripts.core.errors import ConfigError, InvalidVersion
from build_scripts.core.metadata import Release, parse_version
from build_scripts.release import state

whales = on_first_use.module("python_on_whales")


@dataclass
class Cleanup:
    kept: list[str] = field(default_factory=list)
    removed_folders: list[Path] = field(default_factory=list)
    removed_tags: list[str] = field(default_factory=list)


def old_snapshots(versions: list[tuple[str, float]], current: str, keep: int) -> list[str]:
    """Which snapshot versions to remove: all but the `keep` newest (by time) and `current`.

    Versions that are not SemVer snapshots (releases, foreign folders) are never chosen.
    """
    snapshots = []
    for version, made in versions:
        try:
            if parse_version(version).prerelease and version != current:
                snapshots.append((made, version))
        except InvalidVersion:
            continue
    snapshots.sort(reverse=True)
    return [version for _, version in snapshots[keep:]]


def clean(release: Release, keep: int) -> Cleanup:
    if keep < 0:
        raise ConfigError(f"--keep {keep}: must be 0 or more")
    dist = paths.dist_root()
    folders = {p.name: p for p in dist.iterdir() if p.is_dir()} if dist.exists() else {}
    built = _snapshot_images(release) if docker_engine.is_answering() else []
    # A version's age: its release folder, or its images (built from other clones, e.g. CI).
    made: dict[str, float] = {name: p.stat().st_mtime for name, p in folders.items()}
    for version, created, _ in built:
        made[version] = max(made.get(version, 0.0), created)
    doomed = set(old_snapshots(list(made.items()), release.version_text, keep))
    result = Cleanup(kept=sorted(set(made) - doomed))
    for version in sorted(doomed & set(folders)):
        shutil.rmtree(folders[version])
        # The step records of that folder (they live in the cache, see state.py).
        shutil.rmtree(state.state_dir(folders[version]), ignore_errors=True)
        result.removed_folders.append(folders[version])
    for version, _, tags in built:
        if version in doomed:
            result.removed_tags += _remove_tags(tags)
    return result


def _snapshot_images(release: Release) -> list[tuple[str, float, list[str]]]:
    """(version label, creation time, tags) of every image of our components."""
    found = []
    for name in COMPONENTS:
        for image in whales.docker.image.list(image_name(release, name)):
            version = (image.config.labels or {}).get("org.opencontainers.image.version")
            if version:
                found.append((version, image.created.timestamp(), list(image.repo_tags)))
    return found


def _remove_tags(tags: list[str]) -> list[str]:
    removed = []
    for tag in tags:
        try:
            whales.docker.image.remove(tag)
            removed.append(tag)
        except whales.DockerException:
            pass  # in use by a container: keep it
    return removed
