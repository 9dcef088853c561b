"""What an administrator pastes into Intune or Configuration Manager for one release:
dist/<version>/deployment/detection-rules.md, rendered from templates/detection-rules.md.j2 with
the values read back from the built MSI and the NSIS installer's registration."""

from __future__ import annotations

from pathlib import Path

import jinja2

from build_scripts.core import atomic
from build_scripts.core.artifacts import Artifact, Kind, sha256_of
from build_scripts.core.metadata import Release
from build_scripts.windows import installer, installer_check, msi

TEMPLATES = Path(__file__).parent / "templates"
RELEASE_READS = ("build_scripts/windows/templates/detection-rules.md.j2",)
FOLDER = "deployment"
RULES = "detection-rules.md"

# Windows Installer's return codes a silent install ends with, and how Intune treats them.
MSI_RETURN_CODES = (
    (0, "installed, upgraded or removed", "Success"),
    (1602, "cancelled", "Retry"),
    (
        1603,
        "fatal error, nothing changed: also a refusal (a newer version is installed, or the "
        "setup program's per-machine installation; the log says which)",
        "Failed",
    ),
    (1618, "another installation is in progress", "Retry"),
    (1638, "this version is already installed (another build of it)", "Failed"),
    (1641, "done; Windows Installer started a restart", "Hard reboot"),
    (3010, "done; a restart completes it (files were in use)", "Soft reboot"),
)


def rules_path(release: Release, root: Path | None = None) -> Path:
    return (root if root is not None else release.dist_dir) / FOLDER / RULES


def render_rules(release: Release, msi_file: Path, nsis_file: Path) -> str:
    found = msi.properties(msi_file)
    key = release.windows_uninstall_key
    machine_key = installer_check.uninstall_key(release).replace(
        "HKLM\\", "HKEY_LOCAL_MACHINE\\", 1
    )
    user_key = installer_check.uninstall_key(release, per_user=True).replace(
        "HKCU\\", "HKEY_CURRENT_USER\\", 1
    )
    scopes = (
        {
            "title": "Per machine (System context)",
            "machine": True,
            "install": "/S /ALLUSERS",
            "uninstall": rf'"C:\Program Files\{release.product}\{installer.UNINSTALLER}" /S',
            "key": machine_key,
        },
        {
            "title": "Per user (User context, no administrator rights)",
            "machine": False,
            "install": "/S /CURRENTUSER",
            "uninstall": (
                rf'"%LOCALAPPDATA%\Programs\{release.product}\{installer.UNINSTALLER}" /S'
            ),
            "key": user_key,
        },
    )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template(f"{RULES}.j2").render(
        product=release.product,
        version=release.version_text,
        policy_key=msi.policy_key(release),
        policy_value=msi.POLICY_VALUE,
        msi={
            "name": msi_file.name,
            "sha256": sha256_of(msi_file),
            "product_code": found["ProductCode"],
            "upgrade_code": found["UpgradeCode"],
            "product_version": found["ProductVersion"],
            "return_codes": MSI_RETURN_CODES,
        },
        nsis={
            "name": nsis_file.name,
            "sha256": sha256_of(nsis_file),
            "scopes": scopes,
            "key_name": key,
            "return_codes": sorted(installer_check.EXIT_CODES.items()),
        },
    )


def write_detection_rules(
    release: Release, msi_file: Path, nsis_file: Path, *, root: Path | None = None
) -> list[Artifact]:
    path = rules_path(release, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, render_rules(release, msi_file, nsis_file))
    return [
        Artifact(
            path,
            "Intune / ConfigMgr detection rules, command lines, return codes",
            Kind.DETECTION_RULES,
        )
    ]
