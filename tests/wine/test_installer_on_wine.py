"""The Windows installer on a Windows test environment: Wine with a fresh prefix per test, real
desktop builds, under the X server that `nox -s installer` starts (xvfb-run).
"""

import dataclasses
import os
import time
from pathlib import Path

import pytest

from build_scripts.core import cmd, metadata, paths, x11
from build_scripts.core.artifacts import sha256_of
from build_scripts.desktop import build as desktop
from build_scripts.windows import installer, installer_check, selftest, signing, wine

CUSTOM_DIR = r"C:\TraderAdminTest"  # no spaces: Wine would quote /D= and NSIS ignore it


@dataclasses.dataclass(frozen=True)
class Builds:
    old: metadata.Release
    new: metadata.Release
    old_installer: Path  # signed with a throwaway certificate
    new_installer: Path  # unsigned
    certificate: signing.SigningConfig
    root: Path


@pytest.fixture(scope="module")
def display():
    if os.environ.get("DISPLAY"):  # under xvfb-run (nox -s installer)
        yield os.environ["DISPLAY"]
        return
    with x11.virtual_display() as value:
        yield value


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> Builds:
    """Two real releases, desktop app and installer each: the one installed, and the next."""
    root = tmp_path_factory.mktemp("releases")
    certificate = signing.make_test_certificate(root / "certificate")
    old = metadata.current_release("0.7.0-test.1")
    new = metadata.current_release("0.7.1-test.1")
    installers = []
    for release, config in ((old, certificate), (new, None)):
        desktop.build(release, ["windows/amd64"], root=root, signing_config=config)
        app = desktop.binary_path(release, "windows/amd64", root)
        installers.append(
            installer.build_installer(release, app_exe=app, root=root, signing_config=config).path
        )
    return Builds(old, new, installers[0], installers[1], certificate, root)


def _exe(release, directory: str = CUSTOM_DIR) -> str:
    return rf"{directory}\{release.product}.exe"


def _wait_for(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_install_upgrade_and_uninstall_silently_in_a_chosen_directory(builds, display):
    old, new = builds.old, builds.new
    with wine.fresh_prefix(display=display) as prefix:
        assert prefix.windows_version().startswith("10."), prefix.windows_version()

        assert (
            installer_check.run_installer(prefix, builds.old_installer, install_dir=CUSTOM_DIR) == 0
        )
        assert installer_check.installation_problems(prefix, old, CUSTOM_DIR) == []
        installed = prefix.unix_path(CUSTOM_DIR)
        # Signed build: the app, and the uninstaller the installer wrote (!uninstfinalize).
        for name in (f"{old.product}.exe", installer.UNINSTALLER):
            signing.verify_signature(installed / name, builds.certificate.cert)
        for index, link in enumerate(installer_check.shortcut_paths(old).values()):
            report = selftest.run_selftest(
                prefix, _exe(old), rf"C:\selftest-{index}.json", shortcut=link
            )
            assert installer_check.selftest_problems(report, old, CUSTOM_DIR) == [], report

        settings = 'backend_url = "http://127.0.0.1:9999"\n'
        (installed / "config.toml").write_text(settings)

        # The next version, without /D=: it finds the directory it was installed in.
        assert installer_check.run_installer(prefix, builds.new_installer) == 0
        assert installer_check.installation_problems(prefix, new, CUSTOM_DIR) == []
        assert (
            prefix.reg_query(installer_check.uninstall_key(new))["DisplayVersion"] == "0.7.1-test.1"
        )
        assert not prefix.unix_path(installer_check.default_install_dir(new)).exists()
        assert (installed / "config.toml").read_text() == settings
        assert not signing.is_signed(installed / f"{new.product}.exe")
        report = selftest.run_selftest(prefix, _exe(new), r"C:\selftest-upgraded.json")
        assert report["version"] == new.version_text
        assert report["config"]["found"] and report["config"]["origin"] != "defaults", report
        assert report["backend"]["url"] == "http://127.0.0.1:9999"

        assert installer_check.run_uninstaller(prefix, CUSTOM_DIR) == 0
        assert (
            installer_check.removal_problems(prefix, new, CUSTOM_DIR, kept=("config.toml",)) == []
        )


def test_a_running_app_stops_upgrade_and_uninstall_with_exit_code_12(builds, display):
    old, new = builds.old, builds.new
    with wine.fresh_prefix(display=display) as prefix:
        assert (
            installer_check.run_installer(prefix, builds.old_installer, install_dir=CUSTOM_DIR) == 0
        )
        exe = prefix.unix_path(_exe(old))
        before = sha256_of(exe)
        # Started normally, the app asks for the WebView2 Runtime Wine lacks, and stays open.
        prefix.start([_exe(old)], name="traderadmin-running")
        pids = _wait_for(lambda: prefix.processes("TraderAdmin.exe"), "TraderAdmin.exe to run")

        assert installer_check.run_installer(prefix, builds.new_installer, wait=False) == 12
        assert sha256_of(exe) == before
        assert (
            prefix.reg_query(installer_check.uninstall_key(old))["DisplayVersion"]
            == old.version_text
        )
        code = installer_check.run_uninstaller(prefix, CUSTOM_DIR, in_place=True, wait=False)
        assert code == 12
        assert installer_check.installation_problems(prefix, old, CUSTOM_DIR) == []

        for pid in pids:
            os.kill(pid, 9)
        prefix.wait()
        assert installer_check.run_installer(prefix, builds.new_installer) == 0
        assert installer_check.installation_problems(prefix, new, CUSTOM_DIR) == []
        # Asked to, the uninstaller removes the settings too, and so the whole directory.
        (prefix.unix_path(CUSTOM_DIR) / "config.toml").write_text("refresh_seconds = 5\n")
        assert installer_check.run_uninstaller(prefix, CUSTOM_DIR, remove_config=True) == 0
        assert installer_check.removal_problems(prefix, new, CUSTOM_DIR) == []
        assert not prefix.unix_path(CUSTOM_DIR).exists()


def test_the_default_directory_install_launches_from_its_shortcut_and_uninstalls(builds, display):
    report = installer_check.check_in_wine(builds.new_installer, builds.new, display=display)
    assert report.install_dir == r"C:\Program Files\TraderAdmin"
    assert len(report.selftests) == 2
    assert {r["version"] for r in report.selftests.values()} == {builds.new.version_text}


def test_the_wizards_install_and_uninstall_when_every_default_is_accepted(builds, display):
    new = builds.new
    screenshots = paths.reports_dir() / "screenshots" / "installer-wizard"
    target = installer_check.default_install_dir(new)
    with wine.fresh_prefix(display=display) as prefix:
        prefix.start([str(builds.new_installer)], name="installer-wizard")
        presses = x11.press_enter_through(
            display, f"{new.product} Setup", screenshots=screenshots / "install"
        )
        prefix.wait()
        # Welcome, License (I Agree), Directory (Install), the WebView2 notice (OK), Finish;
        # a press while files are copied lands on disabled buttons and does nothing.
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


def test_windows_older_than_10_is_refused_with_exit_code_10(builds, display):
    with wine.fresh_prefix(display=display, windows="win7") as prefix:
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
    builds, display, tmp_path
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
    setup = installer.build_installer(
        new, app_exe=app, root=tmp_path, webview2_bootstrapper=fake
    ).path
    log = r"C:\webview2-bootstrapper.txt"
    with wine.fresh_prefix(display=display) as prefix:
        env = {"FAKE_WEBVIEW2_LOG": log, "FAKE_WEBVIEW2_EXIT": "0"}
        assert installer_check.run_installer(prefix, setup, env=env) == 0
        assert prefix.unix_path(log).read_text() == "/silent /install"

        # A failing bootstrapper: installed anyway, exit code 13 tells the administrator.
        prefix.unix_path(log).unlink()
        env["FAKE_WEBVIEW2_EXIT"] = "1603"
        assert installer_check.run_installer(prefix, setup, env=env) == 13
        assert (
            installer_check.installation_problems(
                prefix, new, installer_check.default_install_dir(new)
            )
            == []
        )

        # With the runtime registered (Microsoft's detection key), it is not run.
        prefix.unix_path(log).unlink()
        key = r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients"
        guid = "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
        prefix.run(
            ["reg", "add", rf"{key}\{guid}", "/v", "pv", "/d", "120.0.2210.91", "/f"],
            step="register WebView2",
        )
        assert installer_check.run_installer(prefix, setup, env=env) == 0
        assert not prefix.unix_path(log).exists()
