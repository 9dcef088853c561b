"""What a Windows test machine (a Wine prefix) holds that an installer may change: the files on
drive C:, the uninstall registrations and any TraderAdmin key, read straight from the prefix.

A fault test takes a snapshot before and after and compares them: "the machine exactly as
before" means the same files with the same bytes (shortcuts included), the same registry
values. Left out, because Windows itself changes them on every program start: C:\\windows and
the temporary folders (the NSIS uninstaller copies itself there).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from build_scripts.windows import wine

# Registry keys an installer of ours may touch (lower case, as Wine writes them in .reg files).
_KEY_PATTERNS = (
    re.compile(
        r"^software\\\\(wow6432node\\\\)?microsoft\\\\windows\\\\currentversion\\\\uninstall"
    ),
    re.compile(r"traderadmin"),
)
_HIVES = {"HKLM": "system.reg", "HKCU": "user.reg"}


@dataclass(frozen=True)
class MachineState:
    files: dict[str, str]  # path below drive_c -> sha256, or "<dir>"
    registry: dict[str, tuple[str, ...]]  # "HKLM\\key" -> its value lines


def _skipped(relative: Path) -> bool:
    parts = [p.lower() for p in relative.parts]
    return parts[:1] == ["windows"] or "temp" in parts


def snapshot(prefix: wine.Prefix) -> MachineState:
    """The machine's state; waits for the prefix's programs to end (and the registry saved)."""
    prefix.wait()
    files: dict[str, str] = {}
    for path in sorted(prefix.drive_c.rglob("*")):
        relative = path.relative_to(prefix.drive_c)
        if _skipped(relative):
            continue
        if path.is_symlink():
            files[relative.as_posix()] = f"-> {path.readlink()}"
        elif path.is_dir():
            files[relative.as_posix()] = "<dir>"
        else:
            files[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    registry: dict[str, tuple[str, ...]] = {}
    for hive, name in _HIVES.items():
        registry |= _read_hive(prefix.path / name, hive)
    return MachineState(files, registry)


def _read_hive(path: Path, hive: str) -> dict[str, tuple[str, ...]]:
    keys: dict[str, tuple[str, ...]] = {}
    current: str | None = None
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("["):
            if current is not None:
                keys[current] = tuple(lines)
            name = line[1 : line.rindex("]")]  # the key's modification time follows
            ours = any(pattern.search(name.lower()) for pattern in _KEY_PATTERNS)
            current = f"{hive}\\{name}" if ours else None
            lines = []
        elif current is not None and line and not line.startswith("#"):
            lines.append(line)
    if current is not None:
        keys[current] = tuple(lines)
    return keys


def differences(before: MachineState, after: MachineState) -> list[str]:
    """Every file and registry key that was added, removed or changed, one line each."""
    found = []
    for label, old, new in (
        ("file", before.files, after.files),
        ("registry key", before.registry, after.registry),
    ):
        for name in sorted(old.keys() | new.keys()):
            if name not in new:
                found.append(f"{label} removed: {name}")
            elif name not in old:
                found.append(f"{label} added: {name}")
            elif old[name] != new[name]:
                found.append(f"{label} changed: {name}")
    return found
