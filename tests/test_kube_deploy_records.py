"""What a deploy records and renders lives beside the release, never in its folder
(build_scripts/kube/deploy_records.py)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from build_scripts.core import paths
from build_scripts.core.metadata import current_release
from build_scripts.kube import deploy_records


def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    return current_release("1.2.3")


def test_digests_are_recorded_per_place_outside_the_release_folder(tmp_path, monkeypatch):
    release = _isolated(tmp_path, monkeypatch)
    deploy_records.record_image_digests(release, "local", {"backend": "sha256:a"})
    deploy_records.record_image_digests(release, "127.0.0.1:5000", {"orchestrator": "sha256:b"})
    assert deploy_records.recorded_image_digests(release, "local") == {"backend": "sha256:a"}
    assert deploy_records.recorded_image_digests(release, "127.0.0.1:5000") == {
        "orchestrator": "sha256:b"
    }
    assert deploy_records.recorded_image_digests(release, "elsewhere") == {}
    assert not release.dist_dir.exists()
    assert deploy_records.records_dir(release).is_relative_to(paths.cache_dir())


def test_a_damaged_record_counts_as_none(tmp_path, monkeypatch):
    release = _isolated(tmp_path, monkeypatch)
    deploy_records.record_image_digests(release, "local", {"backend": "sha256:a"})
    (deploy_records.records_dir(release) / deploy_records.DIGESTS).write_text("{not json")
    assert deploy_records.recorded_image_digests(release, "local") == {}


def _digests(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_deploy_render_leaves_the_release_folder_and_its_sums_as_they_were(tmp_path):
    dist = tmp_path / "dist"
    folder = dist / "1.2.3"
    (folder / "deploy").mkdir(parents=True)
    (folder / "deploy" / "local.yaml").write_text("# the release's own manifests\n")
    subprocess.run("sha256sum deploy/local.yaml > SHA256SUMS", shell=True, cwd=folder, check=True)
    before = _digests(folder)
    env = {**os.environ, "TRADERADMIN_DIST": str(dist), "TRADERADMIN_CACHE": str(tmp_path / "c")}
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "deploy.render", "--version", "1.2.3"],
        cwd=paths.repo_root(),
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    written = done.stdout.strip().splitlines()[-1]
    assert written.startswith(str(tmp_path / "c")) and written.endswith("local.yaml")
    assert "kind: Deployment" in Path(written).read_text()
    assert _digests(folder) == before
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert check.returncode == 0
