"""The published feed folder, what any static web server serves:

  <feed>/stable.json(.minisig), <feed>/beta.json(.minisig)   each channel's current offer
  <feed>/<version>/release.json(.minisig)                     every version published, kept
  <feed>/<version>/<files>(.minisig)                          the files its manifests point at

`publish` merges one release's updates/ folder in (earlier versions stay), `set_rollout`
changes a channel's percentage, `withdraw` takes a version out of every channel. Each checks
what it was given, changes a copy of the folder, checks the copy's signatures, and swaps it in
(folder_swap.py): a failure at any point leaves the feed as it was. A signed feed is rewritten
only with the key that signed it (its signatures are checked with the key's public half).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.updates import feed, folder_swap, manifest, signing, versions
from build_scripts.updates.keys import UpdateKey

RELEASE_MANIFEST = "release.json"


@dataclass(frozen=True)
class Change:
    """What an operation did to the feed, for the task to print."""

    version: str
    lines: tuple[str, ...]


def channel_path(feed_root: Path, channel: str) -> Path:
    return feed_root / f"{channel}.json"


def published_versions(feed_root: Path) -> list[str]:
    """Versions with a folder and a release.json in the feed, lowest first."""
    found = []
    if feed_root.is_dir():
        for entry in feed_root.iterdir():
            try:
                versions.parse(entry.name)
            except ConfigError:
                continue
            if (entry / RELEASE_MANIFEST).is_file():
                found.append(entry.name)
    return sorted(found, key=versions.sort_key)


def _write_manifest(path: Path, document: dict, key: UpdateKey | None, subject: str) -> None:
    """A fresh file (never written through an existing inode) and, signed, its signature."""
    for old in (path, signing.signature_path(path)):
        old.unlink(missing_ok=True)
    path.write_text(manifest.render(document), encoding="utf-8")
    if document["signed"]:
        if key is None:
            raise ConfigError(
                f"the feed is signed: rewriting {path.name} needs the update key",
                "pass --update-key FILE or set $TRADERADMIN_UPDATE_KEY",
            )
        signing.sign(path, key, signing.trusted_comment(subject, document["version"]))


def _check_release(updates_dir: Path, key: UpdateKey | None) -> dict:
    """release.json of a release's updates/ folder, its files and signatures checked."""
    document = manifest.load(updates_dir / RELEASE_MANIFEST)
    version = document["version"]
    if document["signed"]:
        if key is None:
            raise ConfigError(
                f"release {version} is signed: publishing it needs the update key that signed it",
                "pass --update-key FILE or set $TRADERADMIN_UPDATE_KEY",
            )
        feed.verify_folder(updates_dir, key.public_key)
    elif key is not None:
        raise ConfigError(
            f"release {version} is unsigned: a signed feed cannot offer it",
            "make the release again with the key: invoke release --update-key FILE",
        )
    for platform, entry in document["platforms"].items():
        path = updates_dir / feed.FILES / Path(entry["url"]).name
        if not path.is_file():
            raise VerificationFailed(f"release {version}: {platform} file {path} is missing")
        if path.stat().st_size != entry["size"] or sha256_of(path) != entry["sha256"]:
            raise VerificationFailed(
                f"release {version}: {path.name} does not match release.json (size or sha256)"
            )
    return document


def _check_feed(feed_root: Path, key: UpdateKey | None) -> None:
    """Every channel manifest valid; a signed feed's signatures good under key."""
    for channel in versions.CHANNELS:
        path = channel_path(feed_root, channel)
        if not path.is_file():
            continue
        document = manifest.load(path)
        if document["signed"]:
            if key is None:
                raise ConfigError(
                    f"the feed's {channel}.json is signed: changing the feed needs the key",
                    "pass --update-key FILE or set $TRADERADMIN_UPDATE_KEY",
                )
            signing.verify(path, key.public_key)


def _verify_stage(stage: Path, key: UpdateKey | None, added: str | None = None) -> None:
    """The changed copy, before it is swapped in: its channel manifests and the version folder
    just added (the others are hard links of files checked when they were published)."""
    _check_feed(stage, key)
    if key is not None and added is not None:
        feed.verify_folder(stage / added, key.public_key)


def publish(
    feed_root: Path, updates_dir: Path, key: UpdateKey | None, rollout: int | None = None
) -> Change:
    """Merge a release's updates/ folder into the feed; each channel it belongs to offers it
    if it is newer than what the channel offers now."""
    if rollout is not None:
        check_percentage(rollout)
    release = _check_release(updates_dir, key)
    version = release["version"]
    _check_feed(feed_root, key)
    existing = feed_root / version / RELEASE_MANIFEST
    if (
        existing.is_file()
        and existing.read_bytes() != (updates_dir / RELEASE_MANIFEST).read_bytes()
    ):
        raise ConfigError(
            f"{version} is already in the feed with other files",
            "a published version never changes: release a new version",
        )
    lines = []
    with folder_swap.changing(feed_root) as stage:
        for channel in versions.CHANNELS:
            path = channel_path(stage, channel)
            if path.is_file() and version in manifest.load(path)["withdrawn"]:
                raise ConfigError(
                    f"{version} was withdrawn from the {channel} channel",
                    "publish a new version instead",
                )
        target = stage / version
        # Published again with the same manifest: its files are there (hard links of the live
        # feed's, never to be written through).
        if not (target / RELEASE_MANIFEST).is_file():
            shutil.rmtree(target, ignore_errors=True)  # a stray folder: only the copy's links
            target.mkdir()
            for source in sorted((updates_dir / feed.FILES).iterdir()):
                shutil.copyfile(source, target / source.name)
            for name in (RELEASE_MANIFEST, RELEASE_MANIFEST + signing.SUFFIX):
                if (updates_dir / name).is_file():
                    shutil.copyfile(updates_dir / name, target / name)
        for channel in versions.channels_for(version):
            path = channel_path(stage, channel)
            current = manifest.load(path) if path.is_file() else None
            if current and versions.parse(current["version"]) >= versions.parse(version):
                lines.append(f"{channel}: stays at {current['version']} (not older than {version})")
                continue
            document = {
                **release,
                "channel": channel,
                "rollout": release["rollout"] if rollout is None else rollout,
                "withdrawn": current["withdrawn"] if current else [],
            }
            _write_manifest(path, document, key, channel)
            was = f" (was {current['version']})" if current else ""
            lines.append(f"{channel}: offers {version} to {document['rollout']}%{was}")
        _verify_stage(stage, key, added=version)
    return Change(version, tuple(lines))


def check_percentage(percentage: int) -> int:
    if (
        isinstance(percentage, bool)
        or not isinstance(percentage, int)
        or not 0 <= percentage <= 100
    ):
        raise ConfigError(f"rollout {percentage!r}: a percentage is a whole number 0..100")
    return percentage


def set_rollout(feed_root: Path, channel: str, percentage: int, key: UpdateKey | None) -> Change:
    """The share of installations (0..100) a channel offers its current version to."""
    check_percentage(percentage)
    if channel not in versions.CHANNELS:
        raise ConfigError(
            f"unknown channel {channel!r}", f"choose {' or '.join(versions.CHANNELS)}"
        )
    if not channel_path(feed_root, channel).is_file():
        raise ConfigError(
            f"the feed {feed_root} has no {channel} channel", "publish a release first"
        )
    _check_feed(feed_root, key)
    with folder_swap.changing(feed_root) as stage:
        path = channel_path(stage, channel)
        document = {**manifest.load(path), "rollout": percentage}
        _write_manifest(path, document, key, channel)
        _verify_stage(stage, key)
    line = f"{channel}: offers {document['version']} to {percentage}%"
    return Change(document["version"], (line,))


def withdraw(feed_root: Path, version: str, key: UpdateKey | None) -> Change:
    """Never offer version again: every channel lists it under "withdrawn", and a channel
    that offers it offers the newest version not withdrawn instead, to everyone (clients on the
    withdrawn version take that signed downgrade)."""
    versions.parse(version)
    published = published_versions(feed_root)
    if version not in published:
        raise ConfigError(
            f"{version} is not in the feed {feed_root}",
            f"published: {', '.join(published) or 'none'}",
        )
    _check_feed(feed_root, key)
    lines = []
    with folder_swap.changing(feed_root) as stage:
        for channel in versions.CHANNELS:
            path = channel_path(stage, channel)
            if not path.is_file():
                continue
            current = manifest.load(path)
            withdrawn = sorted({*current["withdrawn"], version}, key=versions.sort_key)
            document = {**current, "withdrawn": withdrawn}
            if current["version"] in withdrawn:
                good = [
                    v for v in published if versions.belongs_to(v, channel) and v not in withdrawn
                ]
                if not good:
                    raise ConfigError(
                        f"withdrawing {version} leaves the {channel} channel nothing to offer",
                        "publish a fixed version first, then withdraw",
                    )
                release = manifest.load(stage / good[-1] / RELEASE_MANIFEST)
                document = {**release, "channel": channel, "rollout": 100, "withdrawn": withdrawn}
                lines.append(
                    f"{channel}: offers {good[-1]} again (withdrawn: {', '.join(withdrawn)})"
                )
            else:
                lines.append(f"{channel}: stays at {current['version']}, lists {version} withdrawn")
            _write_manifest(path, document, key, channel)
        _verify_stage(stage, key)
    return Change(version, tuple(lines))
