"""What a step produces: artifacts with their checksums, and size budgets."""

from __future__ import annotations

from pathlib import Path

from build_scripts.core.errors import (
    VerificationFailed,
)

MB = 1_000_000


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
