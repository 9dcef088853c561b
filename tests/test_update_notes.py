"""Release notes: the commits since the previous release tag, grouped by the paths they touch."""

from __future__ import annotations

import subprocess
from pathlib import Path

from build_scripts.updates import notes


def _commit(repo: Path, subject: str, *files: str) -> None:
    for name in files:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{subject}\n")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", subject],
        cwd=repo,
        check=True,
    )


def _tag(repo: Path, name: str) -> None:
    subprocess.run(["git", "tag", name], cwd=repo, check=True)


def test_notes_list_the_commits_since_the_previous_tag_grouped_by_what_they_touch(git_repo):
    _commit(git_repo, "desktop: old window", "desktop/app.go")
    _tag(git_repo, "v1.0.0")
    _commit(git_repo, "README: how to update", "README.md")
    _commit(git_repo, "installer: per-user scope", "build_scripts/windows_installer.nsi", "x.md")
    _commit(git_repo, "desktop: update button", "desktop/update.go", "tests/test_x.py")
    _commit(git_repo, "misc: a stray file", "LICENSE")
    _tag(git_repo, "v1.1.0")  # the release itself: the notes start at the tag before it

    assert notes.previous_tag(git_repo, "1.1.0") == "v1.0.0"
    assert notes.previous_tag(git_repo, "1.0.0") is None
    assert notes.previous_tag(git_repo, "1.1.0-rc.1") == "v1.0.0"  # rc.1 < 1.1.0: not its own
    text = notes.release_notes(git_repo, "TraderAdmin", "1.1.0", "2026-12-06")
    body = [line for line in text.splitlines() if line]
    assert body[0] == "# TraderAdmin 1.1.0"
    assert body[1] == "Changes since v1.0.0, 4 commits; released 2026-12-06."
    sections = {}
    for line in body[2:]:
        if line.startswith("## "):
            current = sections.setdefault(line[3:], [])
        else:
            current.append(line.split(" (")[0])
    assert sections == {
        "Desktop app": ["- desktop: update button"],
        "Installer": ["- installer: per-user scope"],
        "Documentation": ["- README: how to update"],
        "Other changes": ["- misc: a stray file"],
    }
    assert "old window" not in text
    # The same history gives the same bytes (the notes are in signed, reproducible manifests).
    assert notes.release_notes(git_repo, "TraderAdmin", "1.1.0", "2026-12-06") == text


def test_without_an_earlier_tag_the_notes_cover_the_history_up_to_a_cap(git_repo, monkeypatch):
    for number in range(3):
        _commit(git_repo, f"backend: change {number}", f"backend/f{number}.go")
    text = notes.release_notes(git_repo, "TraderAdmin", "0.1.0", "2026-12-06")
    assert "All changes (no earlier release tag), 4 commits" in text
    monkeypatch.setattr(notes, "MAX_COMMITS", 2)
    capped = notes.release_notes(git_repo, "TraderAdmin", "0.1.0", "2026-12-06")
    assert "The last 2 changes (no earlier release tag), 2 commits" in capped
    assert "backend: change 2" in capped and "backend: change 0" not in capped


def test_outside_git_the_notes_say_there_is_no_history_rather_than_failing(tmp_path):
    text = notes.release_notes(tmp_path, "TraderAdmin", "1.0.0", "2026-12-06")
    assert text.endswith("No changes recorded (no commits found in git).\n")
