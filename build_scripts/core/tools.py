"""The external tools the release needs: where to find them, their versions, how to install.

Every step that needs a program asks `require(name)` (cmd.run does it for argv[0]), so a
missing tool always fails the same way: its name and the exact command that installs it.
`invoke doctor` prints the whole catalogue (doctor.py). This module runs nothing, so cmd.py
can use it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from build_scripts.core import paths
from build_scripts.core.errors import ReleaseError, ToolMissing

# The catalogue itself (data) lives beside this module; its names are used through tools.
from build_scripts.core.tool_catalogue import (
    APT_PACKAGES,
    CATALOGUE,
    REGISTRY_MODULE,
    REGISTRY_VERSION,
    WAILS_MODULE,
    WAILS_VERSION,
    Tool,
)

__all__ = [
    "APT_PACKAGES",
    "CATALOGUE",
    "REGISTRY_MODULE",
    "REGISTRY_VERSION",
    "WAILS_MODULE",
    "WAILS_VERSION",
    "Tool",
    "by_name",
    "engine_bin_dir",
    "find",
    "missing_error",
    "require",
    "resolve_program",
]


def engine_bin_dir() -> Path:
    return paths.bin_dir()


def by_name(name: str) -> Tool | None:
    for tool in CATALOGUE:
        if tool.name == name:
            return tool
    return None


def find(tool: Tool) -> str | None:
    """The path of a program tool, or None. PATH first, then the engine's bin dir."""
    search = os.pathsep.join([os.environ.get("PATH", ""), str(engine_bin_dir())])
    for candidate in tool.candidates or (tool.name,):
        if os.path.isabs(candidate):
            if os.access(candidate, os.X_OK):
                return candidate
            continue
        found = shutil.which(candidate, path=search)
        if found:
            return found
    return None


def missing_error(name: str) -> ToolMissing:
    tool = by_name(name)
    if tool is None:
        return ToolMissing(f"{name} not found on PATH", "install it, or run: invoke bootstrap")
    return ToolMissing(
        f"{name} not found (needed for {tool.purpose})",
        f"install it with: {tool.install} (or run: invoke bootstrap)",
    )


def require(name: str) -> str:
    """The path of the named program, or ToolMissing naming the install command.

    Libraries (the pkg-config entries) are no programs: doctor.py checks those.
    """
    tool = by_name(name)
    found = find(tool) if tool else find(Tool(name, "", "", (name,)))
    if not found:
        raise missing_error(name)
    return found


def resolve_program(program: str) -> str:
    """argv[0] as cmd.run will execute it: an absolute path, or ToolMissing."""
    if os.sep in program:
        if not os.access(program, os.X_OK):
            raise ReleaseError(f"{program} is not an executable file")
        return program
    return require(program)
