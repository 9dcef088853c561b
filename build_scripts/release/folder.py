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

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import atomic, cmd, paths, sums
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
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


def _still_true(root: Path, sums_text: str) -> str:
    """'' if the folder is exactly what SHA256SUMS lists, else the first file that is not."""
    try:
        listed = sums.parse_sums(sums_text)
    except VerificationFailed:
        return SUMS  # edited by hand: nothing to put back
    for relative, digest in sorted(listed.items()):
        if relative in DESCRIBING:
            continue  # put back as they were
        path = root / relative
        if not path.is_file() or sha256_of(path) != digest:
            return relative
    for path in artifact_files(root):
        relative = path.relative_to(root).as_posix()
        if relative not in listed:
            return relative
    return ""


@contextlib.contextmanager
def written_outside_the_graph(release: Release) -> Iterator[None]:
    """For a task that writes into the release folder on its own (installer.build,
    desktop.build, images.save): under the folder's lock, the describing files are taken away
    while it writes and put back only if every file is still what SHA256SUMS says. A changed
    file leaves the folder undescribed (never described wrongly) until `invoke release`."""
    root = release.dist_dir
    with state.folder_lock(root):
        kept = {name: (root / name).read_text() for name in DESCRIBING if (root / name).is_file()}
        withdraw(release)
        try:
            yield
        finally:
            # Also after a failure: a failed build leaves the previous files, still described.
            changed = _still_true(root, kept[SUMS]) if SUMS in kept else ""
            if SUMS in kept and not changed:
                for name in reversed(DESCRIBING):
                    if name in kept:
                        atomic.write_text(root / name, kept[name])
            elif changed:
                say(
                    f"{root.name}/{SUMS} and {MANIFEST} withdrawn: {changed} is not the file "
                    f"they described; `invoke release` describes the folder again"
                )
