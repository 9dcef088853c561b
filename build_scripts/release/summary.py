"""What a release produced: artifacts with sizes and SHA-256 digests, as a table (folder.py
writes SHA256SUMS and release.json)."""

from __future__ import annotations

from pathlib import Path

from build_scripts.core import progress
from build_scripts.core.artifacts import Artifact, human_size


def table(artifacts: list[Artifact], root: Path) -> str:
    """artifacts: Artifacts, or the release folder's entries (folder.Entry), which may be
    stale: made by a step the run left out, from inputs that have changed since."""
    rows = [("artifact", "size", "sha256", "note")]
    for artifact in artifacts:
        stale = getattr(artifact, "stale", "")
        rows.append(
            (
                _relative(artifact.path, root),
                human_size(artifact.size),
                artifact.sha256,
                f"STALE ({stale}); {artifact.note}" if stale else artifact.note,
            )
        )
    return progress.table(rows, rule=True)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
