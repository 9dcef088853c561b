"""Per-user (/CURRENTUSER) and per-machine (/ALLUSERS) installations under Wine, each through its
whole life: install, shortcuts, start through them, upgrade keeping scope and settings,
uninstall; with a snapshot of the machine before, compared after each step.
"""

import getpass

from build_scripts.windows import installer, installer_check, selftest, signing
from tests.wine.machine_state import differences, snapshot

CUSTOM_DIR = r"C:\TraderAdminTest"  # no spaces: Wine would quote /D= and NSIS ignore it
USER = getpass.getuser()  # Wine's Windows user is the Linux user
PROFILE = rf"C:\users\{USER}"
APPDATA = rf"{PROFILE}\AppData\Roaming"


def _outside_the_profile(changes: list[str]) -> list[str]:
    """The changes that are not the current user's own (profile files or HKCU)."""
    own = (f"users/{USER}/", "HKCU\\")
    return [c for c in changes if not c.split(": ", 1)[1].startswith(own)]


def _selftest_through_shortcuts(prefix, release, install_dir, *, per_user):
    exe = rf"{install_dir}\{release.product}.exe"
    links = installer_check.shortcut_paths(release, per_user=per_user).values()
    for index, link in enumerate(links):
        report_path = rf"{PROFILE}\selftest-{index}.json"
        report = selftest.run_selftest(prefix, exe, report_path, shortcut=link)
        prefix.unix_path(report_path).unlink()
        assert installer_check.selftest_problems(report, release, install_dir) == [], report


def test_current_user_lifecycle_writes_nothing_under_hklm_or_program_files(builds, prefix):
    old, new = builds.old, builds.new
    target = installer_check.default_install_dir(old, per_user=True)
    assert target == rf"{PROFILE}\AppData\Local\Programs\TraderAdmin"
    other_user = prefix.unix_path(r"C:\users\colleague\AppData\Roaming\TraderAdmin")
    other_user.mkdir(parents=True)
    (other_user / "config.toml").write_text("refresh_seconds = 7\n")
    before = snapshot(prefix)

    assert (
        installer_check.run_installer(prefix, builds.old_installer, options=("/CURRENTUSER",)) == 0
    )
    assert installer_check.installation_problems(prefix, old, target, per_user=True) == []
    assert prefix.reg_query(installer_check.uninstall_key(old)) is None
    assert _outside_the_profile(differences(before, snapshot(prefix))) == []
    _selftest_through_shortcuts(prefix, old, target, per_user=True)

    # The user's settings, and the WebView2 data folder the app makes on its first start.
    config = prefix.unix_path(rf"{APPDATA}\TraderAdmin\config.toml")
    config.parent.mkdir(parents=True)
    config.write_text('backend_url = "http://127.0.0.1:9999"\n')
    webview_data = prefix.unix_path(rf"{APPDATA}\TraderAdmin.exe\EBWebView")
    webview_data.mkdir(parents=True)
    (webview_data / "Local State").write_text("{}")

    # The next version without a scope switch: it stays per-user, in the same folder.
    assert installer_check.run_installer(prefix, builds.new_installer) == 0
    assert installer_check.installation_problems(prefix, new, target, per_user=True) == []
    assert prefix.reg_query(installer_check.uninstall_key(new)) is None
    assert _outside_the_profile(differences(before, snapshot(prefix))) == []
    report = selftest.run_selftest(prefix, rf"{target}\TraderAdmin.exe", rf"{PROFILE}\st.json")
    prefix.unix_path(rf"{PROFILE}\st.json").unlink()
    assert report["version"] == new.version_text
    assert report["backend"]["url"] == "http://127.0.0.1:9999", report

    # "Remove my settings": this user's config and WebView2 data, not the colleague's.
    assert installer_check.run_uninstaller(prefix, target, remove_config=True) == 0
    assert installer_check.removal_problems(prefix, new, target, per_user=True) == []
    assert (other_user / "config.toml").read_text() == "refresh_seconds = 7\n"
    # Left: the two containers Windows shares between all per-user programs (they exist on a
    # used machine anyway), empty.
    assert differences(before, snapshot(prefix)) == [
        f"file added: users/{USER}/AppData/Local/Programs",
        r"registry key added: HKCU\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    ]


def test_all_users_lifecycle_in_a_chosen_folder_upgrades_in_place_and_uninstalls(builds, prefix):
    old, new = builds.old, builds.new
    before = snapshot(prefix)
    code = installer_check.run_installer(
        prefix, builds.old_installer, install_dir=CUSTOM_DIR, options=("/ALLUSERS",)
    )
    assert code == 0
    assert installer_check.installation_problems(prefix, old, CUSTOM_DIR) == []
    assert prefix.reg_query(installer_check.uninstall_key(old, per_user=True)) is None
    installed = prefix.unix_path(CUSTOM_DIR)
    # Signed build: the app, and the uninstaller the installer wrote (!uninstfinalize).
    for name in (f"{old.product}.exe", installer.UNINSTALLER):
        signing.verify_signature(installed / name, builds.certificate.cert)
    _selftest_through_shortcuts(prefix, old, CUSTOM_DIR, per_user=False)
    # Nothing in the user's profile: all-users shortcuts and HKLM only.
    changes = differences(before, snapshot(prefix))
    assert [c for c in changes if c not in _outside_the_profile(changes)] == []

    settings = 'backend_url = "http://127.0.0.1:9999"\n'
    (installed / "config.toml").write_text(settings)

    # The next version, without /D= or a switch: the same folder, still for all users.
    assert installer_check.run_installer(prefix, builds.new_installer) == 0
    assert installer_check.installation_problems(prefix, new, CUSTOM_DIR) == []
    assert prefix.reg_query(installer_check.uninstall_key(new))["DisplayVersion"] == "0.7.1-test.1"
    assert prefix.reg_query(installer_check.uninstall_key(new, per_user=True)) is None
    assert not prefix.unix_path(installer_check.default_install_dir(new)).exists()
    assert (installed / "config.toml").read_text() == settings
    assert not signing.is_signed(installed / f"{new.product}.exe")
    report = selftest.run_selftest(prefix, rf"{CUSTOM_DIR}\TraderAdmin.exe", r"C:\st.json")
    prefix.unix_path(r"C:\st.json").unlink()
    assert report["version"] == new.version_text
    assert report["config"]["found"] and report["config"]["origin"] != "defaults", report
    assert report["backend"]["url"] == "http://127.0.0.1:9999"

    assert installer_check.run_uninstaller(prefix, CUSTOM_DIR) == 0
    assert installer_check.removal_problems(prefix, new, CUSTOM_DIR, kept=("config.toml",)) == []
    # Only the settings the user wrote are left, in the folder they were in.
    assert differences(before, snapshot(prefix)) == [
        "file added: TraderAdminTest",
        "file added: TraderAdminTest/config.toml",
    ]


def test_a_reinstall_after_uninstall_finds_the_kept_settings_in_the_default_folder(builds, prefix):
    """Uninstall keeps config.toml in the default folder; installing again must use that folder
    (it is named after the product, so it is ours), not a TraderAdmin subfolder of it."""
    old, new = builds.old, builds.new
    target = installer_check.default_install_dir(old)
    assert installer_check.run_installer(prefix, builds.old_installer, options=("/ALLUSERS",)) == 0
    settings = 'backend_url = "http://127.0.0.1:9999"\n'
    (prefix.unix_path(target) / "config.toml").write_text(settings)
    assert installer_check.run_uninstaller(prefix, target) == 0
    assert installer_check.removal_problems(prefix, old, target, kept=("config.toml",)) == []

    assert installer_check.run_installer(prefix, builds.new_installer, options=("/ALLUSERS",)) == 0
    assert installer_check.installation_problems(prefix, new, target) == []
    assert not prefix.unix_path(rf"{target}\TraderAdmin").exists()
    assert (prefix.unix_path(target) / "config.toml").read_text() == settings
