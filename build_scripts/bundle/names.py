"""Where things are: the bundle's file name, its one top folder, and the paths inside it."""

from __future__ import annotations

from pathlib import Path

from build_scripts.core.metadata import Release

FORMAT = 1
DESCRIPTION = "bundle.json"
PROVENANCE = "provenance.intoto.json"
SUFFIX = "-bundle.tar"


def file_name(release: Release) -> str:
    return f"{release.product}-{release.version_text}{SUFFIX}"


def bundle_path(release: Release) -> Path:
    """dist/<version>/<product>-<version>-bundle.tar"""
    return release.dist_dir / file_name(release)


def top_folder(release: Release) -> str:
    """Every member lives below this one folder: `tar -xf` makes nothing else."""
    return file_name(release).removesuffix(".tar")


def layout_dir(component: str) -> str:
    return f"images/{component}"


def image_sbom(component: str) -> str:
    return f"sbom/image-{component}.cdx.json"


def manifests_file(environment: str) -> str:
    return f"deploy/{environment}.yaml"
