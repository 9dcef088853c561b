import subprocess

import pytest

from build_scripts.core.metadata import current_release, python_version
from build_scripts.services import build as services


@pytest.mark.parametrize(
    "semver, pep440",
    [
        ("1.2.0", "1.2.0"),
        ("1.2.0-rc.1", "1.2.0rc1"),
        ("1.2.0-beta.2", "1.2.0b2"),
        ("1.2.0-dev.gabc1234", "1.2.0.dev0+gabc1234"),
        ("1.2.0-nightly.5", "1.2.0.dev0+nightly.5"),
    ],
)
def test_python_version_is_pep440(semver, pep440):
    assert python_version(current_release(semver)) == pep440


def test_backend_binary_is_static_and_stamped(tmp_path, monkeypatch):
    monkeypatch.setattr("build_scripts.core.paths.dist_dir", lambda version: tmp_path / version)
    release = current_release("3.1.4")
    binary = services.build_backend(release)
    assert binary == tmp_path / "3.1.4" / "backend" / "traderadmin-backend-linux-amd64"
    described = subprocess.run(["file", binary], capture_output=True, text=True).stdout
    assert "statically linked" in described and "stripped" in described, described
    shown = subprocess.run([binary, "-version"], capture_output=True, text=True)
    assert "3.1.4" in shown.stdout + shown.stderr
