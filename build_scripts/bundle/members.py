"""The bundle tar's members from their headers alone: no member's data is read here.

A bundle is a plain (uncompressed) tar of regular files and folders below one top folder,
each name once. Everything else is refused before any data is read, with one line naming
the member: a compressed tar, a sparse member (a 10 KiB tar can declare a 20 GiB one), a link
or device, a name outside the top folder or seen twice, more members than MAX_MEMBERS, a
member over MAX_MEMBER_SIZE, members over MAX_TOTAL_SIZE together, a member whose data the
file does not hold, a name over MAX_NAME bytes, or a member whose own headers (PAX records,
long names) exceed MAX_HEADER_BYTES (tarfile reads those into memory). Only one member's
headers are held at a time: what the walk keeps grows with the number of members alone.

What is found is where each regular file's data lies (offset, size), so the callers read
exactly the bytes they need, with plain reads, within the declared sizes.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from build_scripts.core import sums
from build_scripts.core.artifacts import human_size
from build_scripts.core.errors import ConfigError, VerificationFailed

MAX_MEMBERS = 10_000
MAX_MEMBER_SIZE = 16 << 30
MAX_TOTAL_SIZE = 64 << 30
MAX_HEADER_BYTES = 1 << 20
MAX_NAME = 1024

# The first bytes of what `tar -a`, gzip, bzip2, xz and zstd write.
COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}


@dataclass(frozen=True)
class Member:
    name: str  # as in the tar
    offset: int  # of its data in the file
    size: int
    mode: int


@dataclass
class Listing:
    """The bundle's regular files by their path below the top folder."""

    bundle: Path
    top: str
    files: dict[str, Member] = field(default_factory=dict)

    def size_of(self, paths) -> int:
        return sum(self.files[path].size for path in paths)


class _HeaderBudget:
    """The file as tarfile reads it while it walks the headers: it reads only headers there
    (it seeks over data), so what it reads for one member is bounded."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self.handle, self.name, self.used = handle, name, 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or self.used + size > MAX_HEADER_BYTES:
            raise VerificationFailed(
                f"{self.name}: a member's headers exceed {human_size(MAX_HEADER_BYTES)} "
                f"(after offset {self.handle.tell()}); a bundle's are a few hundred bytes"
            )
        self.used += size
        return self.handle.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    def next_member(self) -> None:
        self.used = 0


def member_path(name: str, top: str | None) -> tuple[str, str]:
    """(top folder, path below it) of a tar member name, or VerificationFailed."""
    if len(name.encode(errors="surrogateescape")) > MAX_NAME:
        raise VerificationFailed(
            f"{name[:60]}…: a name of {len(name)} characters, over the bound of {MAX_NAME} bytes"
        )
    clean = name.removeprefix("./").rstrip("/")
    first, _, rest = clean.partition("/")
    if not sums.is_safe_path(clean) or (top is not None and first != top):
        raise VerificationFailed(f"{name}: outside the bundle's folder {top or ''}/")
    return first, rest


def refuse_compressed(start: bytes, bundle: Path) -> None:
    for magic, kind in COMPRESSED.items():
        if start.startswith(magic):
            raise VerificationFailed(
                f"{bundle.name} is compressed ({kind}); a bundle is a plain tar, read as it is",
                "give the …-bundle.tar as `invoke bundle` wrote it (decompress it first only "
                "if you compressed it yourself)",
            )


def _check(member: tarfile.TarInfo, path: str, end_of_file: int) -> None:
    if member.issparse():
        raise VerificationFailed(
            f"{member.name}: a sparse member ({human_size(member.size)} declared); a bundle "
            "holds plain files only"
        )
    if not member.isreg():
        raise VerificationFailed(f"{member.name}: not a regular file (a link?)")
    if not path:
        raise VerificationFailed(f"{member.name}: the bundle's folder as a file")
    if member.size > MAX_MEMBER_SIZE:
        raise VerificationFailed(
            f"{member.name} declares {human_size(member.size)}, over the bound of "
            f"{human_size(MAX_MEMBER_SIZE)} for one file of a bundle"
        )
    if member.offset_data + member.size > end_of_file:
        raise VerificationFailed(
            f"{member.name} declares {human_size(member.size)}, but the tar ends "
            f"{max(end_of_file - member.offset_data, 0)} bytes after its header (truncated?)"
        )


def scan(bundle: Path) -> Listing:
    """The bundle's regular files, from one pass over its headers."""
    if not bundle.is_file():
        raise ConfigError(f"{bundle} is not a file", "give the path of a …-bundle.tar")
    with open(bundle, "rb") as raw:
        refuse_compressed(raw.read(8), bundle)
        raw.seek(0)
        budget = _HeaderBudget(raw, bundle.name)
        try:
            # "r:": no transparent decompression.
            with tarfile.open(fileobj=budget, mode="r:") as archive:  # type: ignore[call-overload]
                return _walk(bundle, archive, budget)
        except (tarfile.TarError, EOFError) as exc:
            raise VerificationFailed(f"{bundle.name} is not a complete tar archive: {exc}") from exc


def _walk(bundle: Path, archive: tarfile.TarFile, budget: _HeaderBudget) -> Listing:
    end_of_file = bundle.stat().st_size
    listing: Listing | None = None
    seen: set[str] = set()
    total = 0
    count = 0
    while (member := archive.next()) is not None:
        # tarfile keeps every member it read, PAX records and all; reading on needs none.
        archive.members.clear()
        count += 1
        if count > MAX_MEMBERS:
            raise VerificationFailed(
                f"{bundle.name} has more than {MAX_MEMBERS} members (a bound of bundle "
                "verification)"
            )
        top, path = member_path(member.name, listing.top if listing else None)
        listing = listing or Listing(bundle, top)
        if path in seen:
            raise VerificationFailed(f"{member.name}: twice in the bundle")
        seen.add(path)
        budget.next_member()
        if member.isdir():
            continue
        _check(member, path, end_of_file)
        total += member.size
        if total > MAX_TOTAL_SIZE:
            raise VerificationFailed(
                f"{bundle.name}: its files exceed {human_size(MAX_TOTAL_SIZE)} together (a "
                "bound of bundle verification)"
            )
        listing.files[path] = Member(member.name, member.offset_data, member.size, member.mode)
    if listing is None:
        raise VerificationFailed(f"{bundle.name} is empty")
    return listing
