"""The winget manifests and the detection rules, from stub installers: they validate against the
vendored winget schemas, name the files by the SHA-256 the release folder's SHA256SUMS lists,
and a manifest that breaks its schema is refused before anything is written."""

import json
from pathlib import Path

import pytest
import yaml

from build_scripts.core import sums
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import VerificationFailed
from build_scripts.release import folder
from build_scripts.windows import deployment, distribution, installer_check, msi, winget
from tests.support import pinned_release

NSIS_ICON = Path("/usr/share/nsis/Contrib/Graphics/Icons/modern-install.ico")


@pytest.fixture(scope="module")
def release_folder(tmp_path_factory):
    """A release folder with an MSI (stub program) and a stand-in for the NSIS installer."""
    root = tmp_path_factory.mktemp("dist")
    release = pinned_release("0.7.1-rc.1")
    stub = root.parent / "app" / "TraderAdmin.exe"
    stub.parent.mkdir(exist_ok=True)
    stub.write_bytes(b"MZ" + bytes(4094))
    msi.build_msi(release, app_exe=stub, root=root, icon=NSIS_ICON, verify_app=False)
    (root / release.installer_name).write_bytes(b"MZ not really NSIS")
    return release, root


def test_manifests_validate_and_name_the_sha256_that_sha256sums_lists(release_folder):
    release, root = release_folder
    files = winget.installers_of(release, root)
    written = winget.write_manifests(release, files, root=root)
    assert {a.path.name for a in written} == {
        "TraderAdminProject.TraderAdmin.yaml",
        "TraderAdminProject.TraderAdmin.installer.yaml",
        "TraderAdminProject.TraderAdmin.locale.en-US.yaml",
    }
    for kind, path in winget.manifest_paths(release, root).items():
        assert winget.validation_problems(kind, path.read_text()) == []
    listed = sums.parse_sums(
        sums.format_sums(
            {p.relative_to(root).as_posix(): sha256_of(p) for p in folder.artifact_files(root)}
        )
    )
    document = yaml.safe_load(winget.manifest_paths(release, root)["installer"].read_text())
    by_type = {}
    for entry in document["Installers"]:
        by_type.setdefault(entry["InstallerType"], []).append(entry)
    (msi_entry,) = by_type["msi"]
    assert msi_entry["InstallerSha256"] == listed[files.msi.name]
    assert msi_entry["InstallerUrl"] == (
        f"https://downloads.example.com/traderadmin/0.7.1-rc.1/{files.msi.name}"
    )
    assert msi_entry["ProductCode"] == msi.properties(files.msi)["ProductCode"]
    assert msi_entry["Scope"] == "machine"
    nsis = {e["Scope"]: e for e in by_type["nullsoft"]}
    assert {s: e["InstallerSwitches"]["Custom"] for s, e in nsis.items()} == {
        "machine": "/ALLUSERS",
        "user": "/CURRENTUSER",
    }
    assert {e["InstallerSha256"] for e in nsis.values()} == {listed[release.installer_name]}
    # Every return code the manifest explains is one the setup program has.
    codes = {c["InstallerReturnCode"] for e in nsis.values() for c in e["ExpectedReturnCodes"]}
    assert codes <= set(installer_check.EXIT_CODES)


def test_a_manifest_that_breaks_its_schema_is_refused_and_nothing_is_written(
    release_folder, tmp_path
):
    release, root = release_folder
    broken = distribution.Distribution(
        distribution.load().msi_upgrade_code, "ftp://downloads.example.com/{file}"
    )
    with pytest.raises(VerificationFailed, match=r"installer: Installers/0/InstallerUrl"):
        winget.write_manifests(
            release, winget.installers_of(release, root), root=tmp_path, settings=broken
        )
    assert not (tmp_path / winget.FOLDER).exists()
    # And the schema check itself rejects what winget would: a missing required field.
    texts = winget.render_manifests(
        release, winget.installers_of(release, root), distribution.load()
    )
    document = yaml.safe_load(texts["version"])
    del document["PackageVersion"]
    problems = winget.validation_problems("version", json.dumps(document))
    assert any("'PackageVersion' is a required property" in p for p in problems), problems


def test_detection_rules_name_the_product_code_keys_and_every_return_code(release_folder):
    release, root = release_folder
    files = winget.installers_of(release, root)
    (artifact,) = deployment.write_detection_rules(release, files.msi, files.nsis, root=root)
    assert artifact.path == root / "deployment" / "detection-rules.md"
    text = artifact.path.read_text()
    product_code = msi.properties(files.msi)["ProductCode"]
    assert f"msiexec /x {product_code} /qn /norestart" in text
    assert sha256_of(files.msi) in text and sha256_of(files.nsis) in text
    for key in (
        r"HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Uninstall\TraderAdmin",
        r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Uninstall\TraderAdmin",
        r"HKEY_LOCAL_MACHINE\Software\TraderAdmin",
        "UPDATEPOLICY=off",
    ):
        assert key in text, key
    for code in (*installer_check.EXIT_CODES, *(c for c, _, _ in deployment.MSI_RETURN_CODES)):
        assert f"| `{code}` |" in text, code
