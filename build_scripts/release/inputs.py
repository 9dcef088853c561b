"""What a release step reads, declared, and its fingerprint: one digest per input.

A step declares source paths (files, folders or globs relative to the repository), the tools
whose versions matter, and parameters (the version, the commit, flags). The outputs of the steps
it needs are inputs too. The fingerprint maps each input to a digest; comparing it with the one
recorded after the last successful run says whether the step is up to date, and if not, which
input changed.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import paths, tools
from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import Release
from build_scripts.release.digests import DigestCache

GLOB_CHARACTERS = set("*?[")
# Without git (a source tarball), these never count as sources.
NOT_SOURCES = {".git", "node_modules", "__pycache__", ".nox", "dist", "reports", ".pytest_cache"}


@dataclass(frozen=True)
class Inputs:
    # Repository-relative files, folders (every source file below) or glob patterns.
    sources: tuple[str, ...] = ()
    # Glob patterns (repository-relative) of source files that do not matter.
    exclude: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    params: Callable[[Release], Mapping[str, object]] | None = None


@functools.lru_cache(maxsize=4)
def source_files(repo: Path) -> tuple[str, ...]:
    """Every source file of the tree, as git sees it: tracked, or untracked and not ignored."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = [
            p.relative_to(repo).as_posix()
            for p in repo.rglob("*")
            if p.is_file() and not NOT_SOURCES & set(p.relative_to(repo).parts)
        ]
    # A tracked file deleted in the work tree is still listed by git.
    return tuple(sorted(n for n in set(names) if (repo / n).is_file()))


def select(files: tuple[str, ...], sources: tuple[str, ...], exclude: tuple[str, ...]) -> list:
    chosen = []
    for name in files:
        for pattern in sources:
            if GLOB_CHARACTERS & set(pattern):
                hit = fnmatch.fnmatchcase(name, pattern)
            else:
                hit = name == pattern or name.startswith(pattern.rstrip("/") + "/")
            if hit:
                break
        else:
            continue
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude):
            chosen.append(name)
    return chosen


# How to ask each tool for its version (argv after the program), when not `--version`.
VERSION_ARGS = {
    "go": ("env", "GOVERSION"),
    "wails": ("version",),
    "makensis": ("-VERSION",),
    "minisign": ("-v",),
}


def tool_version(name: str, cache: DigestCache) -> str:
    """The version a tool reports, remembered per binary (size, mtime); 'missing' if absent."""
    if name == "python":
        return sys.version.split()[0]
    if name == "pip":
        return importlib.metadata.version("pip")
    try:
        program = tools.resolve_program(name)
    except ReleaseError:  # missing: an input value like any other (the step will say more)
        return "missing"
    stat = os.stat(program)

    def ask() -> str:
        argv = [program, *VERSION_ARGS.get(name, ("--version",))]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        text = (done.stdout or done.stderr).strip().splitlines()
        return text[0].strip() if text else f"exit {done.returncode}"

    return cache.remembered(f"tool:{name}", [program, stat.st_size, stat.st_mtime_ns], ask)


def fingerprint(
    inputs: Inputs,
    release: Release,
    cache: DigestCache,
    prerequisite_outputs: Mapping[str, list[Path]],
) -> dict[str, str]:
    """Input name -> digest or value: `src:`, `out:<step>:`, `tool:` and `param:` entries."""
    repo = paths.repo_root()
    found: dict[str, str] = {}
    for name in select(source_files(repo), inputs.sources, inputs.exclude):
        found[f"src:{name}"] = cache.sha256(repo / name)
    for step, outputs in prerequisite_outputs.items():
        for path in outputs:
            key = output_key(release, path)
            found[f"out:{step}:{key}"] = cache.sha256(path) if path.is_file() else "missing"
    for tool in inputs.tools:
        found[f"tool:{tool}"] = tool_version(tool, cache)
    if inputs.params:
        for key, value in inputs.params(release).items():
            found[f"param:{key}"] = str(value)
    return found


def output_key(release: Release, path: Path) -> str:
    """How a step's output is named in records: relative to dist/<version>/, or, for an
    intermediate kept outside it (the built front end), its absolute path."""
    try:
        return path.relative_to(release.dist_dir).as_posix()
    except ValueError:
        return path.as_posix()


def describe_change(old: Mapping[str, str] | None, new: Mapping[str, str], limit: int = 3) -> str:
    """Which inputs differ, in words: 'backend/main.go changed', 'tool go: 1.22 → 1.23'."""
    if old is None:
        return "no record of an earlier run"
    changes = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        kind, _, name = key.partition(":")
        if kind in ("tool", "param"):
            changes.append(f"{kind} {name}: {before or 'unset'} → {after or 'unset'}")
        elif kind == "out":
            step, _, file = name.partition(":")
            changes.append(f"{file} (from {step}) {'changed' if before and after else 'new'}")
        elif before is None:
            changes.append(f"{name} added")
        elif after is None:
            changes.append(f"{name} removed")
        else:
            changes.append(f"{name} changed")
    if len(changes) > limit:
        changes = [*changes[:limit], f"and {len(changes) - limit} more"]
    return ", ".join(changes)
