"""The release graph's `bundle` step: what goes into the air-gapped bundle, and who signs it.

The bundle wing (build_scripts/bundle/) packs, signs and verifies; this module gathers the
release's own files for it, and the provenance and tool versions the release recorded.
"""

from __future__ import annotations

from build_scripts.bundle import make as bundle
from build_scripts.bundle import signing as bundle_signing
from build_scripts.core import paths
from build_scripts.core.artifacts import Artifact, sha256_of
from build_scripts.core.components import image_name
from build_scripts.core.metadata import Release
from build_scripts.desktop import build as desktop
from build_scripts.images import specs, transfer
from build_scripts.kube import manifests
from build_scripts.release import folder, provenance, sbom, state
from build_scripts.windows import deployment, installer, msi, winget

facts = bundle.facts


def plan(release: Release) -> bundle.Plan:
    """The release's files that go into the bundle, and its images' saved archives."""
    files = {release.installer_name: installer.installer_path(release)}
    # The managed machines' packages: the MSI, its winget manifests and detection rules.
    for path in (
        msi.msi_path(release),
        *winget.manifest_paths(release).values(),
        deployment.rules_path(release),
    ):
        files[path.relative_to(release.dist_dir).as_posix()] = path
    for platform in desktop.DEFAULT_PLATFORMS:
        path = desktop.binary_path(release, platform)
        files[path.relative_to(release.dist_dir).as_posix()] = path
    for path in sorted(sbom.sbom_dir(release).glob(f"*{folder.SBOM_SUFFIX}")):
        files[path.relative_to(release.dist_dir).as_posix()] = path
    images_in = [
        bundle.Image(
            name, image_name(release, name), release.image_tag, transfer.archive_path(release, name)
        )
        for name in specs.COMPONENTS
    ]
    return bundle.Plan(files, images_in, manifests.environments())


def recorded_tools(release: Release, step_names: list[str]) -> dict[str, str]:
    """The tool versions the release's steps recorded (for the bundle's provenance)."""
    found = {}
    for name in step_names:
        record = state.load_record(release.dist_dir, name)
        for key, value in (record.inputs if record else {}).items():
            if key.startswith("tool:"):
                found[key.removeprefix("tool:")] = value
    return found


def make(release: Release, step_names: list[str]) -> list[Artifact]:
    tools = recorded_tools(release, step_names)
    dirty = folder.is_dirty(paths.repo_root())
    return [
        bundle.make_bundle(
            release,
            plan(release),
            signer=bundle_signing.Signer.from_env(),
            provenance=lambda subjects: provenance.statement(release, subjects, tools, dirty=dirty),
        )
    ]


def signing() -> str:
    """Which key signs the bundle (its file and content digest), never the key itself."""
    signer = bundle_signing.Signer.from_env()
    return f"{signer.key_file}|{sha256_of(signer.key_file)}" if signer else "unsigned"
