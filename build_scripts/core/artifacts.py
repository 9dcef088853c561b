"""What a step produces: typed artifacts with their checksums, and size budgets.

An artifact says what kind of file it is and what it is of (a platform, a component, an
environment); a later step picks what it needs from the artifacts of the steps it needs by
kind (`select`), as GoReleaser's pipes filter one typed list, never by where a path usually is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from build_scripts.core.errors import (
    VerificationFailed,
)

MB = 1_000_000  # sizes and budgets in SI megabytes, as `docker images` shows them


def check_budget(path: Path, max_mb: float, what: str) -> str:
    """'10.5 MB of 15 MB budget', or VerificationFailed when the file is over its budget."""
    size_mb = path.stat().st_size / MB
    if size_mb > max_mb:
        raise VerificationFailed(
            f"{what} is {size_mb:.1f} MB, over its {max_mb:g} MB budget",
            "find what grew (frontend/dist, Go dependencies); raise the budget in invoke.yaml "
            "only with a reason",
        )
    return f"{size_mb:.1f} MB of {max_mb:g} MB budget"


class Kind(StrEnum):
    FILE = "file"  # not said: a step that does not tell
    BINARY = "binary"  # a program: the backend, the desktop app of one platform
    WHEEL = "wheel"  # the orchestrator's wheel (its wheelhouse beside it)
    APP_ARCHIVE = "app archive"  # a zipped macOS .app
    INSTALLER = "installer"
    IMAGE_ARCHIVE = "image archive"  # a saved container image (docker load -i)
    SBOM = "sbom"
    MANIFEST = "manifest"  # Kubernetes manifests of one environment
    WINGET = "winget manifest"  # one of the winget manifest set (version, installer, locale)
    DETECTION_RULES = "detection rules"  # what an Intune / ConfigMgr administrator pastes
    BUNDLE = "bundle"


@dataclass(frozen=True)
class Artifact:
    path: Path
    note: str = ""
    kind: str = Kind.FILE
    # What it is of: the platform of a binary, the component of an image or SBOM, the
    # environment of manifests ("" when there is one of its kind).
    of: str = ""
    # The release step that made it (known once the step's record holds it).
    step: str = ""

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def sha256(self) -> str:
        return sha256_of(self.path)


def select(artifacts: Iterable[Artifact], kind: str, of: str | None = None) -> list[Artifact]:
    """The artifacts of a kind (and, if given, of one platform/component/environment)."""
    return [a for a in artifacts if a.kind == kind and (of is None or a.of == of)]


def sha256_of(path: Path) -> str:
    """The one file SHA-256 of the engine (hex)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
