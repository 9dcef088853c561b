"""Faults under Wine: each ends with its documented exit code and the machine exactly as before
(files, shortcuts and registry compared with a snapshot taken before), except where the test
says what changed on purpose.
"""

import contextlib
import os
from pathlib import Path

import pytest

from build_scripts.core import cmd
from build_scripts.windows import installer, installer_check, wine
from tests.wine.machine_state import differences, snapshot

TA, TB, TOOLS = r"C:\TA", r"C:\TB", r"C:\Tools"  # no spaces: Wine would quote /D=


@contextlib.contextmanager
def unwritable(path: Path):
    """Make a file unwritable even for root (Wine runs as root here): the immutable attribute.

    Root ignores permission bits, so chmod would not do; chattr +i also forbids renaming and
    deleting it, like a file another program holds open without sharing.
    """
    cmd.run(["chattr", "+i", path], step="chattr")
    try:
        probe = path.with_name(path.name + ".probe")
        try:
            os.rename(path, probe)
        except PermissionError:
            pass
        else:
            os.rename(probe, path)
            pytest.fail(f"chattr +i does not protect {path} on this file system")
        yield
    finally:
        cmd.run(["chattr", "-i", path], step="chattr")


def test_an_upgrade_that_cannot_replace_the_locked_exe_exits_14_and_restores_everything(
    builds, prefix
):
    old, new = builds.old, builds.new
    assert installer_check.run_installer(prefix, builds.old_installer, install_dir=TA) == 0
    (prefix.unix_path(TA) / "config.toml").write_text('backend_url = "http://127.0.0.1:9"\n')
    exe = prefix.unix_path(rf"{TA}\{old.product}.exe")
    before = snapshot(prefix)

    with unwritable(exe):
        assert installer_check.run_installer(prefix, builds.new_installer) == 14
        after = snapshot(prefix)
    # The other files were moved aside before the exe was found locked, and moved back.
    assert differences(before, after) == []
    assert installer_check.installation_problems(prefix, old, TA) == []

    # Once the file can be replaced, the same upgrade goes through.
    assert installer_check.run_installer(prefix, builds.new_installer) == 0
    assert installer_check.installation_problems(prefix, new, TA) == []
    assert (prefix.unix_path(TA) / "config.toml").is_file()
    # The snapshot sees what an upgrade changes (so an empty difference above means something).
    changed = differences(before, snapshot(prefix))
    assert "file changed: TA/TraderAdmin.exe" in changed, changed
    uninstall_key = rf"HKLM\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{old.product}"
    assert f"registry key changed: {uninstall_key}" in changed, changed


def test_an_upgrade_that_cannot_write_its_shortcut_exits_14_and_puts_the_old_files_back(
    builds, prefix
):
    old = builds.old
    assert installer_check.run_installer(prefix, builds.old_installer, install_dir=TA) == 0
    desktop_link = prefix.unix_path(installer_check.shortcut_paths(old)["Desktop"])
    before = snapshot(prefix)

    # The new files are already in place when the shortcut fails: they are taken out again.
    with unwritable(desktop_link):
        assert installer_check.run_installer(prefix, builds.new_installer) == 14
        after = snapshot(prefix)
    assert differences(before, after) == []
    assert installer_check.installation_problems(prefix, old, TA) == []


def test_a_folder_holding_user_files_gets_a_traderadmin_subfolder_and_the_files_survive(
    builds, prefix
):
    new = builds.new
    tools = prefix.unix_path(TOOLS)
    tools.mkdir()
    (tools / "README.html").write_text("<p>my own readme</p>\n")
    (tools / "notes.txt").write_text("my notes\n")
    before = snapshot(prefix)

    assert installer_check.run_installer(prefix, builds.new_installer, install_dir=TOOLS) == 0
    target = rf"{TOOLS}\{new.product}"
    assert installer_check.installation_problems(prefix, new, target) == []
    assert (tools / "README.html").read_text() == "<p>my own readme</p>\n"
    assert sorted(p.name for p in tools.iterdir()) == ["README.html", new.product, "notes.txt"]

    assert installer_check.run_uninstaller(prefix, target) == 0
    assert installer_check.removal_problems(prefix, new, target) == []
    assert differences(before, snapshot(prefix)) == []


def test_a_second_install_into_another_folder_is_refused_with_exit_15(builds, prefix):
    old, new = builds.old, builds.new
    assert installer_check.run_installer(prefix, builds.old_installer, install_dir=TA) == 0
    before = snapshot(prefix)

    assert installer_check.run_installer(prefix, builds.new_installer, install_dir=TB) == 15
    assert differences(before, snapshot(prefix)) == []
    assert not prefix.unix_path(TB).exists()

    # One uninstall leaves nothing of TraderAdmin behind.
    assert installer_check.run_uninstaller(prefix, TA) == 0
    assert installer_check.removal_problems(prefix, old, TA) == []
    assert not prefix.unix_path(TA).exists()
    assert prefix.reg_query(installer_check.uninstall_key(new, per_user=True)) is None


def test_a_silent_install_without_webview2_exits_16_and_changes_nothing(builds, prefix):
    wine.unregister_webview2_runtime(prefix)
    before = snapshot(prefix)
    for options in ((), ("/ALLUSERS",), ("/CURRENTUSER",)):
        code = installer_check.run_installer(prefix, builds.new_installer, options=options)
        assert code == 16, options
        assert differences(before, snapshot(prefix)) == [], options


def test_both_scope_switches_together_are_refused_with_exit_18(builds, prefix):
    before = snapshot(prefix)
    options = ("/ALLUSERS", "/CURRENTUSER")
    assert installer_check.run_installer(prefix, builds.new_installer, options=options) == 18
    assert differences(before, snapshot(prefix)) == []


@pytest.fixture(scope="module")
def standard_user(tmp_path_factory) -> Path:
    """run_as_standard_user.exe: runs a program without administrator rights (Wine itself
    runs every program as an elevated administrator)."""
    source = Path(__file__).with_name("run_as_standard_user")
    runner = tmp_path_factory.mktemp("standard-user") / "run_as_standard_user.exe"
    cmd.run(
        ["go", "build", "-trimpath", "-o", runner, "."],
        step="run_as_standard_user",
        cwd=source,
        env={"GOOS": "windows", "GOARCH": "amd64", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"},
    )
    return runner


def _as_standard_user(prefix, runner: Path, *args: str) -> int:
    result = prefix.run([str(runner), *args], step="as a standard user", check=False)
    prefix.wait()
    return result.returncode


def _windows_path(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")


def test_without_administrator_rights_all_users_changes_are_refused_with_exit_17(
    builds, prefix, standard_user
):
    old, new = builds.old, builds.new
    setup = _windows_path(builds.new_installer)
    before = snapshot(prefix)
    assert _as_standard_user(prefix, standard_user, setup, "/S", "/ALLUSERS") == 17
    assert differences(before, snapshot(prefix)) == []

    # A per-machine installation: a standard user can neither upgrade nor remove it.
    assert installer_check.run_installer(prefix, builds.old_installer, install_dir=TA) == 0
    before = snapshot(prefix)
    assert _as_standard_user(prefix, standard_user, setup, "/S") == 17
    uninstaller = rf"{TA}\{installer.UNINSTALLER}"
    assert _as_standard_user(prefix, standard_user, uninstaller, "/S", rf"_?={TA}") == 17
    assert differences(before, snapshot(prefix)) == []

    # But they can install it for themselves, next to the per-machine one.
    assert _as_standard_user(prefix, standard_user, setup, "/S", "/CURRENTUSER") == 0
    target = installer_check.default_install_dir(new, per_user=True)
    assert installer_check.installation_problems(prefix, new, target, per_user=True) == []
    assert installer_check.installation_problems(prefix, old, TA) == []
