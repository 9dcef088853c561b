"""Where things live: the source tree, the per-user cache, the release output.

Caches and long-lived state (toolchains, Go caches, base images, cluster binaries, daemon
logs) live outside the clone, so a fresh clone on the same machine (CI) reuses them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent.parent


def cache_dir() -> Path:
    """~/.cache/traderadmin, or $TRADERADMIN_CACHE."""
    configured = os.environ.get("TRADERADMIN_CACHE")
    base = Path(configured) if configured else Path.home() / ".cache" / "traderadmin"
    return base.expanduser()


def bin_dir() -> Path:
    """Tools the engine installs itself (wails, kubectl): searched after PATH."""
    return cache_dir() / "bin"


def state_dir() -> Path:
    """Pid files and logs of daemons the engine started (dockerd, the local cluster)."""
    return cache_dir() / "state"


def release_state_dir(dist_dir: Path) -> Path:
    """What the engine keeps about one release folder outside it (dist/<version>/ holds
    release artifacts only): step records, digests, the manifests a deploy pinned."""
    key = hashlib.sha256(str(dist_dir.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "release-state" / key


def dist_root() -> Path:
    """dist/ in the source tree, or $TRADERADMIN_DIST (tests, side-by-side builds)."""
    configured = os.environ.get("TRADERADMIN_DIST")
    return Path(configured).expanduser() if configured else repo_root() / "dist"


def dist_dir(version: str) -> Path:
    """Release output for one version: dist/<version>/."""
    return dist_root() / version


def reports_dir() -> Path:
    """reports/ in the source tree (bench figures, screenshots, release reports and their
    history), or $TRADERADMIN_REPORTS (scenarios that must not touch this machine's)."""
    configured = os.environ.get("TRADERADMIN_REPORTS")
    return Path(configured).expanduser() if configured else repo_root() / "reports"
