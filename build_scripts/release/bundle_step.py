"""The release graph's `bundle` step: what goes into the air-gapped bundle, and who signs it.

The bundle wing (build_scripts/bundle/) packs, signs and verifies; this module gathers the
release's own files for it, and the provenance and tool versions the release recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from build_scripts.bundle import make as bundle
from build_scripts.bundle import signing as bundle_signing
from build_scripts.core import paths
from build_scripts.core.artifacts import Artifact, Kind, select, sha256_of
from build_scripts.core.components import image_name
from build_scripts.core.metadata import Release
from build_scripts.release import folder, made, provenance, state
from build_scripts.ship import environment as environment_values

facts = bundle.facts


# What goes into the bundle as files, by kind; image archives go in as OCI layouts.
# The managed machines' packages too: the MSI (an installer), its winget manifests and the
# detection rules.
BUNDLED_KINDS = (Kind.INSTALLER, Kind.BINARY, Kind.SBOM, Kind.WINGET, Kind.DETECTION_RULES)


def plan(release: Release, needs: Iterable[str]) -> bundle.Plan:
    """The files the steps it needs made (installers, desktop binaries, SBOMs, winget
    manifests, detection rules), and the images' saved archives: selected by kind from those
    steps' records."""
    made_there = made.made_by(release, needs)
    chosen = [a for kind in BUNDLED_KINDS for a in select(made_there, kind)]
    files = {a.path.relative_to(release.dist_dir).as_posix(): a.path for a in chosen}
    images_in = [
        bundle.Image(a.of, image_name(release, a.of), release.image_tag, a.path)
        for a in sorted(select(made_there, Kind.IMAGE_ARCHIVE), key=lambda a: a.of)
    ]
    return bundle.Plan(dict(sorted(files.items())), images_in, environment_values.environments())


def recorded_tools(release: Release, step_names: list[str]) -> dict[str, str]:
    """The tool versions the release's steps recorded (for the bundle's provenance)."""
    found = {}
    for name in step_names:
        record = state.load_record(release.dist_dir, name)
        for key, value in (record.inputs if record else {}).items():
            if key.startswith("tool:"):
                found[key.removeprefix("tool:")] = value
    return found


def make(release: Release, step_names: list[str], needs: Iterable[str]) -> list[Artifact]:
    tools = recorded_tools(release, step_names)
    dirty = folder.is_dirty(paths.repo_root())
    return [
        bundle.make_bundle(
            release,
            plan(release, needs),
            signer=bundle_signing.Signer.from_env(),
            provenance=lambda subjects: provenance.statement(release, subjects, tools, dirty=dirty),
        )
    ]


def signing() -> str:
    """Which key signs the bundle (its file and content digest), never the key itself."""
    signer = bundle_signing.Signer.from_env()
    return f"{signer.key_file}|{sha256_of(signer.key_file)}" if signer else "unsigned"
