"""The images' inputs: digests of everything a build reads (Dockerfile, context files, build
arguments, base image ids); an image carrying the same digest is not built again."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import ConfigError

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
