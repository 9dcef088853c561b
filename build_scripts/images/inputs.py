"""The images' inputs: digests of everything a build reads, and the host-built inputs
(backend binary, orchestrator wheelhouse) made when their sources changed."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from build_scripts.core import atomic, cmd, paths
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.images.specs import Component
from build_scripts.services import build as services

INPUTS_LABEL = "org.traderadmin.build-inputs"


# Part of the inputs digest: bump it when the way images are built changes.
BUILD_FORMAT = "1"


def wheel_digest(path: Path) -> str:
    """A wheel by content (names and bytes of its members), not its zip timestamps."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as wheel:
        for info in sorted(wheel.infolist(), key=lambda i: i.filename):
            digest.update(info.filename.encode() + b"\0")
            digest.update(hashlib.sha256(wheel.read(info)).digest())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """Content and the executable bit: what COPY puts into a layer (mtimes do not matter)."""
    content = wheel_digest(path) if path.suffix == ".whl" else sha256_of(path)
    executable = "x" if os.access(path, os.X_OK) else "-"
    return f"{executable}{content}"


def context_digests(context: Path, inputs: Iterable[str]) -> dict[str, str]:
    """Relative path -> file_digest for every file an input names (directories expanded)."""
    found: dict[str, str] = {}
    for relative in inputs:
        path = context / relative
        if not path.exists():
            raise ConfigError(
                f"build input {path} is missing", "build it with: invoke images.build"
            )
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            found[file.relative_to(context).as_posix()] = file_digest(file)
    return found


def inputs_digest(
    *,
    dockerfile: str,
    dockerignore: str,
    args: Mapping[str, str],
    base_ids: Mapping[str, str],
    files: Mapping[str, str],
) -> str:
    """The digest of everything a build depends on; stored in the image as INPUTS_LABEL."""
    manifest = {
        "format": BUILD_FORMAT,
        "dockerfile": hashlib.sha256(dockerfile.encode()).hexdigest(),
        "dockerignore": hashlib.sha256(dockerignore.encode()).hexdigest(),
        "args": dict(args),
        "base_ids": dict(base_ids),
        "files": dict(files),
    }
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


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


def prepare_inputs(release: Release, items: Iterable[Component]) -> None:
    """Make the backend binary / the wheelhouse, unless their sources are unchanged since the
    last time and the output is still the one made then."""
    for item in items:
        if item.name == "backend":
            go_version = cmd.output_of(["go", "env", "GOVERSION"], step="backend")
            extra = [services.backend_ldflags(release), go_version]
            source = source_digest(services.backend_dir(), extra)
        else:
            extra = [services.python_version(release), sys.version]
            source = source_digest(services.orchestrator_dir(), extra)
        stamp = _stamp_path(release, item.name)
        try:
            recorded = json.loads(stamp.read_text())
            current = context_digests(release.dist_dir, item.inputs)
            if recorded == {"source": source, "output": current}:
                say(f"{item.name}: inputs up to date (sources unchanged)")
                continue
        except (FileNotFoundError, ValueError, ConfigError):
            pass
        if item.name == "backend":
            services.build_backend(release)
        else:
            services.build_orchestrator_wheelhouse(release)
        output = context_digests(release.dist_dir, item.inputs)
        atomic.write_text(stamp, json.dumps({"source": source, "output": output}) + "\n")
