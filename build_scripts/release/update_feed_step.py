"""The release graph's `update-feed` step: the desktop builds and the installer the steps it
needs made, signed into dist/<version>/updates/ with the release notes (build_scripts/updates/).

The key is read in the step's own process from $TRADERADMIN_UPDATE_KEY (`invoke release
--update-key FILE` sets it); its public half is an input of this step and of the desktop
builds, so a new key re-signs the feed and rebuilds the apps that carry the key.
"""

from __future__ import annotations

from pathlib import Path

from build_scripts.core import paths
from build_scripts.core.artifacts import Artifact, Kind
from build_scripts.core.metadata import Release
from build_scripts.release import made, step_inputs
from build_scripts.release.graph import Step
from build_scripts.release.inputs import Inputs
from build_scripts.updates import feed, keys, manifest, notes


def feed_files(release: Release) -> list[feed.FeedFile]:
    """What each platform's clients download: the Linux binary, the Windows installer."""
    linux = made.one(release, ["desktop-linux"], Kind.BINARY, "linux/amd64")
    windows = made.one(release, ["installer"], Kind.INSTALLER, "windows/amd64")
    return [
        feed.FeedFile(
            "linux-x86_64",
            linux.path,
            feed.linux_file_name(release.product, release.version_text),
        ),
        feed.FeedFile("windows-x86_64", windows.path, release.installer_name),
    ]


def release_notes(release: Release) -> str:
    published = manifest.pub_date(release.source_date_epoch)[:10]
    return notes.release_notes(paths.repo_root(), release.product, release.version_text, published)


def make(release: Release) -> list[Artifact]:
    return feed.write_release_feed(
        release.dist_dir,
        product=release.product,
        version=release.version_text,
        published=manifest.pub_date(release.source_date_epoch),
        notes=release_notes(release),
        files=feed_files(release),
        key=keys.from_env(),
        minimum_version=release.update_minimum_version,
    )


def params(release: Release) -> dict[str, object]:
    """The step's parameters: the key's public half ('unsigned' without one, never the
    secret), the previous release tag the notes start at, and the manifest defaults."""
    return {
        "update_key": keys.identity(),
        "notes_since": notes.previous_tag(paths.repo_root(), release.version_text) or "none",
        "minimum_version": release.update_minimum_version,
        "schema": manifest.SCHEMA_VERSION,
    }


def outputs(release: Release) -> list[Path]:
    return [feed.feed_dir(release.dist_dir), feed.notes_path(release.dist_dir)]


def step() -> Step:
    return Step(
        "update-feed",
        "signed update feed: manifests per channel, the files they point at, release notes",
        make,
        needs=("desktop-linux", "installer"),
        inputs=Inputs(
            tools=("minisign",),
            params=lambda r: {**step_inputs.identity(r), **params(r)},
        ),
        outputs=outputs,
    )
