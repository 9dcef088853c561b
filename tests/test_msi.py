"""The MSI read back with msitools (fast, with a stub program): its identity across versions, the
upgrade table, the refusals and the policy value's condition, the files it carries, signing.
What it does on a Windows test environment is in tests/wine/test_msi_on_wine.py."""

from pathlib import Path

import pytest

from build_scripts.core import cmd
from build_scripts.core.errors import ConfigError
from build_scripts.windows import distribution, msi, signing
from tests.support import pinned_release

NSIS_ICON = Path("/usr/share/nsis/Contrib/Graphics/Icons/modern-install.ico")
STUB = b"MZ" + bytes(4094)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two versions' MSIs (the older one signed with a throwaway certificate)."""
    root = tmp_path_factory.mktemp("msi")
    stub = root / "app" / "TraderAdmin.exe"
    stub.parent.mkdir()
    stub.write_bytes(STUB)
    certificate = signing.make_test_certificate(root / "certificate")
    made = {}
    for version, config in (("0.7.0", certificate), ("0.7.1-rc.1", None)):
        release = pinned_release(version)
        made[version] = msi.build_msi(
            release,
            app_exe=stub,
            root=root,
            icon=NSIS_ICON,
            verify_app=False,
            signing_config=config,
        ).path
    return made, certificate


def test_upgrade_code_is_stable_and_product_code_new_per_version(built):
    made, _ = built
    old, new = (msi.properties(made[v]) for v in ("0.7.0", "0.7.1-rc.1"))
    assert old["UpgradeCode"] == new["UpgradeCode"] == distribution.load().msi_upgrade_code
    assert old["ProductCode"] != new["ProductCode"]
    assert (old["ProductVersion"], new["ProductVersion"]) == ("0.7.0", "0.7.1")
    # A rebuild of one version keeps its ProductCode (Windows Installer then sees the same
    # product, not a second one).
    again = msi.product_code(pinned_release("0.7.0"), old["UpgradeCode"])
    assert again == old["ProductCode"]
    assert old["ALLUSERS"] == "1" and old["ARPHELPLINK"] == pinned_release().homepage


def test_upgrade_table_replaces_this_and_older_versions_and_detects_newer_ones(built):
    made, _ = built
    rows = {row["ActionProperty"]: row for row in msi.read_table(made["0.7.0"], "Upgrade")}
    older, newer = rows["OLDERVERSIONBEINGUPGRADED"], rows["NEWERVERSIONDETECTED"]
    # Attributes: 256 minimum inclusive, 2 only detect; the maximum is exclusive (wixl).
    assert (older["VersionMin"], older["VersionMax"], older["Attributes"]) == (
        "0.0.0",
        "0.7.1",
        "256",
    )
    assert (newer["VersionMin"], newer["VersionMax"], newer["Attributes"]) == ("0.7.1", "", "258")
    conditions = {row["Condition"] for row in msi.read_table(made["0.7.0"], "LaunchCondition")}
    assert conditions == {
        "Installed OR NOT NEWERVERSIONDETECTED",
        "Installed OR NOT NSISINSTALLLOCATION",
    }
    sequence = {
        r["Action"]: int(r["Sequence"])
        for r in msi.read_table(made["0.7.0"], "InstallExecuteSequence")
    }
    assert (
        sequence["InstallValidate"]
        < sequence["RemoveExistingProducts"]
        < sequence["InstallInitialize"]
    )


def test_policy_value_is_written_only_when_updatepolicy_is_given(built):
    made, _ = built
    path = made["0.7.0"]
    components = {row["Component"]: row for row in msi.read_table(path, "Component")}
    assert components[msi.POLICY_COMPONENT]["Condition"] == "UPDATEPOLICY"
    (value,) = [r for r in msi.read_table(path, "Registry") if r["Name"] == msi.POLICY_VALUE]
    assert (value["Root"], value["Key"], value["Value"]) == (
        "2",
        r"Software\TraderAdmin",
        "[UPDATEPOLICY]",
    )
    assert "UPDATEPOLICY" in msi.properties(path)["SecureCustomProperties"].split(";")


def test_the_package_carries_the_nsis_payload_and_its_shortcuts(built, tmp_path):
    made, _ = built
    cmd.run(["msiextract", "-C", tmp_path, made["0.7.1-rc.1"]], step="msiextract", quiet=True)
    folder = tmp_path / "TraderAdmin"  # msiextract drops ProgramFiles64Folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ("TraderAdmin.exe", "LICENSE.txt", "README.html", "config.toml.example")
    )
    assert (folder / "TraderAdmin.exe").read_bytes() == STUB
    shortcuts = msi.read_table(made["0.7.1-rc.1"], "Shortcut")
    assert {(s["Directory_"], s["Target"], s["WkDir"]) for s in shortcuts} == {
        ("ProgramMenuFolder", "[#AppExe]", "INSTALLFOLDER"),
        ("DesktopFolder", "[#AppExe]", "INSTALLFOLDER"),
    }


def test_a_signed_package_verifies_and_an_unsigned_one_says_so(built):
    made, certificate = built
    assert "Signature verification: ok" in signing.verify_signature(made["0.7.0"], certificate.cert)
    assert not signing.is_signed(made["0.7.1-rc.1"])


def test_a_version_windows_installer_cannot_hold_is_refused_before_building():
    with pytest.raises(ConfigError, match="does not fit an MSI ProductVersion"):
        msi.msi_version(pinned_release("256.0.0"))


def test_a_changed_or_missing_upgrade_code_is_refused(tmp_path):
    toml = tmp_path / "release.toml"
    toml.write_text(
        '[windows]\nmsi_upgrade_code = "{not-a-guid}"\ndownload_url = "https://x/{file}"\n'
    )
    with pytest.raises(ConfigError, match="msi_upgrade_code"):
        distribution.load(toml)
    toml.write_text("[product]\n")
    with pytest.raises(ConfigError, match=r"\[windows\] is missing"):
        distribution.load(toml)
