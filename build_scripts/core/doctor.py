"""`invoke doctor`: every tool of the catalogue, found or missing, its version and path."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

from build_scripts.core import cmd, progress
from build_scripts.core.errors import ReleaseError
from build_scripts.core.tools import CATALOGUE, Tool, find


def library_version(tool: Tool) -> str | None:
    if not shutil.which("pkg-config"):
        return None
    probe = cmd.run(
        ["pkg-config", "--modversion", tool.pkg_config],
        step="doctor",
        capture=True,
        quiet=True,
        check=False,
    )
    return probe.output.strip() if probe.returncode == 0 else None


def program_version(tool: Tool, path: str) -> str:
    try:
        probe = cmd.run(
            [path, *tool.version_args],
            step="doctor",
            capture=True,
            quiet=True,
            check=False,
            timeout=20,
        )
    except ReleaseError:
        return "?"
    for line in probe.output.splitlines():
        match = re.search(r"v?\d+\.\d+(\.\d+)?[\w.+~-]*", line)
        if match:
            return match.group(0)
    return "?"


@dataclass(frozen=True)
class Diagnosis:
    tool: Tool
    path: str | None
    version: str | None

    @property
    def found(self) -> bool:
        return self.path is not None


def diagnose(names: list[str] | None = None) -> list[Diagnosis]:
    """Look up every tool in the catalogue (or the named ones)."""
    rows = []
    for tool in CATALOGUE:
        if names and tool.name not in names:
            continue
        if tool.pkg_config:
            version = library_version(tool)
            rows.append(
                Diagnosis(tool, f"pkg-config:{tool.pkg_config}" if version else None, version)
            )
            continue
        path = find(tool)
        rows.append(Diagnosis(tool, path, program_version(tool, path) if path else None))
    return rows


def doctor_table(rows: list[Diagnosis]) -> str:
    header = ("tool", "status", "version", "path / how to install")
    lines = [header]
    for row in rows:
        if row.found:
            lines.append((row.tool.name, "ok", row.version or "?", row.path or ""))
        elif row.tool.built_by:
            lines.append((row.tool.name, "on demand", "-", f"built by {row.tool.built_by}"))
        else:
            lines.append((row.tool.name, "MISSING", "-", f"{row.tool.install}"))
    return progress.table(lines)
