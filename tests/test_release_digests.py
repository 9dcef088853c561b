"""Image digests in release.json (build_scripts/release/summary.py)."""

from __future__ import annotations

import json

from build_scripts.core.metadata import current_release
from build_scripts.release import summary


def test_digests_are_recorded_per_place_and_survive_a_new_manifest(tmp_path, monkeypatch):
    monkeypatch.setattr("build_scripts.core.paths.dist_dir", lambda version: tmp_path / version)
    release = current_release("1.2.3")
    summary.record_image_digests(release, "local", {"backend": "sha256:a"})
    summary.record_image_digests(release, "127.0.0.1:5000", {"orchestrator": "sha256:b"})
    assert summary.recorded_image_digests(release, "local") == {"backend": "sha256:a"}
    assert summary.recorded_image_digests(release, "elsewhere") == {}
    written = json.loads((release.dist_dir / "release.json").read_text())
    assert written["version"] == "1.2.3"
    assert written["image_digests"] == {
        "local": {"backend": "sha256:a"},
        "127.0.0.1:5000": {"orchestrator": "sha256:b"},
    }
