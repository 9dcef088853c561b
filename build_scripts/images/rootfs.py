"""Cutting a Debian root file system down to a base image: ELF dependencies, keep/drop rules,
package copyrights, the non-root user, a reproducible tar."""

from __future__ import annotations

import bisect
import copy
import fnmatch
import io
import posixpath
import struct
import tarfile
from collections.abc import Iterable
from pathlib import Path

from build_scripts.core import atomic
from build_scripts.core.errors import ConfigError, ReleaseError
from build_scripts.images.recipe import KINDS, Recipe, User

# Where the dynamic loader looks (Debian's multiarch paths; /lib is /usr/lib after usrmerge).
LIBRARY_DIRS = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib", "lib")


def elf_dependencies(data: bytes) -> tuple[str | None, list[str]]:
    """(program interpreter, DT_NEEDED sonames) of a 64-bit little-endian ELF file.

    Anything else (scripts, data, static binaries) has neither: (None, []).
    """
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None, []
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads: list[tuple[int, int, int]] = []
    dynamic = interpreter = None
    for index in range(phnum):
        p_type, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + index * phentsize
        )
        if p_type == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (offset, filesz)
        elif p_type == PT_INTERP:
            interpreter = data[offset : offset + filesz].split(b"\0", 1)[0].decode()
    if dynamic is None:
        return interpreter, []
    entries = []
    for position in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, value = struct.unpack_from("<qQ", data, position)
        if tag == DT_NULL:
            break
        entries.append((tag, value))
    strtab = next((value for tag, value in entries if tag == DT_STRTAB), None)
    if strtab is None:
        return interpreter, []
    base = next(
        (off + strtab - vaddr for vaddr, off, size in loads if vaddr <= strtab < vaddr + size),
        strtab,
    )
    needed = []
    for tag, value in entries:
        if tag == DT_NEEDED:
            start = base + value
            needed.append(data[start : data.index(b"\0", start)].decode())
    return interpreter, needed


def normalize(name: str) -> str:
    """A member name as a relative path without ./ (the root itself is '')."""
    cleaned = posixpath.normpath("/" + name).lstrip("/")
    return "" if cleaned == "." else cleaned


class RootFS:
    """The members of a root file-system tarball, addressed by path, with symlinks resolved."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self.archive = archive
        self.members: dict[str, tarfile.TarInfo] = {}
        self.order: list[str] = []
        for member in archive.getmembers():
            name = normalize(member.name)
            if name not in self.members:
                self.order.append(name)
            self.members[name] = member
        self._sorted = sorted(self.members)

    def read(self, path: str) -> bytes:
        member = self.members[path]
        if member.islnk():
            return self.read(normalize(member.linkname))
        handle = self.archive.extractfile(member)
        return handle.read() if handle else b""

    def resolve(self, path: str) -> tuple[str, list[str]]:
        """The canonical path (no symlink in it) and the symlink members passed on the way."""
        links: list[str] = []
        pending = [part for part in normalize(path).split("/") if part]
        current = ""
        for _ in range(4096):
            if not pending:
                return current, links
            candidate = posixpath.join(current, pending.pop(0))
            member = self.members.get(candidate)
            if member is not None and member.issym():
                links.append(candidate)
                target = member.linkname
                base = "" if target.startswith("/") else current
                joined = normalize(posixpath.join(base, target))
                pending = [part for part in joined.split("/") if part] + pending
                current = ""
            else:
                current = candidate
        raise ReleaseError(f"symlink loop resolving {path} in the Debian root")

    def is_file(self, path: str) -> bool:
        """True for a file, or a link to one (not usrmerge's /lib -> usr/lib); False if missing."""
        member = self.members.get(self.resolve(path)[0])
        return member is not None and not member.isdir()

    def descendants(self, directory: str) -> list[str]:
        # Sorted names put everything below "dir/" between "dir/" and "dir0" ('0' follows '/').
        start = bisect.bisect_left(self._sorted, directory + "/")
        end = bisect.bisect_left(self._sorted, directory + "0")
        return self._sorted[start:end]


def is_dropped(path: str, patterns: Iterable[str]) -> bool:
    """True if path matches a pattern, or lies inside a directory that does (fnmatch)."""
    return any(
        fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + "/*")
        for pattern in patterns
    )


def find_library(root: RootFS, soname: str) -> str | None:
    for directory in LIBRARY_DIRS:
        canonical, _ = root.resolve(f"{directory}/{soname}")
        if canonical in root.members:
            return f"{directory}/{soname}"
    return None


def select(root: RootFS, keep: Iterable[str], drop: Iterable[str], *, libraries: bool) -> set[str]:
    """The members to keep: `keep` (directories with their contents) minus `drop`, plus every
    symlink on the way, and with `libraries` the interpreter and shared libraries that kept ELF
    files load, transitively. Parent directories are included."""
    drop = tuple(drop)
    selected: set[str] = set()
    queue: list[tuple[str, str | None]] = [(path, None) for path in keep]
    while queue:
        path, needed_by = queue.pop()
        canonical, links = root.resolve(path)
        member = root.members.get(canonical)
        if member is None:
            if needed_by == "(content)":
                selected.update(links)  # a dangling link inside a kept directory
                continue
            what = f"{path} (needed by {needed_by})" if needed_by else path
            raise ReleaseError(
                f"{what} is not in the Debian root",
                "add the package that provides it to [debian] include in docker/base/recipe.toml",
            )
        if is_dropped(canonical, drop):
            continue
        selected.update(links)
        if canonical in selected:
            continue
        selected.add(canonical)
        # A directory reached as content of a kept one had its descendants queued already.
        if member.isdir() and (needed_by != "(content)" or links):
            queue += [
                (name, "(content)")
                for name in root.descendants(canonical)
                if not is_dropped(name, drop)
            ]
        elif libraries and (member.isfile() or member.islnk()):
            interpreter, needed = elf_dependencies(root.read(canonical))
            if interpreter:
                queue.append((interpreter, canonical))
            for soname in needed:
                found = find_library(root, soname)
                if found is None:
                    raise ReleaseError(
                        f"{soname} (needed by {canonical}) is not in the Debian root",
                        "add its package to [debian] include in docker/base/recipe.toml",
                    )
                queue.append((found, canonical))
    for name in list(selected):
        parent = posixpath.dirname(name)
        while parent and parent not in selected:
            selected.add(parent)
            parent = posixpath.dirname(parent)
    return selected


def package_files(root: RootFS) -> dict[str, str]:
    """Path -> Debian package that installed it, for files and symlinks (from dpkg's *.list).

    Only the directories on the way are resolved: a symlink belongs to the package that ships
    the link, not to the one that ships its target.
    """
    owners: dict[str, str] = {}
    for name in root.order:
        if name.startswith("var/lib/dpkg/info/") and name.endswith(".list"):
            package = posixpath.basename(name)[: -len(".list")].split(":", 1)[0]
            for line in root.read(name).decode(errors="replace").splitlines():
                parent, base = posixpath.split(normalize(line))
                if not base:
                    continue
                path = posixpath.join(root.resolve(parent)[0], base)
                if root.is_file(path):
                    owners.setdefault(path, package)
    return owners


def copyright_files(root: RootFS, selected: set[str]) -> list[str]:
    """The Debian copyright file of every package whose files are kept (their licences travel
    with the binaries)."""
    owners = package_files(root)
    packages = {owners[name] for name in selected if name in owners}
    found = []
    for package in sorted(packages):
        path = f"usr/share/doc/{package}/copyright"
        if root.resolve(path)[0] in root.members:
            found.append(path)
    return found


# dpkg's database, one stanza per package, as distroless images carry it: SBOM generators and
# scanners read it to name the Debian packages (and versions) whose files an image ships.
DPKG_STATUS = "var/lib/dpkg/status"
STATUS_DIR = "var/lib/dpkg/status.d"


def dpkg_stanzas(status: str) -> dict[str, str]:
    """Package name -> its stanza of a dpkg status file (installed packages only)."""
    stanzas = {}
    for block in status.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != " "
        )
        if "Package" in fields and fields.get("Status", "").endswith(" installed"):
            stanzas[fields["Package"]] = block.strip() + "\n"
    return stanzas


def package_records(root: RootFS, selected: set[str]) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """status.d/<package> of every package whose files are kept."""
    owners = package_files(root)
    kept = {owners[name] for name in selected if name in owners}
    stanzas = dpkg_stanzas(root.read(DPKG_STATUS).decode(errors="replace"))
    records: list[tuple[tarfile.TarInfo, bytes | None]] = list(
        _directories(("var", "var/lib", "var/lib/dpkg", STATUS_DIR))
    )
    for package in sorted(kept & stanzas.keys()):
        data = stanzas[package].encode()
        info = tarfile.TarInfo(f"{STATUS_DIR}/{package}")
        info.mode, info.size = 0o644, len(data)
        records.append((info, data))
    return records


def _directories(names: Iterable[str]) -> list[tuple[tarfile.TarInfo, None]]:
    entries = []
    for name in names:
        info = tarfile.TarInfo(name)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        entries.append((info, None))
    return entries


def user_files(user: User) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """/etc/passwd and /etc/group with root and the non-root user, its home, and /tmp."""
    passwd = (
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{user.name}:x:{user.uid}:{user.gid}:{user.name}:/{user.home}:/usr/sbin/nologin\n"
    )
    group = f"root:x:0:\n{user.name}:x:{user.gid}:\n"
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for name, mode, uid, gid in (
        ("tmp", 0o1777, 0, 0),
        ("home", 0o755, 0, 0),
        (user.home, 0o700, user.uid, user.gid),
    ):
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, mode, uid, gid
        entries.append((info, None))
    for name, text in (("etc/passwd", passwd), ("etc/group", group)):
        info = tarfile.TarInfo(name)
        info.mode, info.size = 0o644, len(text.encode())
        entries.append((info, text.encode()))
    return entries


def write_tar(
    root: RootFS,
    selected: set[str],
    output: Path,
    extra: list[tuple[tarfile.TarInfo, bytes | None]] = (),
) -> Path:
    """The selected members in their original order (then `extra`, which replaces members of
    the same name), numeric owners only. A hard link whose target is not kept becomes a copy."""
    replaced = {info.name for info, _ in extra}
    with (
        atomic.atomic_path(output) as tmp,
        tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as out,
    ):
        for name in root.order:
            if name not in selected or name in replaced or not name:
                continue
            info = copy.copy(root.members[name])
            info.name, info.uname, info.gname = name, "", ""
            data = None
            if info.islnk():
                target = normalize(info.linkname)
                if target in selected:
                    info.linkname = target
                else:
                    data = root.read(target)
                    info.type, info.linkname, info.size = tarfile.REGTYPE, "", len(data)
            elif info.isfile():
                data = root.read(name)
            out.addfile(info, io.BytesIO(data) if data is not None else None)
        for info, data in extra:
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return output


def derive(kind: str, recipe: Recipe, rootfs_tar: Path, output: Path) -> Path:
    """Write the root file system of one base image from the cached debootstrap root."""
    with tarfile.open(rootfs_tar) as archive:
        root = RootFS(archive)
        if kind == "build":
            selected = {name for name in root.order if not is_dropped(name, recipe.build_drop)}
            return write_tar(root, selected, output)
        if kind == "python":
            keep = [recipe.python_interpreter, recipe.python_stdlib, *recipe.python_keep]
            selected = select(root, keep, recipe.python_drop, libraries=True)
        elif kind == "static":
            selected = select(root, recipe.static_keep, recipe.static_drop, libraries=False)
        else:
            raise ConfigError(f"unknown base image kind {kind!r}", f"choose from {KINDS}")
        selected |= select(root, copyright_files(root, selected), (), libraries=False)
        extra = package_records(root, selected) + user_files(recipe.user)
        return write_tar(root, selected, output, extra)


PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3


DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5
