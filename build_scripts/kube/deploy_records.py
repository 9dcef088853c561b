"""What deploying a release learns and writes, kept beside the release, never in its folder.

dist/<version>/ is the release as built, described by its SHA256SUMS and release.json: a
deploy must not change a byte of it (`sha256sum -c` would fail, and the next release would
rebuild the manifests it overwrote). So the digests the images were pushed or imported under,
and the manifests pinned to them, live in the release's state folder
(~/.cache/traderadmin/release-state/<hash of dist/<version>>/deploy/).
"""

from __future__ import annotations

import json
from pathlib import Path

from build_scripts.core import atomic, jsonfile, paths
from build_scripts.core.metadata import Release

DIGESTS = "image-digests.json"


def records_dir(release: Release) -> Path:
    return paths.release_state_dir(release.dist_dir) / "deploy"


def manifests_path(release: Release, environment: str) -> Path:
    """The manifests a deploy renders (pinned by digest) for one environment."""
    return records_dir(release) / f"{environment}.yaml"


def record_image_digests(release: Release, where: str, digests: dict[str, str]) -> Path:
    """Record the images' digests under `where`: "local" (the local cluster's containerd) or
    the registry pushed to. Deploy pins the manifests to exactly these, never re-deriving them.
    """
    path = records_dir(release) / DIGESTS
    recorded = _load(path)
    recorded[where] = dict(sorted(digests.items()))
    return atomic.write_text(path, json.dumps(recorded, indent=2, sort_keys=True) + "\n")


def recorded_image_digests(release: Release, where: str) -> dict[str, str]:
    """The digests record_image_digests stored for `where` ({} if none)."""
    return dict(_load(records_dir(release) / DIGESTS).get(where, {}))


def _load(path: Path) -> dict:
    # A damaged record is as good as none: deploy imports (or asks for a push) again.
    return jsonfile.read_object(path)
