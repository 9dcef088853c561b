"""A bundle's files as verification sees them, read from the tar only as far as needed: the
describing files first (SHA256SUMS and its signature, each within a small bound), then, once
the signature says SHA256SUMS is ours, the files it lists, each hashed within its declared
size. Only small files the checks read (indexes, manifests, descriptions, SBOMs) are kept in
memory, within KEPT_TOTAL together; every other file is hashed block by block.

Extraction (deploy) writes only the listed files, into a new folder, after verification, and
hashes them again as it writes them: the bytes used are the bytes checked.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from build_scripts.bundle import members
from build_scripts.core.artifacts import human_size
from build_scripts.core.errors import ReleaseError, VerificationFailed

# Kept in memory for the checks: any listed file up to SMALL (image manifests are blobs of a
# few hundred bytes), and JSON and YAML files (descriptions, SBOMs, manifests) up to LARGE;
# all of them together up to KEPT_TOTAL, or the bundle is refused.
SMALL = 64 << 10
LARGE = 16 << 20
KEPT_TOTAL = 64 << 20
KEPT_SUFFIXES = (".json", ".yaml")
# SHA256SUMS of MAX_MEMBERS files is about 1 MiB; an armoured signature a few hundred bytes.
MAX_SUMS = 2 << 20
MAX_SIGNATURE = 64 << 10
# Left free on the disk an extraction writes to.
FREE_MARGIN = 64 << 20
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
    return size <= SMALL or (path.endswith(KEPT_SUFFIXES) and size <= LARGE)


def _blocks(handle: BinaryIO, member: members.Member) -> Iterator[bytes]:
    """A member's data, exactly its declared size, BLOCK at a time."""
    handle.seek(member.offset)
    left = member.size
    while left:
        block = handle.read(min(BLOCK, left))
        if not block:
            raise VerificationFailed(f"{member.name}: the tar ends inside it (truncated?)")
        left -= len(block)
        yield block


def read_describing(listing: members.Listing, path: str, bound: int) -> bytes | None:
    """SHA256SUMS or its signature, read before anything else is (None: not in the bundle)."""
    member = listing.files.get(path)
    if member is None:
        return None
    if member.size > bound:
        raise VerificationFailed(
            f"{member.name} holds {human_size(member.size)}, over the bound of "
            f"{human_size(bound)} for it"
        )
    with open(listing.bundle, "rb") as handle:
        return b"".join(_blocks(handle, member))


def refuse_keeping_too_much(listing: members.Listing, listed: Iterable[str]) -> None:
    kept = [p for p in listed if kept_in_memory(p, listing.files[p].size)]
    total = listing.size_of(kept)
    if total > KEPT_TOTAL:
        raise VerificationFailed(
            f"{listing.bundle.name}: its small and JSON/YAML files hold {human_size(total)}, "
            f"over the bound of {human_size(KEPT_TOTAL)} verification keeps in memory"
        )


def hash_listed(listing: members.Listing, listed: Iterable[str]) -> Contents:
    """The sha256 of each listed file (all of them in the bundle: the caller checked), and
    the content of those kept in memory."""
    wanted = sorted(listed, key=lambda path: listing.files[path].offset)
    refuse_keeping_too_much(listing, wanted)
    contents = Contents(listing.top)
    with open(listing.bundle, "rb") as handle:
        for path in wanted:
            member = listing.files[path]
            digest = hashlib.sha256()
            kept = bytearray() if kept_in_memory(path, member.size) else None
            for block in _blocks(handle, member):
                digest.update(block)
                if kept is not None:
                    kept += block
            data = bytes(kept) if kept is not None else None
            contents.add(path, digest.hexdigest(), member.size, data)
    return contents


def _created(target: Path, member: members.Member) -> BinaryIO:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "xb")
    except (FileExistsError, NotADirectoryError) as exc:
        raise VerificationFailed(f"{member.name} cannot be extracted: {exc}") from exc


def extract_verified(bundle: Path, digests: dict[str, str], destination: Path) -> Path:
    """Write the verified files (path -> sha256, as SHA256SUMS lists them) into destination,
    a folder made here; the bundle's folder inside it. Nothing else in the tar is written, and
    a file whose bytes are not the verified ones removes the whole folder."""
    listing = members.scan(bundle)
    missing = sorted(set(digests) - set(listing.files))
    if missing:
        raise VerificationFailed(f"{missing[0]} is no longer in {bundle.name}: changed since")
    need = listing.size_of(digests)
    free = shutil.disk_usage(destination.parent).free
    if need + FREE_MARGIN > free:
        raise ReleaseError(
            f"extracting {bundle.name} needs {human_size(need)} in {destination.parent}, "
            f"which has {human_size(free)} free",
            "free space there, or point TMPDIR at a disk with room for the bundle",
        )
    destination.mkdir()
    try:
        with open(bundle, "rb") as handle:
            for path in sorted(digests, key=lambda p: listing.files[p].offset):
                member = listing.files[path]
                digest = hashlib.sha256()
                target = destination / listing.top / path
                with _created(target, member) as out:
                    for block in _blocks(handle, member):
                        digest.update(block)
                        out.write(block)
                os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
                if digest.hexdigest() != digests[path]:
                    raise VerificationFailed(
                        f"{path} in {bundle.name} changed after it was verified "
                        f"(sha256 {digest.hexdigest()}, verified {digests[path]})"
                    )
    except BaseException:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    return destination / listing.top
