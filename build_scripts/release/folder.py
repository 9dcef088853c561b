"""SHA256SUMS, release.json and the provenance: a description of the whole release folder.

Whatever subset of steps ran, they cover every file in dist/<version>/: first
provenance.intoto.json (subjects: every artifact), then release.json (version, commit, dirty
flag, SOURCE_DATE_EPOCH, each artifact with size and sha256, SBOMs, image ids, tool versions),
then SHA256SUMS over every artifact, the provenance and release.json. Excluded, and only
these: each describing file from its own list (and those written after it), and dot files
(temporary files of a write in progress; the engine removes those a killed run left before
it starts).

They are removed before any step changes the folder and written again after all steps
succeeded, so a failed or interrupted run leaves no sums that do not match the files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import atomic, cmd, paths, sums
from build_scripts.core.metadata import Release
from build_scripts.release import provenance, state
from build_scripts.release.digests import DigestCache

SUMS = sums.FILE_NAME
MANIFEST = "release.json"
# Removed in this order before the folder changes, written in the reverse order after.
DESCRIBING = (SUMS, MANIFEST, provenance.FILE_NAME)
SBOM_SUFFIX = ".cdx.json"


@dataclass(frozen=True)
class Entry:
    """One file of the release folder (the fields summary.table reads)."""

    path: Path
    size: int
    sha256: str
    note: str
    step: str
    # Why the file no longer matches its inputs, when the step that makes it was left out of
    # the run (`invoke bundle` makes the bundle; a plain release leaves an older one be).
    stale: str = ""
    # What kind of artifact its step said it is (core/artifacts.Kind); "" when not said.
    kind: str = ""


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


def entries(
    release: Release,
    cache: DigestCache,
    records: list[state.StepRecord],
    stale: dict[str, str] | None = None,
) -> list[Entry]:
    """Every artifact in the folder, with the step that made it and its note when known.

    stale: step name -> why its outputs no longer match their inputs (left-out steps only).
    """
    stale = stale or {}
    made_by = {rel: r.step for r in records for rel in r.outputs}
    notes = {rel: note for r in records for rel, note in r.notes.items()}
    kinds = {a["path"]: a["kind"] for r in records for a in r.artifacts}
    found = []
    for path in artifact_files(release.dist_dir):
        relative = path.relative_to(release.dist_dir).as_posix()
        step = made_by.get(relative, "")
        found.append(
            Entry(
                path,
                path.stat().st_size,
                cache.sha256(path),
                notes.get(relative, ""),
                step,
                stale.get(step, ""),
                kinds.get(relative, ""),
            )
        )
    return found


def is_dirty(repo: Path) -> bool | None:
    """Uncommitted changes (untracked, not ignored files count); None outside git."""
    done = cmd.run(
        ["git", "status", "--porcelain"],
        step="git status",
        cwd=repo,
        capture=True,
        quiet=True,
        check=False,
    )
    return bool(done.output.strip()) if done.returncode == 0 else None


def _tools_images_facts(records: list[state.StepRecord]) -> tuple[dict, dict, dict]:
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
    return dict(sorted(tools.items())), dict(sorted(images.items())), dict(sorted(extra.items()))


def manifest(
    release: Release, found: list[Entry], records: list[state.StepRecord], dirty: bool | None
) -> dict:
    tools, images, extra = _tools_images_facts(records)
    listed = [
        {
            "path": e.path.relative_to(release.dist_dir).as_posix(),
            "size": e.size,
            "sha256": e.sha256,
            "step": e.step,
            "note": e.note,
            **({"kind": e.kind} if e.kind else {}),
            **({"stale": e.stale} if e.stale else {}),
        }
        for e in found
    ]
    return {
        "product": release.product,
        "version": release.version_text,
        "commit": release.commit,
        "dirty": dirty,
        "source_date_epoch": release.source_date_epoch,
        "artifacts": listed,
        "sboms": [a["path"] for a in listed if a["path"].endswith(SBOM_SUFFIX)],
        "provenance": provenance.FILE_NAME,
        "images": images,
        "tools": tools,
        **extra,
    }


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def render(
    release: Release,
    cache: DigestCache,
    records: list[state.StepRecord],
    stale: dict[str, str] | None = None,
) -> tuple[list[Entry], list[tuple[str, str]]]:
    """The folder's entries, and the describing files in write order: (name, text) of the
    provenance, release.json and SHA256SUMS, each covering what comes before it."""
    root = release.dist_dir
    found = entries(release, cache, records, stale)
    dirty = is_dirty(paths.repo_root())
    lines = [(e.path.relative_to(root).as_posix(), e.sha256) for e in found]
    tools, _, _ = _tools_images_facts(records)
    statement = provenance.statement(release, lines, tools, dirty=dirty)
    provenance_text = json.dumps(statement, indent=2) + "\n"
    statement_entry = Entry(
        root / provenance.FILE_NAME,
        len(provenance_text.encode()),
        _sha256_text(provenance_text),
        "in-toto statement, SLSA v1 provenance",
        "checksums",
    )
    found = sorted([*found, statement_entry], key=lambda e: e.path)
    manifest_text = json.dumps(manifest(release, found, records, dirty), indent=2) + "\n"
    lines += [
        (provenance.FILE_NAME, statement_entry.sha256),
        (MANIFEST, _sha256_text(manifest_text)),
    ]
    documents = [
        (provenance.FILE_NAME, provenance_text),
        (MANIFEST, manifest_text),
        (SUMS, sums.format_sums(dict(lines))),
    ]
    return found, documents


def is_current(release: Release, documents: list[tuple[str, str]]) -> bool:
    root = release.dist_dir
    return all(
        (root / name).is_file() and (root / name).read_text() == text for name, text in documents
    )


def write(
    release: Release,
    cache: DigestCache,
    records: list[state.StepRecord],
    stale: dict[str, str] | None = None,
) -> tuple[list[Entry], bool]:
    """Write the provenance, release.json, then SHA256SUMS, unless all already say this."""
    found, documents = render(release, cache, records, stale)
    if is_current(release, documents):
        return found, False
    atomic.remove(release.dist_dir / SUMS)
    for name, text in documents:
        atomic.write_text(release.dist_dir / name, text)
    return found, True


def withdraw(release: Release) -> None:
    """Remove the sums before the folder changes: no description of files that are not there."""
    for name in DESCRIBING:
        atomic.remove(release.dist_dir / name)
