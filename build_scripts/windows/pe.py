"""Reading a Windows executable back: PE headers, resources, the version resource, the icon."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core.errors import (
    VerificationFailed,
)
from build_scripts.core.metadata import Release

RT_ICON, RT_GROUP_ICON, RT_VERSION = 3, 14, 16


@dataclass(frozen=True)
class VersionInfo:
    """A PE file's version resource: the numeric versions and the string table."""

    file_version: str
    product_version: str
    strings: dict[str, str]


@dataclass(frozen=True)
class PeFile:
    data: bytes
    machine: int
    subsystem: int
    sections: list[tuple[int, int, int, int]]  # rva, virtual size, file offset, raw size
    directories: list[tuple[int, int]]

    def offset(self, rva: int) -> int:
        for start, vsize, raw_offset, raw_size in self.sections:
            if start <= rva < start + max(vsize, raw_size):
                return raw_offset + rva - start
        raise VerificationFailed(f"RVA {rva:#x} lies in no section")


def read_pe(path: Path) -> PeFile:
    return parse_pe(path.read_bytes(), path.name)


def parse_pe(data: bytes, name: str = "the file") -> PeFile:
    """The headers, sections and data directories of a PE file's bytes (`name` for errors)."""
    if data[:2] != b"MZ":
        raise VerificationFailed(f"{name} is not a Windows executable (no MZ header)")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe : pe + 4] != b"PE\0\0":
        raise VerificationFailed(f"{name} is not a PE file")
    machine, count = struct.unpack_from("<HH", data, pe + 4)
    optional_size = struct.unpack_from("<H", data, pe + 20)[0]
    optional = pe + 24
    magic = struct.unpack_from("<H", data, optional)[0]
    subsystem = struct.unpack_from("<H", data, optional + 68)[0]
    directory_start = optional + (112 if magic == 0x20B else 96)
    directory_count = struct.unpack_from("<I", data, directory_start - 4)[0]
    directories = [
        struct.unpack_from("<II", data, directory_start + 8 * i) for i in range(directory_count)
    ]
    sections = []
    for i in range(count):
        header = optional + optional_size + 40 * i
        vsize, rva, raw_size, raw_offset = struct.unpack_from("<IIII", data, header + 8)
        sections.append((rva, vsize, raw_offset, raw_size))
    return PeFile(data, machine, subsystem, sections, directories)


def pe_resources(pe: PeFile) -> dict[tuple[int, int | str], bytes]:
    """(type, name) -> data of the first language of every resource."""
    if len(pe.directories) < 3 or not pe.directories[2][0]:
        return {}
    base = pe.offset(pe.directories[2][0])
    data = pe.data

    def entries(offset: int) -> list[tuple[int | str, int]]:
        named, numbered = struct.unpack_from("<HH", data, offset + 12)
        found = []
        for i in range(named + numbered):
            name, target = struct.unpack_from("<II", data, offset + 16 + 8 * i)
            if name & 0x80000000:
                at = base + (name & 0x7FFFFFFF)
                length = struct.unpack_from("<H", data, at)[0]
                key: int | str = data[at + 2 : at + 2 + 2 * length].decode("utf-16-le")
            else:
                key = name
            found.append((key, target))
        return found

    resources: dict[tuple[int, int | str], bytes] = {}
    for kind, kind_target in entries(base):
        for name, name_target in entries(base + (kind_target & 0x7FFFFFFF)):
            languages = entries(base + (name_target & 0x7FFFFFFF))
            if not languages or not isinstance(kind, int):
                continue
            leaf = base + languages[0][1]
            rva, size = struct.unpack_from("<II", data, leaf)
            start = pe.offset(rva)
            resources[(kind, name)] = data[start : start + size]
    return resources


def read_version_info(path: Path) -> VersionInfo:
    """The version resource of a PE file, parsed from its bytes (VS_VERSIONINFO)."""
    resources = pe_resources(read_pe(path))
    blob = next((v for (kind, _), v in resources.items() if kind == RT_VERSION), None)
    if blob is None:
        raise VerificationFailed(f"{path.name} has no version resource")
    root = _version_block(blob, 0)
    if len(root.value) < 52 or struct.unpack_from("<I", root.value, 0)[0] != 0xFEEF04BD:
        raise VerificationFailed(f"{path.name}: the version resource has no VS_FIXEDFILEINFO")
    file_ms, file_ls, product_ms, product_ls = struct.unpack_from("<IIII", root.value, 8)
    strings: dict[str, str] = {}
    for child in root.children:
        if child.key == "StringFileInfo":
            for table in child.children:
                for entry in table.children:
                    strings[entry.key] = entry.value.decode("utf-16-le").rstrip("\0")
    return VersionInfo(_four(file_ms, file_ls), _four(product_ms, product_ls), strings)


def _four(ms: int, ls: int) -> str:
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


@dataclass(frozen=True)
class _Block:
    key: str
    value: bytes
    children: list[_Block]
    end: int


def _version_block(data: bytes, offset: int) -> _Block:
    length, value_length, kind = struct.unpack_from("<HHH", data, offset)
    end = min(offset + length, len(data))
    key_end = offset + 6
    while data[key_end : key_end + 2] != b"\0\0":
        key_end += 2
    key = data[offset + 6 : key_end].decode("utf-16-le")
    position = _align(key_end + 2)
    # Text values count UTF-16 characters, binary ones bytes.
    size = value_length * 2 if kind == 1 else value_length
    value = data[position : min(position + size, end)]
    position = _align(position + size)
    children = []
    while position + 6 <= end:
        child = _version_block(data, position)
        if child.end <= position:
            break
        children.append(child)
        position = _align(child.end)
    return _Block(key, value, children, end)


def _align(offset: int) -> int:
    return (offset + 3) & ~3


def extract_icon(path: Path) -> bytes:
    """The executable's main icon as an .ico file (the installer uses the app's own icon)."""
    resources = pe_resources(read_pe(path))
    groups = sorted(
        ((name, blob) for (kind, name), blob in resources.items() if kind == RT_GROUP_ICON),
        key=lambda item: str(item[0]),
    )
    if not groups:
        raise VerificationFailed(f"{path.name} has no icon resource")
    group = groups[0][1]
    count = struct.unpack_from("<H", group, 4)[0]
    entries, images = [], []
    for i in range(count):
        width, height, colours, _, planes, bits, _, icon_id = struct.unpack_from(
            "<BBBBHHIH", group, 6 + 14 * i
        )
        image = resources.get((RT_ICON, icon_id))
        if image is None:
            raise VerificationFailed(f"{path.name}: icon image {icon_id} is missing")
        entries.append((width, height, colours, planes, bits, image))
    offset = 6 + 16 * len(entries)
    header = struct.pack("<HHH", 0, 1, len(entries))
    for width, height, colours, planes, bits, image in entries:
        header += struct.pack(
            "<BBBBHHII", width, height, colours, 0, planes, bits, len(image), offset
        )
        offset += len(image)
        images.append(image)
    return header + b"".join(images)


def verify_windows_exe(path: Path, release: Release) -> VersionInfo:
    """A 64-bit GUI executable whose version resource is this release, with an icon."""
    pe = read_pe(path)
    problems = []
    if pe.machine != 0x8664:
        problems.append(f"machine {pe.machine:#x}, not x86-64")
    if pe.subsystem != 2:
        problems.append(f"subsystem {pe.subsystem}, not Windows GUI (2)")
    info = read_version_info(path)
    expected = {
        "ProductName": release.product,
        "ProductVersion": release.version_text,
        "FileVersion": release.version_text,
        "CompanyName": release.publisher,
        "LegalCopyright": release.copyright,
    }
    for key, value in expected.items():
        if info.strings.get(key) != value:
            problems.append(f"{key} is {info.strings.get(key)!r}, expected {value!r}")
    if info.file_version != release.windows_version:
        problems.append(f"file version {info.file_version}, expected {release.windows_version}")
    if not any(kind == RT_GROUP_ICON for kind, _ in pe_resources(pe)):
        problems.append("no icon")
    if problems:
        raise VerificationFailed(f"{path.name}: " + "; ".join(problems))
    return info
