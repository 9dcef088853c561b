"""ARCHITECTURE.md held against the code: every module under build_scripts/ is named in it,
and every module it names exists.

A module is named by its path below build_scripts/ (`core/cmd.py`) or from the repository root
(`build_scripts/core/cmd.py`); a bare `name.py` must be a file at the repository root
(`tasks.py`, `noxfile.py`), so that a module is never named without its wing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "build_scripts"
DOCUMENT = "ARCHITECTURE.md"
# A path to a Python file: folders, then name.py; not part of a longer word or path.
_PY_PATH = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.py)(?![\w/])")


@dataclass(frozen=True)
class Drift:
    unnamed: list[str]  # modules on disk the document does not name
    missing: list[str]  # paths the document names that do not exist

    def __bool__(self) -> bool:
        return bool(self.unnamed or self.missing)

    def describe(self) -> str:
        lines = [f"{DOCUMENT} does not name {m}" for m in self.unnamed]
        lines += [f"{DOCUMENT} names {m}, which does not exist" for m in self.missing]
        return "\n".join(lines)


def modules(repo: Path) -> list[str]:
    """Every module of the engine, as its path below build_scripts/ (packages' __init__.py
    are the folders themselves, named by the wing's line)."""
    root = repo / PACKAGE
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.name != "__init__.py"
    )


def named(text: str) -> list[str]:
    """The Python file paths a text names, as written."""
    return sorted(set(_PY_PATH.findall(text)))


def drift(repo: Path, text: str | None = None) -> Drift:
    text = (repo / DOCUMENT).read_text(encoding="utf-8") if text is None else text
    mentioned = named(text)
    as_modules = {m.removeprefix(f"{PACKAGE}/") for m in mentioned}
    unnamed = [m for m in modules(repo) if m not in as_modules]
    missing = []
    for path in mentioned:
        if "/" not in path:
            found = (repo / path).is_file()
        else:
            found = (repo / path).is_file() or (repo / PACKAGE / path).is_file()
        if not found:
            missing.append(path)
    return Drift(unnamed, missing)
