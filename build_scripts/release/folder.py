"""SHA256SUMS and release.json: a description of the whole release folder.

Whatever subset of steps ran, both files list every file in dist/<version>/: release.json
first (version, commit, dirty flag, SOURCE_DATE_EPOCH, each artifact with size and sha256,
image ids, tool versions), then SHA256SUMS over every artifact and release.json. Excluded, and
only these: SHA256SUMS itself, release.json from its own list, and dot files (temporary files
of a write in progress; the engine removes those a killed run left before it starts).

They are removed before any step changes the folder and written again after all steps
succeeded, so a failed or interrupted run leaves no sums that do not match the files.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import atomic, paths
from build_scripts.core.metadata import Release
from build_scripts.release import state
from build_scripts.release.digests import DigestCache

SUMS = "SHA256SUMS"
MANIFEST = "release.json"
DESCRIBING = (SUMS, MANIFEST)


@dataclass(frozen=True)
class Entry:
    """One file of the release folder (the fields summary.table reads)."""

    path: Path
    size: int
    sha256: str
    note: str
    step: str


def artifact_files(dist_dir: Path) -> list[Path]:
    if not dist_dir.is_dir():
        return []
    return sorted(
        p
        for p in dist_dir.rglob("*")
        if p.is_file()
        and p.relative_to(dist_dir).as_posix() not in DESCRIBING
        and not any(part.startswith(".") for part in p.relative_to(dist_dir).parts)
    )


def entries(release: Release, cache: DigestCache, records: list[state.StepRecord]) -> list[Entry]:
    """Every artifact in the folder, with the step that made it and its note when known."""
    made_by = {rel: r.step for r in records for rel in r.outputs}
    notes = {rel: note for r in records for rel, note in r.notes.items()}
    found = []
    for path in artifact_files(release.dist_dir):
        relative = path.relative_to(release.dist_dir).as_posix()
        found.append(
            Entry(
                path,
                path.stat().st_size,
                cache.sha256(path),
                notes.get(relative, ""),
                made_by.get(relative, ""),
            )
        )
    return found


def is_dirty(repo: Path) -> bool | None:
    """Uncommitted changes (untracked, not ignored files count); None outside git."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return bool(done.stdout.strip())


def manifest(release: Release, found: list[Entry], records: list[state.StepRecord]) -> dict:
    tools: dict[str, str] = {}
    images: dict = {}
    extra: dict = {}
    for record in records:
        for key, value in record.inputs.items():
            if key.startswith("tool:"):
                tools[key.removeprefix("tool:")] = value
        images |= record.facts.get("images", {})
        for key, value in record.facts.items():
            if key != "images":
                extra[key] = value
    return {
        "product": release.product,
        "version": release.version_text,
        "commit": release.commit,
        "dirty": is_dirty(paths.repo_root()),
        "source_date_epoch": release.source_date_epoch,
        "artifacts": [
            {
                "path": e.path.relative_to(release.dist_dir).as_posix(),
                "size": e.size,
                "sha256": e.sha256,
                "step": e.step,
                "note": e.note,
            }
            for e in found
        ],
        "images": dict(sorted(images.items())),
        "tools": dict(sorted(tools.items())),
        **dict(sorted(extra.items())),
    }


def sums_text(lines: list[tuple[str, str]]) -> str:
    """`sha256sum -c` format: digest, two spaces, path relative to the folder."""
    return "".join(f"{digest}  {relative}\n" for relative, digest in sorted(lines))


def render(
    release: Release, cache: DigestCache, records: list[state.StepRecord]
) -> tuple[list[Entry], str, str]:
    """(entries, release.json text, SHA256SUMS text) for the folder as it is now."""
    root = release.dist_dir
    found = entries(release, cache, records)
    manifest_text = json.dumps(manifest(release, found, records), indent=2) + "\n"
    lines = [(e.path.relative_to(root).as_posix(), e.sha256) for e in found]
    lines.append((MANIFEST, hashlib.sha256(manifest_text.encode()).hexdigest()))
    return found, manifest_text, sums_text(lines)


def is_current(release: Release, manifest_text: str, sums: str) -> bool:
    root = release.dist_dir
    return all(
        (root / name).is_file() and (root / name).read_text() == text
        for name, text in ((MANIFEST, manifest_text), (SUMS, sums))
    )


def write(
    release: Release, cache: DigestCache, records: list[state.StepRecord]
) -> tuple[list[Entry], bool]:
    """Write release.json, then SHA256SUMS, unless both already say this; (entries, written)."""
    found, manifest_text, sums = render(release, cache, records)
    if is_current(release, manifest_text, sums):
        return found, False
    atomic.remove(release.dist_dir / SUMS)
    atomic.write_text(release.dist_dir / MANIFEST, manifest_text)
    atomic.write_text(release.dist_dir / SUMS, sums)
    return found, True


def withdraw(release: Release) -> None:
    """Remove the sums before the folder changes: no description of files that are not there."""
    for name in (SUMS, MANIFEST):
        atomic.remove(release.dist_dir / name)
