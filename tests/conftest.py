from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def reports_of_its_own(tmp_path_factory, monkeypatch):
    """reports/ of the test's own: a release a test runs (in this process or as `invoke`) adds
    to reports/history.jsonl and writes a report page, never into this machine's."""
    monkeypatch.setenv("TRADERADMIN_REPORTS", str(tmp_path_factory.mktemp("reports")))


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A tiny git repository with release.toml and one commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "release.toml").write_text(
        "[product]\nname='TraderAdmin'\npublisher='P'\ndescription='d'\ncopyright='c'\n"
        "homepage='h'\napp_id='a.b'\nimage_prefix='traderadmin'\nwindows_uninstall_key='T'\n"
        "[version]\nnext='1.4.0'\n"
    )
    for argv in (
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init"],
    ):
        subprocess.run(argv, cwd=repo, check=True)
    return repo


@pytest.fixture
def world(git_repo, tmp_path, monkeypatch):
    """The release graph of fake steps in a repository of its own (tests/release_world.py)."""
    from tests.release_world import make_world

    return make_world(git_repo, tmp_path, monkeypatch)
