"""The Windows installer on a Windows test environment: Wine with a fresh prefix per test, real
desktop builds, under the X server that `nox -s installer` starts (xvfb-run). The faults are in
test_installer_faults.py, the per-user and per-machine lifecycles in test_installer_scopes.py.
"""

import contextlib
import os
import tempfile
from pathlib import Path

from build_scripts.core import cmd, paths, poll, x11
from build_scripts.core.artifacts import sha256_of
from build_scripts.desktop import build as desktop
from build_scripts.windows import installer, installer_check, wine

CUSTOM_DIR = r"C:\TraderAdminTest"  # no spaces: Wine would quote /D= and NSIS ignore it


def _exe(release, directory: str = CUSTOM_DIR) -> str:
    return rf"{directory}\{release.product}.exe"


def _wait_for(condition, what: str, timeout: float = 60):
    return poll.until(condition, what=what, timeout=timeout, fail=AssertionError)


def test_a_running_app_stops_upgrade_and_uninstall_with_exit_code_12(builds, prefix):
    old, new = builds.old, builds.new
    assert installer_check.run_installer(prefix, builds.old_installer, install_dir=CUSTOM_DIR) == 0
    exe = prefix.unix_path(_exe(old))
    before = sha256_of(exe)
    # Started normally, the app asks for the WebView2 Runtime Wine lacks, and stays open (with
    # the runtime's detection key it would look for the runtime's files instead).
    wine.unregister_webview2_runtime(prefix)
    prefix.start([_exe(old)], name="traderadmin-running")
    pids = _wait_for(lambda: prefix.processes("TraderAdmin.exe"), "TraderAdmin.exe to run")

    assert installer_check.run_installer(prefix, builds.new_installer, wait=False) == 12
    assert sha256_of(exe) == before
    assert (
        prefix.reg_query(installer_check.uninstall_key(old))["DisplayVersion"] == old.version_text
    )
    code = installer_check.run_uninstaller(prefix, CUSTOM_DIR, in_place=True, wait=False)
    assert code == 12
    assert installer_check.installation_problems(prefix, old, CUSTOM_DIR) == []

    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # its refusals above are what mattered
            os.kill(pid, 9)
    prefix.wait()
    wine.register_webview2_runtime(prefix)
    assert installer_check.run_installer(prefix, builds.new_installer) == 0
    assert installer_check.installation_problems(prefix, new, CUSTOM_DIR) == []
    # Asked to, the uninstaller removes the settings too, and so the whole directory.
    (prefix.unix_path(CUSTOM_DIR) / "config.toml").write_text("refresh_seconds = 5\n")
    assert installer_check.run_uninstaller(prefix, CUSTOM_DIR, remove_config=True) == 0
    assert installer_check.removal_problems(prefix, new, CUSTOM_DIR) == []
    assert not prefix.unix_path(CUSTOM_DIR).exists()


def test_installer_check_installs_in_the_default_directory_launches_and_uninstalls(builds, prefix):
    report = installer_check.check_in_wine(builds.new_installer, builds.new, prefix=prefix)
    assert report.install_dir == r"C:\Program Files\TraderAdmin"
    assert len(report.selftests) == 2
    assert {r["version"] for r in report.selftests.values()} == {builds.new.version_text}


def test_the_wizards_install_and_uninstall_when_every_default_is_accepted(builds, display, prefix):
    new = builds.new
    screenshots = paths.reports_dir() / "screenshots" / "installer-wizard"
    target = installer_check.default_install_dir(new)
    prefix.start([str(builds.new_installer)], name="installer-wizard")
    presses = x11.press_enter_through(
        display, f"{new.product} Setup", screenshots=screenshots / "install"
    )
    prefix.wait()
    # Welcome, License (I Agree), scope (an administrator's default: all users), Directory
    # (Install), Finish; a press while files are copied lands on disabled buttons.
    assert presses >= 5
    assert installer_check.installation_problems(prefix, new, target) == []

    (prefix.unix_path(target) / "config.toml").write_text("refresh_seconds = 5\n")
    prefix.start([rf"{target}\{installer.UNINSTALLER}"], name="uninstaller-wizard")
    presses = x11.press_enter_through(
        display, f"{new.product} Uninstall", screenshots=screenshots / "uninstall"
    )
    prefix.wait()
    # Confirm (Next), components (Uninstall, "Remove my settings" unticked), Close.
    assert presses >= 3
    assert installer_check.removal_problems(prefix, new, target, kept=("config.toml",)) == []


def test_windows_older_than_10_is_refused_with_exit_code_10(builds, make_prefix):
    prefix = make_prefix("win7")
    assert prefix.windows_version().startswith("6.1"), prefix.windows_version()
    assert installer_check.run_installer(prefix, builds.new_installer) == 10
    target = installer_check.default_install_dir(builds.new)
    assert not prefix.unix_path(target).exists()
    assert prefix.reg_query(installer_check.uninstall_key(builds.new)) is None


FAKE_BOOTSTRAPPER = """package main

import (
\t"os"
\t"strconv"
\t"strings"
)

// Stands in for MicrosoftEdgeWebview2Setup.exe: records its arguments, exits as told.
func main() {
\t_ = os.WriteFile(os.Getenv("FAKE_WEBVIEW2_LOG"), []byte(strings.Join(os.Args[1:], " ")), 0o644)
\tcode, _ := strconv.Atoi(os.Getenv("FAKE_WEBVIEW2_EXIT"))
\tos.Exit(code)
}
"""


def test_an_embedded_webview2_bootstrapper_runs_only_when_the_runtime_is_missing(
    builds, prefix, tmp_path
):
    source = tmp_path / "fake-webview2"
    source.mkdir()
    (source / "go.mod").write_text("module fakewebview2\n\ngo 1.22\n")
    (source / "main.go").write_text(FAKE_BOOTSTRAPPER)
    fake = source / "MicrosoftEdgeWebview2Setup.exe"
    cmd.run(
        ["go", "build", "-trimpath", "-o", fake, "."],
        step="fake bootstrapper",
        cwd=source,
        env={"GOOS": "windows", "GOARCH": "amd64", "CGO_ENABLED": "0"},
    )
    new = builds.new
    app = desktop.binary_path(new, "windows/amd64", builds.root)
    artifact = installer.build_installer(
        new, app_exe=app, root=tmp_path, webview2_bootstrapper=fake
    )
    assert "WebView2 bootstrapper embedded" in artifact.note
    setup = artifact.path
    log = r"C:\webview2-bootstrapper.txt"
    wine.unregister_webview2_runtime(prefix)
    env = {"FAKE_WEBVIEW2_LOG": log, "FAKE_WEBVIEW2_EXIT": "0"}
    assert installer_check.run_installer(prefix, setup, env=env) == 0
    assert prefix.unix_path(log).read_text() == "/silent /install"

    # A failing bootstrapper: installed anyway, exit code 13 tells the administrator.
    prefix.unix_path(log).unlink()
    env["FAKE_WEBVIEW2_EXIT"] = "1603"
    assert installer_check.run_installer(prefix, setup, env=env) == 13
    assert (
        installer_check.installation_problems(prefix, new, installer_check.default_install_dir(new))
        == []
    )

    # With the runtime registered (Microsoft's detection key), it is not run.
    prefix.unix_path(log).unlink()
    wine.register_webview2_runtime(prefix)
    assert installer_check.run_installer(prefix, setup, env=env) == 0
    assert not prefix.unix_path(log).exists()


# More bytes than a blinking caret flips (2x14 pixels): a page, a message box or typed text.
CHANGED_BYTES = 600


def _screen(display: str) -> bytes:
    """The display's pixels (PPM)."""
    with tempfile.TemporaryDirectory() as scratch:
        shot = Path(scratch) / "screen.ppm"
        cmd.run(
            ["import", "-display", display, "-window", "root", f"ppm:{shot}"],
            step="screenshot",
            quiet=True,
        )
        return shot.read_bytes()


def _changed(before: bytes, after: bytes) -> bool:
    if len(before) != len(after):
        return True
    flipped = int.from_bytes(before, "big") ^ int.from_bytes(after, "big")
    return len(after) - flipped.to_bytes(len(after), "big").count(0) > CHANGED_BYTES


def _settled(display: str, timeout: float = 30) -> None:
    """Wait until the screen holds still (the page is drawn in full)."""
    last = [_screen(display)]

    def still() -> bool:
        now = _screen(display)
        held, last[0] = not _changed(last[0], now), now
        return held

    poll.until(
        still, what="the screen to hold still", timeout=timeout, interval=0.3, fail=AssertionError
    )


def _keys(display: str, *argv: str, changes: bool = True) -> None:
    """xdotool, then wait for what it brings: the screen changes (the next page, a message box,
    the typed text) unless `changes` is False, and holds still again."""
    before = _screen(display)
    cmd.run(["xdotool", *argv], step="xdotool", env={"DISPLAY": display}, quiet=True)
    if changes:
        poll.until(
            lambda: _changed(before, _screen(display)),
            what=f"the screen to change after xdotool {' '.join(argv)}",
            timeout=30,
            interval=0.2,
            fail=AssertionError,
        )
    _settled(display)


def test_the_wizard_puts_a_folder_holding_user_files_into_a_subfolder_it_shows(
    builds, display, prefix
):
    new = builds.new
    tools = prefix.unix_path(r"C:\Tools")
    tools.mkdir()
    (tools / "README.html").write_text("<p>my own readme</p>\n")
    screenshots = paths.reports_dir() / "screenshots" / "installer-wizard" / "own-folder"
    prefix.start([str(builds.new_installer)], name="installer-wizard-own-folder")
    _wait_for(lambda: f"{new.product} Setup" in x11.window_titles(display), "the wizard")
    _settled(display)
    for _page in ("Welcome", "License", "scope"):
        _keys(display, "key", "Return")
    # The directory page: the user types their own folder and clicks Install.
    _keys(display, "key", "ctrl+a", changes=False)  # the text may be selected already
    _keys(display, "type", "--delay", "50", r"C:\Tools")
    _keys(display, "key", "Return")
    # A message says where TraderAdmin goes instead; the page then shows that folder.
    presses = x11.press_enter_through(display, f"{new.product} Setup", screenshots=screenshots)
    prefix.wait()
    # OK on the message, Install on the page showing C:\Tools\TraderAdmin, Finish.
    assert presses >= 3
    assert installer_check.installation_problems(prefix, new, rf"C:\Tools\{new.product}") == []
    assert (tools / "README.html").read_text() == "<p>my own readme</p>\n"
