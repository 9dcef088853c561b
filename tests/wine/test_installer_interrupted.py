"""An upgrade cut off at each phase of its transaction (the whole prefix dies, as at a power
loss; tests/wine/power_loss.py), then the same upgrade run normally, then an uninstall: the
next run finds the whole version on disk, finishes or undoes the cut one, and leaves exactly one
installation; the uninstall leaves only the user's settings.
"""

import hashlib

import pytest

from build_scripts.desktop import build as desktop
from build_scripts.windows import installer, installer_check
from tests.wine.machine_state import differences, snapshot
from tests.wine.power_loss import power_loss_at

TA = r"C:\TA"  # no spaces: Wine would quote /D=
STAGE, BACKUP = "~TraderAdmin.new", "~TraderAdmin.old"
SETTINGS = 'backend_url = "http://127.0.0.1:9"\n'
PROGRAM_FILES = {
    "TraderAdmin.exe",
    "config.toml.example",
    "README.html",
    "LICENSE.txt",
    installer.UNINSTALLER,
}

# Phase: (Wine server call, the path it names below C:\ (or a shortcut), which occurrence,
# what is in the staging and backup folders when the run dies there).
CUTS = {
    # Writing the new files: two of five are staged, the third just created (Wine's server
    # resolves the path after creating the file), nothing written into it yet.
    "stage": (
        "readlink",
        rf"{STAGE}\README.html",
        1,
        ({"TraderAdmin.exe", "config.toml.example", "README.html"}, set()),
    ),
    # Moving the previous files aside: two of five are in the backup, three still in place.
    "aside": ("rename", "README.html", 1, (None, {installer.UNINSTALLER, "LICENSE.txt"})),
    # Moving the new files in: two are in place, three still staged; the backup is whole.
    "movein": (
        "rename",
        rf"{STAGE}\README.html",
        1,
        ({"README.html", "config.toml.example", "TraderAdmin.exe"}, None),
    ),
    # Rewriting the shortcuts (both backed up, the Start menu one rewritten).
    "shortcuts": ("readlink", "Desktop", 2, (set(), None)),
    # Registering: the files and shortcuts are in place, the registry values being written
    # (lost with the server; Wine's server resolves uninstall.exe a third time to measure it).
    "registry": (
        "readlink",
        installer.UNINSTALLER,
        3,
        (set(), {*PROGRAM_FILES, "StartMenu.lnk", "Desktop.lnk"}),
    ),
    # Cleaning up: the backup is being deleted (uninstall.exe and LICENSE.txt are gone).
    "done": ("unlink", rf"{BACKUP}\README.html", 1, (set(), None)),
}


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _names(folder) -> set[str] | None:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else None


@pytest.mark.parametrize("phase", list(CUTS))
def test_an_upgrade_cut_off_is_recovered_by_the_next_run_and_uninstalls_cleanly(
    builds, prefix, phase, tmp_path
):
    old, new = builds.old, builds.new
    syscall, where, when, (staged, backed_up) = CUTS[phase]
    if where == "Desktop":
        target = prefix.unix_path(installer_check.shortcut_paths(old)["Desktop"])
    else:
        target = prefix.unix_path(rf"{TA}\{where}")
    before = snapshot(prefix)
    assert installer_check.run_installer(prefix, builds.old_installer, install_dir=TA) == 0
    folder = prefix.unix_path(TA)
    (folder / "config.toml").write_text(SETTINGS)

    log = tmp_path / "wineserver.strace"
    with power_loss_at(prefix, syscall, target, when=when, log=log) as cut:
        installer_check.run_installer(prefix, builds.new_installer, wait=False)
    assert cut.happened, log.read_text()
    if staged is not None:
        assert _names(folder / STAGE) == staged, phase
    if backed_up is not None:
        assert _names(folder / BACKUP) == backed_up, phase
    if phase == "done":
        assert {installer.UNINSTALLER, "LICENSE.txt"}.isdisjoint(_names(folder / BACKUP))

    # The same upgrade, run again: one whole installation of the new version.
    assert installer_check.run_installer(prefix, builds.new_installer) == 0
    assert installer_check.installation_problems(prefix, new, TA) == []
    app = desktop.binary_path(new, "windows/amd64", builds.root)
    assert _sha256(folder / f"{new.product}.exe") == _sha256(app)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*installer.payload_files(new), installer.UNINSTALLER, "config.toml"]
    )
    assert (folder / "config.toml").read_text() == SETTINGS

    assert installer_check.run_uninstaller(prefix, TA) == 0
    assert installer_check.removal_problems(prefix, new, TA, kept=("config.toml",)) == []
    assert differences(before, snapshot(prefix)) == ["file added: TA", "file added: TA/config.toml"]


def test_a_first_install_cut_off_is_completed_in_the_same_folder_by_the_next_run(
    builds, prefix, tmp_path
):
    """No previous version: the folder holds only the cut-off run's files and folders, and the
    next run with the same /D= installs there (not into a TraderAdmin subfolder of it)."""
    new = builds.new
    folder = prefix.unix_path(TA)
    before = snapshot(prefix)
    log = tmp_path / "wineserver.strace"
    with power_loss_at(prefix, "rename", folder / STAGE / "README.html", log=log) as cut:
        installer_check.run_installer(prefix, builds.new_installer, install_dir=TA, wait=False)
    assert cut.happened, log.read_text()
    assert _names(folder) == {installer.UNINSTALLER, "LICENSE.txt", STAGE, BACKUP}

    assert installer_check.run_installer(prefix, builds.new_installer, install_dir=TA) == 0
    assert installer_check.installation_problems(prefix, new, TA) == []
    assert _names(folder) == {*installer.payload_files(new), installer.UNINSTALLER}

    assert installer_check.run_uninstaller(prefix, TA) == 0
    assert installer_check.removal_problems(prefix, new, TA) == []
    assert differences(before, snapshot(prefix)) == []
