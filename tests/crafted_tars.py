"""Hostile tars, made byte by byte where tarfile will not write them: sparse members that
declare gigabytes in a few hundred bytes, members declaring data the file does not hold,
oversized headers, duplicates, thousands of members."""

from __future__ import annotations

import tarfile
from pathlib import Path

BLOCK = tarfile.BLOCKSIZE
END = bytes(2 * BLOCK)


def _padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def _with_checksum(block: bytearray) -> bytes:
    block[148:156] = b" " * 8
    block[148:155] = b"%06o\0" % sum(block)
    return bytes(block)


def gnu_sparse(name: str, declared: int, stored: bytes = b"") -> bytes:
    """A GNU sparse member ('S'): `declared` bytes, all a hole but `stored` at its end."""
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = tarfile.GNUTYPE_SPARSE, len(stored), 0o644
    header = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    block = bytearray(header[-BLOCK:])
    # struct sparse sp[4] at 386: (offset, numbytes), 12 bytes each; isextended at 482;
    # realsize at 483.
    block[386:398] = tarfile.itn(declared - len(stored), 12, tarfile.GNU_FORMAT)
    block[398:410] = tarfile.itn(len(stored), 12, tarfile.GNU_FORMAT)
    block[482] = 0
    block[483:495] = tarfile.itn(declared, 12, tarfile.GNU_FORMAT)
    return bytes(header[:-BLOCK]) + _with_checksum(block) + _padded(stored)


def pax_sparse(name: str, declared: int, stored: bytes = b"") -> bytes:
    """A PAX member in GNU's sparse format 0.1 (GNU.sparse.map): `declared` bytes."""
    info = tarfile.TarInfo(name)
    info.size = len(stored)
    info.pax_headers = {
        "GNU.sparse.size": str(declared),
        "GNU.sparse.numblocks": "1",
        "GNU.sparse.map": f"{declared - len(stored)},{len(stored)}",
    }
    return info.tobuf(tarfile.PAX_FORMAT) + _padded(stored)


def declared_only(name: str, declared: int) -> bytes:
    """A regular member's header declaring `declared` bytes, and none of them."""
    info = tarfile.TarInfo(name)
    info.size = declared
    return info.tobuf(tarfile.PAX_FORMAT)


def huge_pax_header(name: str, record_bytes: int) -> bytes:
    """A regular empty member whose PAX header carries `record_bytes` of a comment."""
    info = tarfile.TarInfo(name)
    info.pax_headers = {"comment": "x" * record_bytes}
    return info.tobuf(tarfile.PAX_FORMAT)


def regular(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(tarfile.PAX_FORMAT) + _padded(data)


def folder(name: str) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info.tobuf(tarfile.PAX_FORMAT)


def write(destination: Path, *members: bytes) -> Path:
    destination.write_bytes(b"".join(members) + END)
    return destination


def appended(bundle: Path, destination: Path, *members: bytes) -> Path:
    """The bundle with members added after its own (its end-of-archive blocks replaced)."""
    with tarfile.open(bundle) as archive:
        archive.getmembers()
        end = archive.offset  # where the end-of-archive blocks begin
    data = bundle.read_bytes()[:end]
    return write(destination, data, *members)
