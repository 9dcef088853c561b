"""The image build context is a scratch copy of the inputs, never the release folder."""

import pytest

from build_scripts.core.errors import ConfigError
from build_scripts.images import specs
from build_scripts.images.context import staged_context
from tests.support import pinned_release


def test_the_context_holds_the_inputs_and_its_dockerignore_outside_dist(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    release = pinned_release()
    binary = release.dist_dir / "backend" / "traderadmin-backend-linux-amd64"
    wheel = release.dist_dir / "orchestrator" / "wheelhouse" / "x-1-py3-none-any.whl"
    for path in (binary, wheel):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"data")
    (release.dist_dir / "TraderAdmin_Setup_v0.7.0.exe").write_bytes(b"MZ")
    before = sorted(p.relative_to(release.dist_dir) for p in release.dist_dir.rglob("*"))
    with staged_context(release, specs.IMAGES.values()) as context:
        assert not context.is_relative_to(tmp_path / "dist")
        inside = sorted(
            p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file()
        )
        assert inside == [
            ".dockerignore",
            "backend/traderadmin-backend-linux-amd64",
            "orchestrator/wheelhouse/x-1-py3-none-any.whl",
        ]
    assert not context.exists()
    # Nothing was added to the release folder (the stray .dockerignore of old).
    assert sorted(p.relative_to(release.dist_dir) for p in release.dist_dir.rglob("*")) == before


def test_a_missing_input_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    with (
        pytest.raises(ConfigError, match="traderadmin-backend-linux-amd64 is missing"),
        staged_context(pinned_release(), [specs.IMAGES["backend"]]),
    ):
        pass
