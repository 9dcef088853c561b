"""The desktop app updating itself for real (issue 23): three real Linux builds (the third made
to fail at start), a feed signed with Debian's minisign served on 127.0.0.1, the app run with
--check-update / --update under Xvfb, so each first start opens the real window.

The three builds happen once per session (tests/desktop_update_support.py): measured 34 s with a
warm Go cache on 2 cores, a few minutes cold.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from build_scripts.core import daemon, x11
from tests import desktop_update_support as support
from tests.desktop_update_support import V1, V2, V3

UNDONE_MESSAGE = f"Update to {V3} failed to start and was undone"


@pytest.fixture(scope="session")
def update_key(tmp_path_factory) -> support.UpdateKey:
    return support.make_key(tmp_path_factory.mktemp("update-key"))


@pytest.fixture(scope="session")
def versions(tmp_path_factory, update_key) -> dict[str, Path]:
    return support.build_versions(tmp_path_factory.mktemp("desktop-versions"), update_key)


@pytest.fixture(scope="session")
def display():
    with x11.virtual_display() as value:
        yield value


@pytest.fixture
def feed(tmp_path, update_key, versions):
    """Every version published; the test chooses what beta.json offers."""
    folder = support.Feed(tmp_path / "feed", update_key)
    for version, binary in versions.items():
        folder.add_version(version, binary)
    with support.served(folder.root) as url:
        folder.url = url
        yield folder


def installed(versions, feed, tmp_path, version) -> tuple[Path, Path]:
    return support.install(versions[version], tmp_path / "app", feed.url)


def reported_version(binary: Path) -> str:
    config = binary.parent / "config" / "config.toml"
    result = support.run_app(binary, config, "--version", display=None)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1]


def test_v1_updates_to_v2_and_keeps_v1_as_previous(versions, feed, tmp_path, display):
    feed.offer(V2)
    app, config = installed(versions, feed, tmp_path, V1)
    check = support.run_app(app, config, "--check-update", display=display)
    assert check.returncode == 0 and f"update available: {V2}" in check.stdout, check

    result = support.run_app(app, config, "--update", display=display)

    assert result.returncode == 0, result
    assert f"updated to {V2}" in result.stdout
    assert reported_version(app) == V2
    assert support.sha256(app) == support.sha256(versions[V2])
    assert support.sha256(app.with_name("TraderAdmin.previous")) == support.sha256(versions[V1])
    again = support.run_app(app, config, "--check-update", display=display)
    assert again.returncode == 3 and "newest version" in again.stdout, again


def test_a_version_failing_at_start_is_undone_and_never_offered_again(
    versions, feed, tmp_path, display
):
    feed.offer(V3)
    app, config = installed(versions, feed, tmp_path, V2)

    started = time.monotonic()
    result = support.run_app(app, config, "--update", display=display)
    elapsed = time.monotonic() - started

    assert result.returncode == 5, result
    assert UNDONE_MESSAGE in result.stdout
    assert elapsed < 120, f"the rollback took {elapsed:.0f}s"
    assert support.sha256(app) == support.sha256(versions[V2])
    assert reported_version(app) == V2
    state = json.loads((config.parent / "update-state.json").read_text())
    assert state["bad"] == [V3] and state["undone"]["version"] == V3
    check = support.run_app(app, config, "--check-update", display=display)
    assert check.returncode == 3 and "failed to start on this machine" in check.stdout, check
    print(f"update to the failing {V3} undone in {elapsed:.1f}s")


def _alter_manifest(feed: support.Feed) -> None:
    manifest = feed.root / "beta.json"
    manifest.write_text(manifest.read_text().replace('"rollout": 100', '"rollout": 99'))


def _alter_file(feed: support.Feed) -> None:
    binary = feed.root / V2 / f"TraderAdmin-{V2}-linux-amd64"
    data = bytearray(binary.read_bytes())
    data[len(data) // 2] ^= 0xFF
    binary.write_bytes(bytes(data))


def _alter_signature(feed: support.Feed, tmp_path: Path) -> None:
    other = support.Feed(tmp_path / "other", support.make_key(tmp_path / "other-key"))
    copy = other.root / "beta.json"
    copy.write_bytes((feed.root / "beta.json").read_bytes())
    (feed.root / "beta.json.minisig").write_bytes(other.sign(copy, "traderadmin beta").read_bytes())


@pytest.mark.parametrize("part", ["manifest", "file", "signature", "no signature"])
def test_an_altered_feed_is_refused_and_nothing_changes(versions, feed, tmp_path, display, part):
    feed.offer(V2)
    app, config = installed(versions, feed, tmp_path, V1)
    if part == "manifest":
        _alter_manifest(feed)
    elif part == "file":
        _alter_file(feed)
    elif part == "signature":
        _alter_signature(feed, tmp_path)
    else:
        (feed.root / "beta.json.minisig").unlink()
    before = support.folder_digest(app.parent)

    result = support.run_app(app, config, "--update", display=display)

    assert result.returncode == 1, result
    assert "refused" in result.stderr or "sha256" in result.stderr, result
    assert support.sha256(app) == support.sha256(versions[V1])
    assert support.folder_digest(app.parent) == before  # no install-id, no state, no download


@pytest.mark.parametrize(("rollout", "code"), [(0, 3), (100, 0)])
def test_rollout_percentage_decides_the_offer(versions, feed, tmp_path, rollout, code):
    feed.offer(V2, rollout=rollout)
    app, config = installed(versions, feed, tmp_path, V1)

    result = support.run_app(app, config, "--check-update", display=None)

    assert result.returncode == code, result
    assert ("rolled out to 0%" in result.stdout) == (rollout == 0)


def test_a_withdrawn_version_brings_its_clients_back_to_the_last_good_one(
    versions, feed, tmp_path, display
):
    feed.offer(V1, withdrawn=[V2])
    app, config = installed(versions, feed, tmp_path, V2)

    result = support.run_app(app, config, "--update", display=display)

    assert result.returncode == 0, result
    assert f"{V2} was withdrawn" in result.stdout or f"updated to {V1}" in result.stdout
    assert reported_version(app) == V1


def test_after_install_and_restart_a_failing_version_is_undone_and_the_previous_reopens(
    versions, feed, tmp_path, display
):
    """The window's "Install and restart": the binary is swapped, the previous one supervises
    the new version's first start as the user's session. Here the supervisor is started as the
    app starts it, on a swap to the failing V3."""
    app, config = installed(versions, feed, tmp_path, V3)
    previous = app.with_name("TraderAdmin.previous")
    previous.write_bytes(versions[V2].read_bytes())
    previous.chmod(0o755)

    started = time.monotonic()
    result = support.run_app(
        previous, config, "--supervise-update", V3, "--update-target", str(app), display=display
    )
    elapsed = time.monotonic() - started

    log = (config.parent / "update.log").read_text()
    assert result.returncode == 5, f"{result}\n{log}"
    match = re.search(
        rf"{re.escape(V2)} passed its start checks in \S+ and goes on as pid (\d+)", log
    )
    assert match, log
    pid = int(match.group(1))
    try:
        assert daemon.alive(pid), "the restored version is not running"
        assert "TraderAdmin" in x11.window_titles(display)
        assert support.sha256(app) == support.sha256(versions[V2]) and not previous.exists()
        state = json.loads((config.parent / "update-state.json").read_text())
        assert state["undone"]["version"] == V3  # what the restored window shows
    finally:
        daemon.terminate(pid, "TraderAdmin", 10)
    print(f"install-and-restart to the failing {V3} undone, {V2} reopened in {elapsed:.1f}s")
