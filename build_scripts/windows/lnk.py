"""Reading Windows shortcuts (.lnk, MS-SHLLINK): target, arguments, working directory."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core.errors import VerificationFailed

# Shell link flags (MS-SHLLINK 2.1.1).
_HAS_ID_LIST, _HAS_LINK_INFO, _IS_UNICODE = 0x1, 0x2, 0x80


@dataclass(frozen=True)
class Shortcut:
    target: str
    working_dir: str
    arguments: str
    icon_location: str


_STRING_FLAGS = (
    ("name", 0x4),
    ("relative_path", 0x8),
    ("working_dir", 0x10),
    ("arguments", 0x20),
    ("icon_location", 0x40),
)


def read_shortcut(path: Path) -> Shortcut:
    return parse_shortcut(path.read_bytes(), str(path))


def parse_shortcut(data: bytes, name: str = "the file") -> Shortcut:
    """The target, working directory, arguments and icon of a Windows .lnk file's bytes."""
    if len(data) < 0x4C or struct.unpack_from("<I", data, 0)[0] != 0x4C:
        raise VerificationFailed(f"{name} is not a Windows shortcut (.lnk)")
    flags = struct.unpack_from("<I", data, 0x14)[0]
    offset = 0x4C
    if flags & _HAS_ID_LIST:
        offset += 2 + struct.unpack_from("<H", data, offset)[0]
    target = ""
    if flags & _HAS_LINK_INFO:
        info = offset
        size, header_size, info_flags = struct.unpack_from("<III", data, info)
        base_offset, suffix_offset = struct.unpack_from("<I", data, info + 16)[0], 0
        suffix_offset = struct.unpack_from("<I", data, info + 24)[0]
        if header_size >= 0x24:
            unicode_base = struct.unpack_from("<I", data, info + 28)[0]
            if info_flags & 1 and unicode_base:
                target = _wide_string(data, info + unicode_base)
        if not target and info_flags & 1:
            target = _ansi_string(data, info + base_offset) + _ansi_string(
                data, info + suffix_offset
            )
        offset += size
    strings: dict[str, str] = {}
    wide = bool(flags & _IS_UNICODE)
    for name, bit in _STRING_FLAGS:
        if flags & bit:
            count = struct.unpack_from("<H", data, offset)[0]
            offset += 2
            width = 2 if wide else 1
            raw = data[offset : offset + count * width]
            offset += count * width
            text = raw.decode("utf-16-le" if wide else "cp1252", errors="replace")
            # Wine counts the terminating NUL; Windows does not.
            strings[name] = text.rstrip("\0")
    return Shortcut(
        target=target,
        working_dir=strings.get("working_dir", ""),
        arguments=strings.get("arguments", ""),
        icon_location=strings.get("icon_location", ""),
    )


def _ansi_string(data: bytes, offset: int) -> str:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("cp1252", errors="replace")


def _wide_string(data: bytes, offset: int) -> str:
    end = offset
    while data[end : end + 2] != b"\0\0":
        end += 2
    return data[offset:end].decode("utf-16-le", errors="replace")
