"""Release notes from git: the commits since the previous release tag, grouped by what they touch.

Grouped by path, not by message: this project's commit subjects say `area: what changed`
(`installer: …`, `README: …`), not Conventional Commits, so git-cliff's message parsers would
need a rule per area and still miss commits whose area word is a file name; the files a commit
changes say reliably whether it is about the desktop app, the installer or the release engine.
A commit goes to the first group (in GROUPS order: product first, tests and documents last)
that one of its files belongs to. Merges are left out (their branch's commits are listed).

The previous release is the newest vX.Y.Z tag reachable from HEAD that is lower than this
version (SemVer order); without one, the notes cover the last MAX_COMMITS commits. The text
depends on git history and SOURCE_DATE_EPOCH only, so a rebuild writes the same bytes.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import cmd
from build_scripts.core.errors import InvalidVersion, ReleaseError
from build_scripts.updates import versions

MAX_COMMITS = 200
OTHER = "Other changes"
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Desktop app", ("desktop/*",)),
    ("Installer", ("build_scripts/windows_installer.nsi", "build_scripts/windows/*")),
    ("Backend", ("backend/*",)),
    ("Orchestrator", ("orchestrator/*",)),
    (
        "Deployment",
        ("deploy/*", "docker/*", "build_scripts/kube/*", "build_scripts/cluster/*"),
    ),
    (
        "Release engine",
        ("build_scripts/*", "tasks.py", "noxfile.py", "pyproject.toml", "release.toml", "*.yaml"),
    ),
    ("Tests", ("tests/*", "features/*")),
    ("Documentation", ("*.md",)),
)


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    files: tuple[str, ...]


def _git(repo: Path, *arguments: str) -> str:
    """git's output; '' outside a git checkout (a source tarball has no history to tell)."""
    try:
        return cmd.output_of(["git", *arguments], step="release notes", cwd=repo)
    except ReleaseError:
        return ""


def previous_tag(repo: Path, version: str) -> str | None:
    """The newest v* tag reachable from HEAD whose version is lower than version."""
    current = versions.parse(version)
    found = []
    for tag in _git(repo, "tag", "--merged", "HEAD", "--list", "v*").split():
        try:
            parsed = versions.parse(tag[1:])
        except InvalidVersion:
            continue
        if parsed < current:
            found.append((parsed, tag))
    return max(found)[1] if found else None


def commits(repo: Path, since: str | None) -> list[Commit]:
    """Commits after `since` (a tag) up to HEAD, newest first; without one, the last
    MAX_COMMITS."""
    limit = [f"{since}..HEAD"] if since else [f"--max-count={MAX_COMMITS}", "HEAD"]
    text = _git(repo, "log", "--no-merges", "--format=%x1e%H%x1f%s", "--name-only", *limit)
    found = []
    for record in text.split("\x1e"):
        if not record.strip():
            continue
        head, _, names = record.partition("\n")
        sha, _, subject = head.partition("\x1f")
        files = tuple(line for line in names.splitlines() if line.strip())
        found.append(Commit(sha.strip(), subject.strip(), files))
    return found


def group_of(commit: Commit) -> str:
    for name, patterns in GROUPS:
        if any(fnmatch.fnmatchcase(f, p) for f in commit.files for p in patterns):
            return name
    return OTHER


def render(product: str, version: str, date: str, since: str | None, found: list[Commit]) -> str:
    """The notes as Markdown: a heading, what they cover, one section per group."""
    if since:
        scope = f"Changes since {since}"
    elif len(found) >= MAX_COMMITS:
        scope = f"The last {MAX_COMMITS} changes (no earlier release tag)"
    else:
        scope = "All changes (no earlier release tag)"
    count = f"{len(found)} commit{'s' if len(found) != 1 else ''}"
    lines = [f"# {product} {version}", "", f"{scope}, {count}; released {date}."]
    grouped: dict[str, list[Commit]] = {}
    for commit in found:
        grouped.setdefault(group_of(commit), []).append(commit)
    for name in [*(g for g, _ in GROUPS), OTHER]:
        if name in grouped:
            lines += ["", f"## {name}", ""]
            lines += [f"- {c.subject} ({c.sha[:8]})" for c in grouped[name]]
    if not found:
        lines += ["", "No changes recorded (no commits found in git)."]
    return "\n".join(lines) + "\n"


def release_notes(repo: Path, product: str, version: str, date: str) -> str:
    since = previous_tag(repo, version)
    return render(product, version, date, since, commits(repo, since))
