import subprocess

import pytest

from build_scripts.core.artifacts import Artifact
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import current_release
from build_scripts.release import graph as release
from build_scripts.release import summary


def _step(name, needs=(), produce=lambda r: []):
    return release.Step(name, f"make {name}", produce, tuple(needs))


def test_plan_puts_prerequisites_first_and_once():
    steps = [
        _step("installer", ["desktop"]),
        _step("desktop"),
        _step("images"),
        _step("manifests", ["images"]),
    ]
    names = [s.name for s in release.plan(steps, ["installer", "manifests", "desktop"])]
    assert names == ["desktop", "installer", "images", "manifests"]


def test_plan_rejects_unknown_steps_naming_the_choices():
    with pytest.raises(ConfigError) as caught:
        release.plan([_step("desktop")], ["dekstop"])
    assert "dekstop" in caught.value.one_line() and "desktop" in caught.value.hint


def test_run_writes_checksums_that_sha256sum_verifies(git_repo, tmp_path, monkeypatch):
    monkeypatch.setattr("build_scripts.core.paths.repo_root", lambda: git_repo)
    current = current_release(repo=git_repo)

    def produce(r):
        path = r.dist_dir / "hello.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"hello")
        return [Artifact(path, "unsigned")]

    artifacts = release.run(current, [_step("hello", produce=produce)])
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=current.dist_dir, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "unsigned" in summary.table(artifacts, current.dist_dir)
    assert artifacts[0].sha256 == (
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
