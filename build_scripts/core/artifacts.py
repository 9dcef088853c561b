"""What a step produces: artifacts with their checksums, and size budgets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Artifact:
    path: Path
    note: str = ""

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def sha256(self) -> str:
        return sha256_of(self.path)


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
