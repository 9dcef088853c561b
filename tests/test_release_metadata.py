"""Bad release.toml: one clear error line before anything runs, exit 2, no traceback."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from build_scripts.core import metadata
from build_scripts.core.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
GOOD = {
    "name": "TraderAdmin",
    "publisher": "TraderAdmin Project",
    "description": "d",
    "copyright": "c",
    "homepage": "https://traderadmin.invalid/",
    "app_id": "org.traderadmin.TraderAdmin",
    "image_prefix": "traderadmin",
    "windows_uninstall_key": "TraderAdmin",
}


def _toml(product: dict, next_version: str = "0.7.0") -> str:
    lines = ["[product]", *(f"{k} = {v!r}".replace("'", '"') for k, v in product.items())]
    return "\n".join([*lines, "[version]", f'next = "{next_version}"', ""])


def test_the_projects_release_toml_is_valid():
    assert metadata.load_product(REPO / "release.toml")["name"] == "TraderAdmin"


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("name", "Trader/Admin", "is not a file name"),
        ("name", "Trader:Admin", "is not a file name"),
        ("name", "..", "is not a file name"),
        ("image_prefix", "TraderAdmin", "is not an image repository prefix"),
        ("image_prefix", "trader admin", "is not an image repository prefix"),
        ("image_prefix", "trader//admin", "is not an image repository prefix"),
        ("windows_uninstall_key", "Trader\\Admin", "is not a registry key and file name"),
        ("windows_uninstall_key", "Trader*", "is not a registry key and file name"),
        ("app_id", "traderadmin", "is not a reverse-DNS id"),
        ("publisher", "", "must be a non-empty string"),
    ],
)
def test_values_that_cannot_go_where_they_go_are_refused(tmp_path, key, value, words):
    path = tmp_path / "release.toml"
    path.write_text(_toml({**GOOD, key: value}))
    with pytest.raises(ConfigError) as caught:
        metadata.load_product(path)
    line = caught.value.one_line()
    assert words in line and key in line and "\n" not in line
    assert caught.value.exit_code == 2


def test_a_missing_key_is_named(tmp_path):
    path = tmp_path / "release.toml"
    path.write_text(_toml({k: v for k, v in GOOD.items() if k != "image_prefix"}))
    with pytest.raises(ConfigError, match=r"\[product\] has no image_prefix"):
        metadata.load_product(path)


@pytest.fixture
def engine_copy(tmp_path):
    """The engine and its task file in a scratch folder (its own release.toml and dist/)."""
    root = tmp_path / "copy"
    root.mkdir()
    shutil.copytree(
        REPO / "build_scripts", root / "build_scripts", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("tasks.py", "invoke.yaml"):
        shutil.copy(REPO / name, root / name)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.mark.parametrize(
    "product, words",
    [
        ({k: v for k, v in GOOD.items() if k != "windows_uninstall_key"}, "has no windows_unin"),
        ({**GOOD, "image_prefix": "Trader_Admin!"}, "image_prefix = 'Trader_Admin!' is not"),
        ({**GOOD, "name": "Trader Admin"}, "name = 'Trader Admin' is not a file name"),
    ],
)
def test_invoke_release_stops_with_one_line_before_anything_runs(engine_copy, product, words):
    (engine_copy / "release.toml").write_text(_toml(product))
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "release"],
        cwd=engine_copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], output
    assert not (engine_copy / "dist").exists()
