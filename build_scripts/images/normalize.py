"""A saved image made reproducible: the same inputs give the same archive bytes.

Debian's Docker 20.10 classic builder stamps the build time into the image config (`created`
of the image and of each history entry, the id of the build container, the id of the parent
image it chained from) and into the files RUN and COPY write (their mtimes); BuildKit there
has no SOURCE_DATE_EPOCH. So after the build the `docker save` archive is rewritten:

- each layer the build added: entries sorted by name, mtimes clamped to SOURCE_DATE_EPOCH,
  user and group names dropped (numeric ids stay: they are the ownership), only xattrs kept
  of the PAX records (no atime/ctime); hard links re-pointed to the first name in that order;
- layers of the base image stay byte for byte (they are shared with it, and the base image's
  id is an input of the build already);
- the config: `created` and every history entry at SOURCE_DATE_EPOCH, no build container or
  parent image id, the new diff_ids; the archive names the config by its digest, which is
  the image id Docker gives it on `docker load`;
- the outer archive: a fixed order, fixed times and owners, no compression.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from build_scripts.core import atomic
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import VerificationFailed

CHUNK = 1 << 20
# PAX records that carry meaning in an image layer; the rest is time or names.
KEPT_PAX_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")


def rfc3339(epoch: int) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hard_link_groups(members: list[tarfile.TarInfo]) -> dict[str, list[str]]:
    """Target name -> every name of that file (the target and its hard links), sorted."""
    names = {m.name for m in members}
    groups: dict[str, list[str]] = {}
    for member in members:
        if member.islnk() and member.linkname in names:
            groups.setdefault(member.linkname, [member.linkname]).append(member.name)
    return {target: sorted(group) for target, group in groups.items()}


def _normal_header(member: tarfile.TarInfo, epoch: int) -> tarfile.TarInfo:
    info = copy.copy(member)
    info.mtime = min(int(member.mtime), epoch)
    info.uname = ""
    info.gname = ""
    info.pax_headers = {
        key: value for key, value in member.pax_headers.items() if key.startswith(KEPT_PAX_PREFIXES)
    }
    return info


def normalize_layer(source: IO[bytes], destination: IO[bytes], epoch: int) -> None:
    """Rewrite one layer tar (seekable source) in the normal form described above."""
    with (
        tarfile.open(fileobj=source, mode="r:") as layer,
        tarfile.open(fileobj=destination, mode="w:", format=tarfile.PAX_FORMAT) as out,
    ):
        members = layer.getmembers()
        by_name = {m.name: m for m in members}
        groups = _hard_link_groups(members)
        # Each name of a hard-linked file -> (the member holding the data, the first name).
        linked: dict[str, tuple[tarfile.TarInfo, str]] = {}
        for target, group in groups.items():
            for name in group:
                linked[name] = (by_name[target], group[0])
        for name in sorted(by_name):
            member = by_name[name]
            if name in linked:
                holder, first = linked[name]
                info = _normal_header(holder, epoch)
                info.name = name
                if name != first:
                    info.type, info.linkname, info.size = tarfile.LNKTYPE, first, 0
                    out.addfile(info)
                    continue
                info.type, info.linkname = tarfile.REGTYPE, ""
                out.addfile(info, layer.extractfile(holder))
            elif member.isreg():
                out.addfile(_normal_header(member, epoch), layer.extractfile(member))
            else:
                out.addfile(_normal_header(member, epoch))


def normalize_config(config: dict, epoch: int, diff_ids: list[str]) -> bytes:
    """The image config with build times and build-machine ids replaced; compact JSON."""
    config = copy.deepcopy(config)
    stamp = rfc3339(epoch)
    config["created"] = stamp
    for entry in config.get("history", []):
        entry["created"] = stamp
    # The build container's id and its config (hostname = container id) say nothing of the
    # image; the parent image id is a digest of a config that held a build time.
    config.pop("container", None)
    config.pop("container_config", None)
    if isinstance(config.get("config"), dict) and "Image" in config["config"]:
        config["config"]["Image"] = ""
    config.setdefault("rootfs", {"type": "layers"})["diff_ids"] = list(diff_ids)
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def _sha256_file(path: Path) -> str:
    return "sha256:" + sha256_of(path)


def _outer_member(name: str, size: int, epoch: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, epoch, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


@dataclass(frozen=True)
class Normalized:
    image_id: str  # sha256:<config digest>, Docker's id of the image once loaded
    diff_ids: tuple[str, ...]
    rewritten: int  # layers rewritten (the others are the base image's, kept as they were)


def normalize_archive(
    saved: Path,
    destination: Path,
    *,
    epoch: int,
    tags: Iterable[str],
    keep_diff_ids: Iterable[str] = (),
) -> Normalized:
    """Rewrite a one-image `docker save` archive into `destination` (atomically).

    keep_diff_ids: layers left byte for byte (the base image's); every other layer is rewritten.
    """
    keep = set(keep_diff_ids)
    with tarfile.open(saved, mode="r:") as archive:
        manifest = json.load(_member(archive, "manifest.json"))
        if len(manifest) != 1:
            raise VerificationFailed(f"{saved} holds {len(manifest)} images, expected one")
        entry = manifest[0]
        config = json.load(_member(archive, entry["Config"]))
        old_ids = config.get("rootfs", {}).get("diff_ids", [])
        if len(old_ids) != len(entry["Layers"]):
            raise VerificationFailed(
                f"{saved}: {len(entry['Layers'])} layers, config names {len(old_ids)}"
            )
        with tempfile.TemporaryDirectory(prefix=".normalize-", dir=destination.parent) as scratch:
            layers: list[tuple[str, Path]] = []
            rewritten = 0
            for index, (name, old_id) in enumerate(zip(entry["Layers"], old_ids, strict=True)):
                path = Path(scratch) / f"{index}.tar"
                with path.open("wb") as out:
                    source = _member(archive, name)
                    if old_id in keep:
                        while chunk := source.read(CHUNK):
                            out.write(chunk)
                    else:
                        normalize_layer(source, out, epoch)
                        rewritten += 1
                layers.append((_sha256_file(path), path))
            diff_ids = [digest for digest, _ in layers]
            config_bytes = normalize_config(config, epoch, diff_ids)
            image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
            _write_archive(destination, epoch, layers, config_bytes, image_id, list(tags))
    return Normalized(image_id, tuple(diff_ids), rewritten)


def _member(archive: tarfile.TarFile, name: str) -> IO[bytes]:
    handle = archive.extractfile(name)
    if handle is None:
        raise VerificationFailed(f"{archive.name}: {name} is not a file")
    return handle


def _write_archive(
    destination: Path,
    epoch: int,
    layers: list[tuple[str, Path]],
    config_bytes: bytes,
    image_id: str,
    tags: list[str],
) -> None:
    config_name = image_id.removeprefix("sha256:") + ".json"
    layer_names = [f"{digest.removeprefix('sha256:')}/layer.tar" for digest, _ in layers]
    manifest = [{"Config": config_name, "RepoTags": tags, "Layers": layer_names}]
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    with (
        atomic.atomic_path(destination) as tmp,
        tarfile.open(tmp, mode="w:", format=tarfile.PAX_FORMAT) as out,
    ):
        written = set()
        for name, (_, path) in zip(layer_names, layers, strict=True):
            if name in written:  # the same layer twice (an empty layer): once is enough
                continue
            written.add(name)
            with path.open("rb") as data:
                out.addfile(_outer_member(name, path.stat().st_size, epoch), data)
        for name, data in ((config_name, config_bytes), ("manifest.json", manifest_bytes)):
            out.addfile(_outer_member(name, len(data), epoch), io.BytesIO(data))
