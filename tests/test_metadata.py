import subprocess

import pytest

from build_scripts.core import metadata
from build_scripts.core.errors import InvalidVersion


def _git(repo, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("1.2.3-rc.1", "1.2.3-rc.1"),
        ("1.2.3-rc.1+build.5", "1.2.3-rc.1+build.5"),
        ("0.0.0", "0.0.0"),
    ],
)
def test_parse_version_accepts_semver(text, expected):
    assert str(metadata.parse_version(text)) == expected


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "latest", "1.2.3.4", "", "1.70000.0"])
def test_parse_version_rejects_with_one_line_and_hint(text):
    with pytest.raises(InvalidVersion) as caught:
        metadata.parse_version(text)
    line = caught.value.one_line()
    assert "\n" not in line
    assert repr(text) in line
    assert caught.value.exit_code == 2


def test_snapshot_off_a_tag_carries_the_short_commit(git_repo):
    release = metadata.current_release(repo=git_repo)
    sha = _git(git_repo, "rev-parse", "--short=8", "HEAD")
    assert release.version_text == f"1.4.0-dev.g{sha}"
    assert release.is_snapshot
    assert release.image_tag == release.version_text
    assert release.windows_version == "1.4.0.0"


def test_tag_on_head_wins_over_release_toml(git_repo):
    subprocess.run(["git", "tag", "v1.3.9"], cwd=git_repo, check=True)
    subprocess.run(["git", "tag", "not-a-version"], cwd=git_repo, check=True)
    release = metadata.current_release(repo=git_repo)
    assert release.version_text == "1.3.9"
    assert not release.is_snapshot
    assert release.installer_name == "TraderAdmin_Setup_v1.3.9.exe"


def test_override_wins_over_tag(git_repo):
    subprocess.run(["git", "tag", "v1.3.9"], cwd=git_repo, check=True)
    release = metadata.current_release("2.0.0+meta", repo=git_repo)
    assert release.version_text == "2.0.0+meta"
    assert release.image_tag == "2.0.0_meta"


def test_source_date_epoch_is_the_commit_time(git_repo):
    epoch = _git(git_repo, "log", "-1", "--format=%ct")
    assert metadata.current_release(repo=git_repo).source_date_epoch == int(epoch)
