"""The release steps for managed Windows machines: the MSI, the winget manifests and the
detection rules (steps.py wires them in; they live here to keep steps.py readable).

Each reads what the steps it needs wrote into the release folder, never rebuilds it: the MSI
packs the desktop step's TraderAdmin.exe, the manifests and rules name the MSI and the NSIS
installer by the SHA-256 of those very files (signed, when signing is configured).
"""

from __future__ import annotations

from build_scripts.core.artifacts import Artifact, Kind
from build_scripts.core.metadata import Release
from build_scripts.release import made, step_inputs
from build_scripts.release.graph import Step
from build_scripts.release.inputs import Inputs
from build_scripts.windows import deployment, distribution, msi, winget
from build_scripts.windows.signing import SigningConfig


def build_msi(release: Release) -> list[Artifact]:
    return [
        msi.build_msi(
            release,
            app_exe=made.one(release, ["desktop-windows"], Kind.BINARY, "windows/amd64").path,
            signing_config=SigningConfig.from_env(),
        )
    ]


def _installers(release: Release) -> winget.Installers:
    """The MSI and the NSIS installer the msi and installer steps made (their records say)."""
    return winget.Installers(
        made.one(release, ["msi"], Kind.INSTALLER, "msi").path,
        made.one(release, ["installer"], Kind.INSTALLER, "windows/amd64").path,
    )


def write_winget(release: Release) -> list[Artifact]:
    return winget.write_manifests(release, _installers(release))


def write_deployment(release: Release) -> list[Artifact]:
    installers = _installers(release)
    return deployment.write_detection_rules(release, installers.msi, installers.nsis)


def steps() -> list[Step]:
    identity, signing = step_inputs.identity, step_inputs.signing
    return [
        Step(
            "msi",
            "Windows Installer package for managed machines (wixl)",
            build_msi,
            needs=("desktop-windows",),
            inputs=Inputs(
                tools=("wixl", "msiinfo"),
                params=lambda r: {
                    **identity(r),
                    "upgrade_code": distribution.load().msi_upgrade_code,
                    "signing": signing(),
                },
            ),
            outputs=lambda r: [msi.msi_path(r)],
        ),
        Step(
            "winget",
            f"winget manifests (schema {winget.SCHEMA_VERSION}) for the MSI and NSIS installer",
            write_winget,
            needs=("msi", "installer"),
            inputs=Inputs(
                params=lambda r: {**identity(r), "download_url": distribution.load().download_url},
            ),
            outputs=lambda r: list(winget.manifest_paths(r).values()),
        ),
        Step(
            "deployment",
            "detection rules and command lines for Intune / ConfigMgr",
            write_deployment,
            needs=("msi", "installer"),
            inputs=Inputs(params=identity),
            outputs=lambda r: [deployment.rules_path(r)],
        ),
    ]
