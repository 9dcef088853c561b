"""The MSI under Wine, with the two releases the installer tests build (old = lower version,
new = higher): msiexec /i … /qn installs, the policy value only when given, a newer MSI upgrades
in place and keeps it, an older one is refused, msiexec /x leaves nothing; and the MSI and the
NSIS setup program refuse to install beside each other, both ways.

Each msiexec run costs a few seconds: one install serves several checks.
"""

import dataclasses
from pathlib import Path

import pytest

from build_scripts.windows import installer_check, msi, msi_check, selftest, signing
from tests.wine.machine_state import differences, snapshot

REFUSED = msi_check.exit_status(msi_check.FATAL)
NSIS_MSI_INSTALLED = 20


@dataclasses.dataclass(frozen=True)
class Package:
    path: Path
    target: str  # as msiexec in the prefix sees it
    product_code: str


@pytest.fixture(scope="module")
def msis(builds) -> dict[str, Package]:
    """The MSIs of both releases, from their real desktop builds (the old one signed)."""
    made = {}
    for name, release, app, config in (
        ("old", builds.old, builds.old_app, builds.certificate),
        ("new", builds.new, builds.new_app, None),
    ):
        path = msi.build_msi(release, app_exe=app, root=builds.root, signing_config=config).path
        made[name] = Package(path, msi_check.host_path(path), msi.properties(path)["ProductCode"])
    return made


def _selftest_version(prefix, release) -> str:
    exe = rf"{msi_check.install_dir(release)}\{release.product}.exe"
    report = selftest.run_selftest(prefix, exe, r"C:\msi-selftest.json")
    prefix.unix_path(r"C:\msi-selftest.json").unlink()
    folder = msi_check.install_dir(release)
    assert installer_check.selftest_problems(report, release, folder) == [], report
    return report["version"]


def test_msi_installs_without_a_policy_unasked_the_app_runs_and_uninstall_keeps_user_config(
    builds, msis, prefix
):
    new = builds.new
    before = snapshot(prefix)
    assert msi_check.run_msiexec(prefix, "/i", msis["new"].target) == msi_check.SUCCESS
    assert msi_check.installation_problems(prefix, new, msis["new"].product_code) == []
    assert prefix.reg_query(rf"HKLM\{msi.policy_key(new)}") is None
    assert _selftest_version(prefix, new) == new.version_text

    # A config.toml the user put beside the program is not the package's: it stays.
    folder = prefix.unix_path(msi_check.install_dir(new))
    (folder / "config.toml").write_text('backend_url = "http://127.0.0.1:9999"\n')
    code = msi_check.run_msiexec(prefix, "/x", msis["new"].product_code)
    assert code == msi_check.SUCCESS
    assert differences(before, snapshot(prefix)) == [
        "file added: Program Files/TraderAdmin",
        "file added: Program Files/TraderAdmin/config.toml",
    ]


def test_msi_upgrade_keeps_the_policy_a_downgrade_is_refused_and_uninstall_leaves_nothing(
    builds, msis, prefix
):
    old, new = builds.old, builds.new
    signing.verify_signature(msis["old"].path, builds.certificate.cert)
    before = snapshot(prefix)

    code = msi_check.run_msiexec(prefix, "/i", msis["old"].target, {"UPDATEPOLICY": "off"})
    assert code == msi_check.SUCCESS
    assert msi_check.installation_problems(prefix, old, msis["old"].product_code) == []
    assert msi_check.policy_value(prefix, old) == "off"

    # The newer MSI, without the property: one entry (the new product code), the newer
    # program in the same folder, the administrator's policy kept.
    assert msi_check.run_msiexec(prefix, "/i", msis["new"].target) == msi_check.SUCCESS
    assert msi_check.installation_problems(prefix, new, msis["new"].product_code) == []
    assert msi_check.policy_value(prefix, new) == "off"
    assert _selftest_version(prefix, new) == new.version_text

    upgraded = snapshot(prefix)
    assert msi_check.run_msiexec(prefix, "/i", msis["old"].target) == REFUSED
    assert differences(upgraded, snapshot(prefix)) == []

    code = msi_check.run_msiexec(prefix, "/x", msis["new"].product_code)
    assert code == msi_check.SUCCESS
    assert differences(before, snapshot(prefix)) == []


def test_msi_is_refused_while_the_setup_program_is_installed_per_machine(builds, msis, prefix):
    old = builds.old
    code = installer_check.run_installer(prefix, builds.old_installer, options=("/ALLUSERS",))
    assert code == installer_check.EXIT_OK
    installed = snapshot(prefix)
    assert msi_check.run_msiexec(prefix, "/i", msis["new"].target) == REFUSED
    assert differences(installed, snapshot(prefix)) == []
    target = installer_check.default_install_dir(old)
    assert installer_check.installation_problems(prefix, old, target) == []


def test_setup_program_is_refused_in_either_scope_while_the_msi_is_installed(builds, msis, prefix):
    assert msi_check.run_msiexec(prefix, "/i", msis["old"].target) == msi_check.SUCCESS
    installed = snapshot(prefix)
    for scope in ("/ALLUSERS", "/CURRENTUSER"):
        code = installer_check.run_installer(prefix, builds.new_installer, options=(scope,))
        assert code == NSIS_MSI_INSTALLED, scope
    assert differences(installed, snapshot(prefix)) == []
    assert msi_check.installation_problems(prefix, builds.old, msis["old"].product_code) == []
