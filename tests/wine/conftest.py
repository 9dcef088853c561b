"""Shared fixtures of the Wine tests: the X display, the releases under test (built once per
session), and a fresh Windows 10 prefix per test, copied from a template made once.

A copy of a just-made prefix is as fresh as running wineboot again (nothing has run in it), and
takes seconds instead of half a minute.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from build_scripts.core import cmd, metadata, x11
from build_scripts.desktop import build as desktop
from build_scripts.updates import keys
from build_scripts.windows import installer, signing, wine


@dataclasses.dataclass(frozen=True)
class Builds:
    old: metadata.Release
    new: metadata.Release
    old_installer: Path  # signed with a throwaway certificate
    new_installer: Path  # unsigned
    old_app: Path  # each release's TraderAdmin.exe, kept (both builds write to one folder)
    new_app: Path
    certificate: signing.SigningConfig
    root: Path
    update_key: keys.UpdateKey  # built into both apps: the update tests' feed is signed with it


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    if os.environ.get("DISPLAY"):  # under xvfb-run (nox -s installer)
        yield os.environ["DISPLAY"]
        return
    with x11.virtual_display() as value:
        yield value


@pytest.fixture(scope="session")
def builds(tmp_path_factory) -> Builds:
    """Two real releases, desktop app and installer each: the one installed, and the next."""
    root = tmp_path_factory.mktemp("releases")
    certificate = signing.make_test_certificate(root / "certificate")
    update_key = keys.make_key_pair(root / "update-key")
    old = metadata.current_release("0.7.0-test.1")
    new = metadata.current_release("0.7.1-test.1")
    installers, apps = [], []
    for release, config in ((old, certificate), (new, None)):
        installer_path, app = _build_installer(release, root, config, update_key)
        installers.append(installer_path)
        apps.append(app)
    return Builds(
        old, new, installers[0], installers[1], apps[0], apps[1], certificate, root, update_key
    )


def _build_installer(
    release, root, signing_config, update_key, extra_ldflags=()
) -> tuple[Path, Path]:
    """The release's installer and its TraderAdmin.exe, kept apart: every release's desktop
    build writes the same folder below root."""
    desktop.build(
        release,
        ["windows/amd64"],
        root=root,
        signing_config=signing_config,
        update_public_key=update_key.public_key,
        extra_ldflags=extra_ldflags,
    )
    app = desktop.binary_path(release, "windows/amd64", root)
    built = installer.build_installer(
        release, app_exe=app, root=root, signing_config=signing_config
    ).path
    kept = root / release.version_text / app.name
    kept.parent.mkdir(exist_ok=True)
    shutil.copyfile(app, kept)
    return built, kept


@dataclasses.dataclass(frozen=True)
class FailingBuild:
    release: metadata.Release
    installer: Path


@pytest.fixture(scope="session")
def failing_build(builds) -> FailingBuild:
    """A third release whose app fails its first start after an update (the test knob of
    desktop/internal/update; release builds never set it), with its installer."""
    release = metadata.current_release("0.7.2-test.1")
    knob = "-X traderadmin/desktop/internal/update.failStartForTest=1"
    path, _ = _build_installer(release, builds.root, None, builds.update_key, [knob])
    return FailingBuild(release, path)


@pytest.fixture(scope="session")
def prefix_template(tmp_path_factory, display) -> Path:
    """A new Windows 10 prefix with the WebView2 Runtime's detection key, never run in."""
    path = tmp_path_factory.mktemp("wine-template") / "prefix"
    prefix = wine.create_prefix(path, display=display)
    wine.register_webview2_runtime(prefix)
    prefix.shutdown()
    return path


def copy_prefix(template: Path, display: str, windows: str | None = None) -> wine.Prefix:
    root = Path(tempfile.mkdtemp(prefix="traderadmin-wine-"))
    prefix = wine.Prefix(root / "prefix", display)
    cmd.run(["cp", "-a", template, prefix.path], step="copy prefix", quiet=True)
    if windows:
        prefix.set_windows_version(windows)
    return prefix


@pytest.fixture
def prefix(prefix_template, display) -> Iterator[wine.Prefix]:
    """A fresh Windows 10 machine for one test (with the WebView2 Runtime registered)."""
    prefix = copy_prefix(prefix_template, display)
    try:
        yield prefix
    finally:
        _discard(prefix)


@pytest.fixture
def make_prefix(prefix_template, display) -> Iterator:
    """Call with a Windows version (winecfg -v) for a fresh prefix of that version."""
    made: list[wine.Prefix] = []

    def make(windows: str | None = None) -> wine.Prefix:
        made.append(copy_prefix(prefix_template, display, windows))
        return made[-1]

    yield make
    for prefix in made:
        _discard(prefix)


def _discard(prefix: wine.Prefix) -> None:
    prefix.shutdown()
    shutil.rmtree(prefix.path.parent, ignore_errors=True)
