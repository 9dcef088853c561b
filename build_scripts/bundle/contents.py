"""A bundle's files as verification sees them: each path with its sha256, and the content of
the small ones (indexes, manifests, descriptions), read from the tar in one streaming pass or
from a folder it was extracted to.

Only regular files and folders below one top folder are accepted: a link, a device, an
absolute path or `..` is refused before anything is extracted or trusted.
"""

from __future__ import annotations

import hashlib
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from build_scripts.core import sums
from build_scripts.core.errors import ConfigError, VerificationFailed

# Kept in memory for the checks: any file up to SMALL (image manifests are blobs of a few
# hundred bytes), and the describing files (JSON, YAML, SHA256SUMS, its signature) up to LARGE.
SMALL = 64 << 10
LARGE = 64 << 20
DESCRIBING_SUFFIXES = (".json", ".yaml", ".asc", "SHA256SUMS")
BLOCK = 1 << 20


@dataclass
class Contents:
    top: str
    digests: dict[str, str] = field(default_factory=dict)
    small: dict[str, bytes] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def add(self, path: str, digest: str, size: int, data: bytes | None) -> None:
        self.digests[path] = digest
        self.sizes[path] = size
        if data is not None:
            self.small[path] = data


def kept_in_memory(path: str, size: int) -> bool:
    return size <= SMALL or (path.endswith(DESCRIBING_SUFFIXES) and size <= LARGE)


def _hash(handle, keep: bool) -> tuple[str, bytes | None]:
    digest = hashlib.sha256()
    kept = bytearray() if keep else None
    for block in iter(lambda: handle.read(BLOCK), b""):
        digest.update(block)
        if kept is not None:
            kept += block
    return digest.hexdigest(), bytes(kept) if kept is not None else None


def member_path(name: str, top: str | None) -> tuple[str, str]:
    """(top folder, path below it) of a tar member name, or VerificationFailed."""
    clean = name.removeprefix("./").rstrip("/")
    first, _, rest = clean.partition("/")
    if not sums.is_safe_path(clean) or (top is not None and first != top):
        raise VerificationFailed(f"{name}: outside the bundle's folder {top or ''}/")
    return first, rest


def from_tar(bundle: Path) -> Contents:
    """Read the tar once, as a stream (a bundle of any size, nothing extracted)."""
    if not bundle.is_file():
        raise ConfigError(f"{bundle} is not a file", "give the path of a …-bundle.tar")
    contents: Contents | None = None
    try:
        with tarfile.open(bundle, "r|") as archive:
            for member in archive:
                top, path = member_path(member.name, contents.top if contents else None)
                contents = contents or Contents(top)
                if member.isdir():
                    continue
                if not member.isreg():
                    raise VerificationFailed(f"{member.name}: not a regular file (a link?)")
                if not path or path in contents.digests:
                    raise VerificationFailed(f"{member.name}: twice in the bundle, or no path")
                handle = archive.extractfile(member)
                assert handle is not None
                digest, data = _hash(handle, kept_in_memory(path, member.size))
                contents.add(path, digest, member.size, data)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise VerificationFailed(f"{bundle.name} is not a complete tar archive: {exc}") from exc
    if contents is None:
        raise VerificationFailed(f"{bundle.name} is empty")
    return contents


def from_folder(folder: Path) -> Contents:
    """An extracted bundle's folder (the one below which every file lives)."""
    contents = Contents(folder.name)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise VerificationFailed(f"{relative}: not a regular file (a link?)")
        if path.is_file():
            with open(path, "rb") as handle:
                digest, data = _hash(handle, kept_in_memory(relative, path.stat().st_size))
            contents.add(relative, digest, path.stat().st_size, data)
    return contents


def safe_extract(bundle: Path, destination: Path) -> Path:
    """Extract into destination (regular files and folders only); the bundle's folder."""
    with tarfile.open(bundle, "r") as archive:
        members = archive.getmembers()
        top = None
        for member in members:
            top, _ = member_path(member.name, top)
            if not (member.isreg() or member.isdir()):
                raise VerificationFailed(f"{member.name}: not a regular file (a link?)")
        if top is None:
            raise VerificationFailed(f"{bundle.name} is empty")
        archive.extractall(destination, members=members, filter="data")
    return destination / top
