"""SHA256SUMS in the format `sha256sum -c` reads, parsed strictly: the release folder's and
the bundle's.

The bundle's signature covers this one file, and this file covers every other file of the
bundle; so a line we cannot parse is an error, never skipped.
"""

from __future__ import annotations

import re

from build_scripts.core.errors import VerificationFailed

FILE_NAME = "SHA256SUMS"
# `sha256sum` writes two spaces (text mode) or a space and '*' (binary mode) before the name.
LINE = re.compile(r"(?P<digest>[0-9a-f]{64}) [ *](?P<path>[^\n]+)")


def format_sums(digests: dict[str, str]) -> str:
    """digest, two spaces, path relative to the folder; sorted by path."""
    for path in digests:
        if "\n" in path or "\\" in path:
            raise ValueError(f"{path!r}: sha256sum escapes such names; no artifact has one")
    return "".join(f"{digests[path]}  {path}\n" for path in sorted(digests))


def parse_sums(text: str, source: str = FILE_NAME) -> dict[str, str]:
    """Path -> digest. A malformed, duplicated or unsafe line is a VerificationFailed naming
    the line."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = LINE.fullmatch(line)
        if not match:
            raise VerificationFailed(f"{source} line {number} is not `<sha256>  <path>`: {line!r}")
        path = match.group("path")
        if not is_safe_path(path):
            raise VerificationFailed(f"{source} line {number} names an unsafe path: {path!r}")
        if path in found:
            raise VerificationFailed(f"{source} lists {path} twice (line {number})")
        found[path] = match.group("digest")
    if not found:
        raise VerificationFailed(f"{source} is empty")
    return found


def is_safe_path(path: str) -> bool:
    """Relative, no '..', no empty parts: a path that stays inside the bundle's folder."""
    parts = path.split("/")
    return (
        bool(path)
        and not path.startswith("/")
        and all(part not in ("", ".", "..") for part in parts)
        and "\\" not in path
    )
