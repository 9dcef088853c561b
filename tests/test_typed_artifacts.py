"""Typed artifacts: a step's record keeps what kind each artifact is and what it is of, and the
steps after it (the installer, the image SBOMs, the manifests, the bundle) select by kind."""

from __future__ import annotations

import pytest

from build_scripts.core.artifacts import Artifact, Kind, select
from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import current_release
from build_scripts.release import bundle_step, made, state


def test_select_filters_by_kind_and_by_what_of(tmp_path):
    exe, linux, sbom = (
        Artifact(tmp_path / "a.exe", kind=Kind.BINARY, of="windows/amd64"),
        Artifact(tmp_path / "a", kind=Kind.BINARY, of="linux/amd64"),
        Artifact(tmp_path / "a.cdx.json", kind=Kind.SBOM, of="backend"),
    )
    found = [exe, linux, sbom, Artifact(tmp_path / "notes.txt")]
    assert select(found, Kind.BINARY) == [exe, linux]
    assert select(found, Kind.BINARY, "windows/amd64") == [exe]
    assert select(found, Kind.INSTALLER) == []
    # A step of another session that says nothing about its files: kind "file", no step yet.
    assert Artifact(tmp_path / "x").kind == Kind.FILE == "file"


def _record(release, step: str, *made: tuple[str, str, str]) -> None:
    """A completed step that made these (path, kind, of): files and record."""
    for path, _, _ in made:
        target = release.dist_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path)
    artifacts = [{"path": p, "note": f"{k} {o}", "kind": k, "of": o} for p, k, o in made]
    state.save_record(
        release.dist_dir, state.StepRecord(step, {}, {}, artifacts=artifacts, seconds=1.0)
    )


@pytest.fixture
def release(git_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    return current_release(repo=git_repo)


def test_one_names_what_the_steps_made_and_fails_when_they_made_none(release):
    with pytest.raises(ReleaseError, match="desktop-windows made 0 binary of windows/amd64"):
        made.one(release, ["desktop-windows"], Kind.BINARY, "windows/amd64")
    _record(release, "desktop-windows", ("desktop/w/T.exe", "binary", "windows/amd64"))
    found = made.one(release, ["desktop-windows"], Kind.BINARY, "windows/amd64")
    assert found.path == release.dist_dir / "desktop/w/T.exe"
    assert (found.step, found.note) == ("desktop-windows", "binary windows/amd64")


def test_the_bundle_packs_what_its_steps_made_by_kind_not_by_where_it_usually_is(release):
    # Unusual places: the bundle takes what the records say, wherever it is.
    _record(release, "desktop-linux", ("elsewhere/TraderAdmin", "binary", "linux/amd64"))
    _record(release, "installer", ("setup/Setup.exe", "installer", "windows/amd64"))
    _record(release, "image-backend", ("saved/b.tar", "image archive", "backend"))
    _record(release, "sbom-go", ("boms/backend.cdx.json", "sbom", "backend"))
    # Made, but not a kind the bundle packs as a file; and a step it does not need.
    _record(release, "manifests", ("m/local.yaml", "manifest", "local"))
    _record(release, "backend", ("backend/bin", "binary", "backend"))
    needs = ["desktop-linux", "installer", "image-backend", "sbom-go", "manifests"]
    plan = bundle_step.plan(release, needs)
    assert sorted(plan.files) == [
        "boms/backend.cdx.json",
        "elsewhere/TraderAdmin",
        "setup/Setup.exe",
    ]
    (image,) = plan.images
    assert (image.component, image.archive) == ("backend", release.dist_dir / "saved/b.tar")


def test_the_bundle_packs_the_msi_the_winget_manifests_and_the_detection_rules(release):
    _record(release, "msi", ("TraderAdmin-1-x64.msi", "installer", "msi"))
    _record(
        release,
        "winget",
        ("winget/T.yaml", "winget manifest", "version"),
        ("winget/T.installer.yaml", "winget manifest", "installer"),
    )
    _record(release, "deployment", ("deployment/detection-rules.md", "detection rules", ""))
    plan = bundle_step.plan(release, ["msi", "winget", "deployment"])
    assert sorted(plan.files) == [
        "TraderAdmin-1-x64.msi",
        "deployment/detection-rules.md",
        "winget/T.installer.yaml",
        "winget/T.yaml",
    ]
