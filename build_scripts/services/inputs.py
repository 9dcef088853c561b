"""The host-built inputs of the images (backend binary, orchestrator wheelhouse), made again only
when their sources changed since the last time: what `invoke images.build` does before building.
In `invoke release` the backend and orchestrator steps make them; the images step only uses them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from build_scripts.core import atomic, cmd, paths
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.metadata import Release, python_version
from build_scripts.core.progress import say
from build_scripts.services import build as services

SKIPPED_SOURCE_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "build"}


def source_digest(directory: Path, extra: Iterable[str] = ()) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        skipped = any(
            part in SKIPPED_SOURCE_DIRS or part.endswith(".egg-info") for part in relative.parts
        )
        if path.is_file() and not skipped:
            digest.update(f"{relative.as_posix()}\0{sha256_of(path)}\0".encode())
    for item in extra:
        digest.update(f"{item}\0".encode())
    return digest.hexdigest()


def _stamp_path(release: Release, name: str) -> Path:
    return paths.cache_dir() / "images" / "inputs" / f"{release.version_text}-{name}.json"


def prepare_inputs(release: Release, names: Iterable[str]) -> None:
    """Make the backend binary / the wheelhouse, unless their sources are unchanged since the
    last time and the output is still the one made then."""
    for name in names:
        if name == "backend":
            go_version = cmd.output_of(["go", "env", "GOVERSION"], step="backend")
            extra = [services.backend_ldflags(release), go_version]
            source = source_digest(services.backend_dir(), extra)
        else:
            extra = [python_version(release), sys.version]
            source = source_digest(services.orchestrator_dir(), extra)
        stamp = _stamp_path(release, name)
        try:
            recorded = json.loads(stamp.read_text())
            current = _output_digests(release, name)
            if recorded == {"source": source, "output": current}:
                say(f"{name}: inputs up to date (sources unchanged)")
                continue
        except (FileNotFoundError, ValueError):
            pass
        if name == "backend":
            services.build_backend(release)
        else:
            services.build_orchestrator_wheelhouse(release)
        output = _output_digests(release, name)
        atomic.write_text(stamp, json.dumps({"source": source, "output": output}) + "\n")


def _output_digests(release: Release, name: str) -> dict[str, str]:
    """Relative path -> sha256 of every file the input consists of; a missing file raises."""
    output = (
        services.backend_binary_path(release)
        if name == "backend"
        else services.wheelhouse_path(release)
    )
    files = sorted(p for p in output.rglob("*") if p.is_file()) if output.is_dir() else [output]
    return {p.relative_to(release.dist_dir).as_posix(): sha256_of(p) for p in files}
