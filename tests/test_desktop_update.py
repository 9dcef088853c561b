"""The desktop app updating itself for real (issue 23): three real Linux builds (the third made
to fail at start), each version's feed written and published by the release's own functions
(signed with Debian's minisign) and served on 127.0.0.1, the app run with --check-update /
--update under Xvfb, so each first start opens the real window.

The three builds happen once per session (tests/desktop_update_support.py): measured 34 s with a
warm Go cache on 2 cores, a few minutes cold.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from build_scripts.core import daemon, x11
from build_scripts.desktop import smoke
from build_scripts.updates import signing
from tests import desktop_update_support as support
from tests.desktop_update_support import V1, V2, V3

UNDONE_MESSAGE = f"Update to {V3} failed to start and was undone"


@pytest.fixture(scope="session")
def update_key(tmp_path_factory) -> support.UpdateKey:
    return support.make_key(tmp_path_factory.mktemp("update-key"))


@pytest.fixture(scope="session")
def versions(tmp_path_factory, update_key) -> dict[str, support.Version]:
    return support.build_versions(tmp_path_factory.mktemp("desktop-versions"), update_key)


@pytest.fixture(scope="session")
def display():
    with x11.virtual_display() as value:
        yield value


@pytest.fixture
def feed(tmp_path, update_key, versions):
    """An empty feed folder, served; the test publishes what it needs."""
    folder = support.Feed(tmp_path / "feed", update_key, versions)
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


def goes_on(version: str) -> str:
    """The supervisor's log line once `version` passed its checked start: (seconds, pid)."""
    return rf"{re.escape(version)} passed its start checks in (\S+)s and goes on as pid (\d+)"


def test_v1_updates_to_v2_and_keeps_v1_as_previous(versions, feed, tmp_path, display):
    feed.publish(V1, V2)
    app, config = installed(versions, feed, tmp_path, V1)
    check = support.run_app(app, config, "--check-update", display=display)
    assert check.returncode == 0 and f"update available: {V2}" in check.stdout, check

    result = support.run_app(app, config, "--update", display=display)

    assert result.returncode == 0, result
    assert f"updated to {V2}" in result.stdout
    assert reported_version(app) == V2
    assert support.sha256(app) == support.sha256(versions[V2].binary)
    previous = app.with_name("TraderAdmin.previous")
    assert support.sha256(previous) == support.sha256(versions[V1].binary)
    again = support.run_app(app, config, "--check-update", display=display)
    assert again.returncode == 3 and "newest version" in again.stdout, again


def test_a_version_failing_at_start_is_undone_and_never_offered_again(
    versions, feed, tmp_path, display
):
    feed.publish(V2, V3)
    app, config = installed(versions, feed, tmp_path, V2)

    started = time.monotonic()
    result = support.run_app(app, config, "--update", display=display)
    elapsed = time.monotonic() - started

    assert result.returncode == 5, result
    assert UNDONE_MESSAGE in result.stdout
    assert elapsed < 120, f"the rollback took {elapsed:.0f}s"
    assert support.sha256(app) == support.sha256(versions[V2].binary)
    assert reported_version(app) == V2
    state = json.loads((config.parent / "update-state.json").read_text())
    assert state["bad"] == [V3] and state["undone"]["version"] == V3
    check = support.run_app(app, config, "--check-update", display=display)
    assert check.returncode == 3 and "failed to start on this machine" in check.stdout, check
    print(f"update to the failing {V3} undone in {elapsed:.1f}s")


def test_after_install_and_restart_a_failing_version_is_undone_and_the_previous_reopens(
    versions, feed, tmp_path, display
):
    """The window's "Install and restart": the binary is swapped, the previous one supervises
    the new version's first start as the user's session. Here the supervisor is started as the
    app starts it, on a swap to the failing V3."""
    feed.publish(V2, V3)
    app, config = installed(versions, feed, tmp_path, V3)
    previous = app.with_name("TraderAdmin.previous")
    previous.write_bytes(versions[V2].binary.read_bytes())
    previous.chmod(0o755)

    started = time.monotonic()
    result = support.run_app(
        previous, config, "--supervise-update", V3, "--update-target", str(app), display=display
    )
    elapsed = time.monotonic() - started

    log = (config.parent / "update.log").read_text()
    assert result.returncode == 5, f"{result}\n{log}"
    match = re.search(goes_on(V2), log)
    assert match, log
    pid = int(match.group(2))
    try:
        assert daemon.alive(pid), "the restored version is not running"
        assert "TraderAdmin" in x11.window_titles(display)
        assert support.sha256(app) == support.sha256(versions[V2].binary)
        assert not previous.exists()
        state = json.loads((config.parent / "update-state.json").read_text())
        assert state["undone"]["version"] == V3  # what the restored window shows
    finally:
        daemon.terminate(pid, "TraderAdmin", 10)
    print(f"install-and-restart to the failing {V3} undone, {V2} reopened in {elapsed:.1f}s")


def _alter_manifest(feed: support.Feed, tmp_path: Path) -> None:
    text = feed.manifest.read_text()
    assert '"rollout": 100' in text
    feed.manifest.write_text(text.replace('"rollout": 100', '"rollout": 99'))


def _alter_file(feed: support.Feed, tmp_path: Path) -> None:
    binary = feed.file_of(V2)
    data = bytearray(binary.read_bytes())
    data[len(data) // 2] ^= 0xFF
    binary.write_bytes(bytes(data))


def _alter_signature(feed: support.Feed, tmp_path: Path) -> None:
    """The manifest's signature replaced by a valid one from another key."""
    other = support.make_key(tmp_path / "other-key")
    copy = tmp_path / "beta.json"
    copy.write_bytes(feed.manifest.read_bytes())
    forged = signing.sign(copy, other, "traderadmin beta forged")
    feed.manifest.with_name("beta.json.minisig").write_bytes(forged.read_bytes())


def _remove_signature(feed: support.Feed, tmp_path: Path) -> None:
    feed.manifest.with_name("beta.json.minisig").unlink()


@pytest.mark.parametrize(
    "alter", [_alter_manifest, _alter_file, _alter_signature, _remove_signature]
)
def test_an_altered_feed_is_refused_and_nothing_changes(versions, feed, tmp_path, display, alter):
    feed.publish(V1, V2)
    app, config = installed(versions, feed, tmp_path, V1)
    alter(feed, tmp_path)
    before = support.folder_digest(app.parent)

    result = support.run_app(app, config, "--update", display=display)

    assert result.returncode == 1, result
    assert "refused" in result.stderr or "sha256" in result.stderr, result
    assert support.sha256(app) == support.sha256(versions[V1].binary)
    assert support.folder_digest(app.parent) == before  # no install-id, no state, no download


@pytest.mark.parametrize(("rollout", "code"), [(0, 3), (100, 0)])
def test_rollout_percentage_decides_the_offer(versions, feed, tmp_path, rollout, code):
    feed.publish(V1, V2)
    feed.rollout(rollout)
    app, config = installed(versions, feed, tmp_path, V1)

    result = support.run_app(app, config, "--check-update", display=None)

    assert result.returncode == code, result
    assert ("rolled out to 0%" in result.stdout) == (rollout == 0)


def test_a_withdrawn_version_brings_its_clients_back_to_the_last_good_one(
    versions, feed, tmp_path, display
):
    feed.publish(V1, V2)
    feed.withdraw(V2)
    app, config = installed(versions, feed, tmp_path, V2)

    result = support.run_app(app, config, "--update", display=display)

    assert result.returncode == 0, result
    assert f"{V2} was withdrawn" in result.stdout or f"updated to {V1}" in result.stdout
    assert reported_version(app) == V1
    on_v1, config_v1 = support.install(versions[V1], tmp_path / "on-v1", feed.url)
    stays = support.run_app(on_v1, config_v1, "--check-update", display=None)
    assert stays.returncode == 3 and "newest version" in stays.stdout, stays


def _wait_for(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


def test_the_install_and_restart_button_restarts_into_the_new_version(
    versions, feed, tmp_path, display
):
    """The real window: the banner's button pressed from the keyboard, as a user can."""
    feed.publish(V1, V2)
    app, config = installed(versions, feed, tmp_path, V1)
    stderr = tmp_path / "v1.log"
    with stderr.open("w") as log:
        window = subprocess.Popen(
            [app, "--config", config], env=support.app_env(display), stdout=log, stderr=log
        )
    try:
        _wait_for("the update check", lambda: f"update check: {V2} available" in stderr.read_text())
        env = {"DISPLAY": display}

        def mapped_windows() -> list[str]:
            # The session's display holds this app's windows only; the mapped one takes keys.
            search = ["xdotool", "search", "--onlyvisible", "--name", "^TraderAdmin$"]
            return subprocess.run(search, env=env, capture_output=True, text=True).stdout.split()

        ids = _wait_for("the window", mapped_windows)
        # Keys sent before the page has drawn go nowhere: wait as desktop.smoke does.
        smoke._wait_until_rendered(display, hex(int(ids[-1])), tmp_path, window.pid, 60)
        subprocess.run(["xdotool", "windowfocus", "--sync", ids[-1]], env=env, check=True)
        # Refresh, Reload settings, then the banner's button: the page's tab order.
        subprocess.run(
            ["xdotool", "key", "--delay", "200", "Tab", "Tab", "Tab", "Return"], env=env, check=True
        )
        assert window.wait(timeout=60) == 0, stderr.read_text()
    finally:
        if window.poll() is None:
            window.kill()
    update_log = config.parent / "update.log"
    match = _wait_for(
        "the new version's checked start",
        lambda: update_log.exists() and re.search(goes_on(V2), update_log.read_text()),
    )
    pid = int(match.group(2))
    try:
        assert daemon.alive(pid), update_log.read_text()
        assert reported_version(app) == V2
        assert support.sha256(app.with_name("TraderAdmin.previous")) == support.sha256(
            versions[V1].binary
        )
    finally:
        daemon.terminate(pid, "TraderAdmin", 10)
    print(f"Install and restart: {V2} passed its start checks in {match.group(1)}s")


def test_a_trial_whose_supervisor_died_is_judged_at_the_next_start(
    versions, feed, tmp_path, display
):
    """A reboot in the middle of a trial: the binary is the new version, the previous one is kept,
    and update-state.json still says which trial is pending (with a supervisor pid that is gone,
    as a killed one leaves it). The next start of the app resumes the check, and the failing
    version is undone."""
    feed.publish(V2, V3)
    app, config = installed(versions, feed, tmp_path, V3)
    previous = app.with_name("TraderAdmin.previous")
    previous.write_bytes(versions[V2].binary.read_bytes())
    previous.chmod(0o755)
    supervise = ["--supervise-update", V3, "--update-target", str(app), "--config", str(config)]
    pending = {"version": V3, "supervisor": str(previous), "args": supervise, "pid": 0}
    (config.parent / "update-state.json").write_text(json.dumps({"bad": [], "pending": pending}))

    result = support.run_app(app, config, display=display, timeout=60)

    assert result.returncode == 0 and "resuming" in result.stderr, result
    update_log = config.parent / "update.log"
    match = _wait_for(
        "the restored version's checked start",
        lambda: update_log.exists() and re.search(goes_on(V2), update_log.read_text()),
    )
    pid = int(match.group(2))
    try:
        assert support.sha256(app) == support.sha256(versions[V2].binary)
        state = _wait_for(
            "the state after the trial",
            lambda: (
                (s := json.loads((config.parent / "update-state.json").read_text()))
                and "pending" not in s
                and s
            ),
        )
        assert state["bad"] == [V3] and state["undone"]["version"] == V3, state
    finally:
        daemon.terminate(pid, "TraderAdmin", 10)
