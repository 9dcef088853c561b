"""The release's update feed (the `update-feed` step): dist/<version>/updates/ and the notes.

  updates/files/<name>(.minisig)      what the platforms point at (the Linux binary, renamed
                                      <product>-<version>-linux-amd64; the installer by its name)
  updates/release.json(.minisig)      this version's own manifest
  updates/<channel>.json(.minisig)    per channel the version belongs to (pre-release: beta)
  updates/traderadmin-update.pub      the public key that checks all of them (signed feeds)
  RELEASE_NOTES.md                    beside updates/, and in every manifest's notes

The folder is made under a dot name beside its place and renamed in when complete, so a failed
or interrupted run leaves the previous one (the release removes dot leftovers); a signed one is
checked with minisign before the rename. Without a key the manifests say "signed": false, have
no signatures, and clients refuse them.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import atomic
from build_scripts.core.artifacts import Artifact, sha256_of
from build_scripts.updates import manifest, signing, versions
from build_scripts.updates.keys import PUBLIC_KEY_NAME, UpdateKey

FOLDER = "updates"
FILES = "files"
NOTES_NAME = "RELEASE_NOTES.md"


@dataclass(frozen=True)
class FeedFile:
    """A release file a platform points at: where the release made it, its name in the feed."""

    platform: str
    source: Path
    name: str


def feed_dir(dist_dir: Path) -> Path:
    return dist_dir / FOLDER


def notes_path(dist_dir: Path) -> Path:
    return dist_dir / NOTES_NAME


def linux_file_name(product: str, version: str) -> str:
    return f"{product}-{version}-linux-amd64"


def signature_note(key: UpdateKey | None) -> str:
    return f"signed, key {key.key_id}" if key else "unsigned (clients refuse it)"


def write_release_feed(
    dist_dir: Path,
    *,
    product: str,
    version: str,
    published: str,
    notes: str,
    files: list[FeedFile],
    key: UpdateKey | None,
    minimum_version: str = "0.0.0",
) -> list[Artifact]:
    """Write dist_dir/updates/ and dist_dir/RELEASE_NOTES.md; one Artifact per file."""
    target = feed_dir(dist_dir)
    dist_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-", dir=dist_dir))
    try:
        listed = [_add_file(stage, item, version, key) for item in files]
        for channel in (manifest.RELEASE_CHANNEL, *versions.channels_for(version)):
            document = manifest.build(
                product=product,
                channel=channel,
                version=version,
                notes=notes,
                published=published,
                files=listed,
                signed=key is not None,
                minimum_version=minimum_version,
            )
            path = stage / f"{channel}.json"
            path.write_text(manifest.render(document), encoding="utf-8")
            if key:
                signing.sign(path, key, signing.trusted_comment(channel, version))
        if key:
            (stage / PUBLIC_KEY_NAME).write_text(key.public_key_text, encoding="ascii")
            verify_folder(stage, key.public_key)
        atomic.fsync_tree(stage)
        _swap_in(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    atomic.write_text(notes_path(dist_dir), notes)
    return [
        Artifact(path, _note(path, key)) for path in sorted(target.rglob("*")) if path.is_file()
    ] + [Artifact(notes_path(dist_dir), "release notes (also in the manifests)")]


def _add_file(stage: Path, item: FeedFile, version: str, key: UpdateKey | None):
    destination = stage / FILES / item.name
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(item.source, destination)
    signature = ""
    if key:
        comment = signing.trusted_comment(item.name, version)
        signature = signing.sign(destination, key, comment).read_text(encoding="utf-8")
    return manifest.PlatformFile(
        item.platform,
        f"{version}/{item.name}",
        destination.stat().st_size,
        sha256_of(destination),
        signature,
    )


def signed_files(folder: Path) -> list[Path]:
    """Every file of a feed folder that has (or, signed, must have) a signature."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not p.name.endswith(signing.SUFFIX)
        and p.name != PUBLIC_KEY_NAME
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def verify_folder(folder: Path, public_key: str) -> int:
    """Check every file's signature; returns how many; VerificationFailed on the first bad."""
    found = signed_files(folder)
    for path in found:
        signing.verify(path, public_key)
    return len(found)


def _swap_in(stage: Path, target: Path) -> None:
    """Rename the complete stage into place; an older folder is moved aside, then removed."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-old-", dir=target.parent))
        target.rename(old / FOLDER)
    stage.rename(target)
    atomic.fsync_directory(target.parent)
    if old:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)


def _note(path: Path, key: UpdateKey | None) -> str:
    if path.name.endswith(signing.SUFFIX):
        return f"minisign signature of {path.name.removesuffix(signing.SUFFIX)}"
    if path.name == PUBLIC_KEY_NAME:
        return "the key that checks the feed (minisign -Vm FILE -p this)"
    if path.parent.name == FILES:
        return f"update file, {signature_note(key)}"
    return f"update manifest ({path.stem}), {signature_note(key)}"
