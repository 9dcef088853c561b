"""What a release produced: artifacts with sizes and SHA-256 digests, as a table (folder.py
writes SHA256SUMS and release.json)."""

from __future__ import annotations

import json
from pathlib import Path

from build_scripts.core import atomic, progress
from build_scripts.core.artifacts import Artifact, human_size
from build_scripts.core.metadata import Release


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


def record_image_digests(release: Release, where: str, digests: dict[str, str]) -> Path:
    """Record the images' digests in release.json under "image_digests"[where].

    where is "local" (the local cluster's containerd) or the registry pushed to. Deploy pins
    the manifests to exactly these (kube/manifests.py), never re-deriving them.
    """
    path = release.dist_dir / "release.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        manifest = {
            "product": release.product,
            "version": release.version_text,
            "commit": release.commit,
        }
    manifest.setdefault("image_digests", {})[where] = dict(sorted(digests.items()))
    return atomic.write_text(path, json.dumps(manifest, indent=2) + "\n")


def recorded_image_digests(release: Release, where: str) -> dict[str, str]:
    """The digests record_image_digests stored for `where` ({} if none)."""
    try:
        manifest = json.loads((release.dist_dir / "release.json").read_text())
    except (OSError, ValueError):
        return {}
    return dict(manifest.get("image_digests", {}).get(where, {}))
