"""The desktop app updating itself on Windows, under Wine (issue 23): an installed release
(per-user and per-machine) updates to the next one through the real NSIS installer, run silently
in the scope it was installed in by a copy of the old app (the supervisor), and a next release
that fails its first start is undone by reinstalling the previous one.

The feed is each release's own update feed (updates.feed), published and served by the updates
functions, signed with the key built into the apps (conftest.py `builds`).

Under Wine the first-start check is the --selftest part only: WebView2 cannot draw there, so
"window created" is checked on Linux (tests/test_desktop_update.py) and not here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from build_scripts.updates import feed as release_feed
from build_scripts.updates import publish, serve
from build_scripts.windows import installer_check, pe

CONFIG = r"C:\TraderAdminUpdate\config.toml"  # --config: the state files go beside it


@pytest.fixture(scope="session")
def release_feeds(builds, failing_build, tmp_path_factory) -> dict[str, Path]:
    """dist/<version>/updates/ of the three releases, as the release's update-feed step writes
    them (the installer is what windows-x86_64 points at)."""
    root = tmp_path_factory.mktemp("release-feeds")
    made = {}
    for release, setup in (
        (builds.old, builds.old_installer),
        (builds.new, builds.new_installer),
        (failing_build.release, failing_build.installer),
    ):
        dist = root / release.version_text
        release_feed.write_release_feed(
            dist,
            product=release.product,
            version=release.version_text,
            published="2026-12-06T10:00:00Z",
            notes=f"{release.version_text}: test release\n",
            files=[release_feed.FeedFile("windows-x86_64", setup, setup.name)],
            key=builds.update_key,
        )
        made[release.version_text] = release_feed.feed_dir(dist)
    return made


def _update(prefix, exe: str) -> tuple[str, float]:
    """`TraderAdmin --update`, then wait for the supervisor it hands over to; returns what was
    printed and logged, and how long it all took."""
    started = time.monotonic()
    result = prefix.run([exe, "--config", CONFIG, "--update"], step="update", check=False)
    prefix.wait(timeout=300)
    elapsed = time.monotonic() - started
    log = prefix.unix_path(CONFIG).with_name("update.log")
    return result.output + "\n--- update.log ---\n" + (
        log.read_text() if log.exists() else ""
    ), elapsed


def _installed_version(prefix, exe: str) -> str:
    return pe.read_version_info(prefix.unix_path(exe)).strings["ProductVersion"]


@pytest.mark.parametrize("per_user", [True, False], ids=["per-user", "per-machine"])
def test_an_installed_release_updates_through_its_installer_and_a_failing_one_is_undone(
    builds, failing_build, release_feeds, prefix, tmp_path, per_user
):
    old, new, failing = builds.old, builds.new, failing_build.release
    scope = "/CURRENTUSER" if per_user else "/ALLUSERS"
    assert installer_check.run_installer(prefix, builds.old_installer, options=(scope,)) == 0
    target = installer_check.default_install_dir(old, per_user=per_user)
    exe = rf"{target}\{old.product}.exe"
    feed_root = tmp_path / "feed"
    for release in (old, new):
        publish.publish(feed_root, release_feeds[release.version_text], builds.update_key)

    with serve.serving(feed_root) as url:
        config = prefix.unix_path(CONFIG)
        config.parent.mkdir(parents=True)
        config.write_text(f'backend_url = "http://127.0.0.1:9"\nupdate_feed = "{url}"\n')

        output, took = _update(prefix, exe)
        assert (
            installer_check.installation_problems(prefix, new, target, per_user=per_user) == []
        ), output
        assert _installed_version(prefix, exe) == new.version_text, output
        assert f"updated to {new.version_text}" in output, output
        print(f"{scope}: {old.version_text} -> {new.version_text} in {took:.1f}s")

        publish.publish(feed_root, release_feeds[failing.version_text], builds.update_key)
        output, took = _update(prefix, exe)
        undone = f"Update to {failing.version_text} failed to start and was undone"
        assert undone in output, output
        assert took < 120, output  # from --update: download, two silent installs, two starts
        assert (
            installer_check.installation_problems(prefix, new, target, per_user=per_user) == []
        ), output
        assert _installed_version(prefix, exe) == new.version_text, output
        state = json.loads(config.with_name("update-state.json").read_text())
        assert state["bad"] == [failing.version_text], state
        cache = config.with_name("update-cache")
        assert (cache / new.version_text / builds.new_installer.name).is_file()
        print(f"{scope}: the failing {failing.version_text} undone in {took:.1f}s")

        # A managed desk: the machine-wide policy value turns updates off for every user.
        prefix.run(
            ["reg", "add", r"HKLM\Software\TraderAdmin", "/v", "UpdatePolicy", "/d", "off", "/f"],
            step="policy",
        )
        check = prefix.run([exe, "--config", CONFIG, "--check-update"], step="check", check=False)
        assert check.returncode == 4 and "machine policy" in check.output, check.output
