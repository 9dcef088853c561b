"""Base images without a registry: a Debian root from debootstrap, cut down, `docker import`ed.

Nothing can be pulled here, and air-gapped sites have the same problem, so the default bases are
made locally from Debian packages. debootstrap runs once against the Debian mirror the host's
apt already uses; its root is cached as a tarball, and three images are derived from it
(docker/base/recipe.toml says what goes into each):

- base-debian: the build stages' base (a shell, python3, pip); never shipped.
- base-python: the orchestrator's runtime: python3.11, its standard library and exactly the
  shared libraries these load, found by reading their ELF headers.
- base-static: the backend's runtime: /etc/passwd, CA certificates and tzdata, no libc.

Images are tagged with a hash of the recipe, so an edited recipe makes new ones. Everything below
works on the cached tarball's members (a `RootFS`), never on an unpacked tree.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import fnmatch
import hashlib
import io
import json
import os
import posixpath
import shutil
import struct
import tarfile
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerException, docker

from build_scripts.core import atomic, cmd, paths, tools
from build_scripts.core.artifacts import human_size
from build_scripts.core.errors import CommandFailed, ConfigError, ReleaseError
from build_scripts.core.progress import say

# Bump when the derivation below changes what goes into an image: the tags change with it.
DERIVATION = "1"
KINDS = ("build", "python", "static")
# Every local base carries it, and so does every image built on one (labels are inherited).
RECIPE_LABEL = "org.traderadmin.base-recipe"
# Where the dynamic loader looks (Debian's multiarch paths; /lib is /usr/lib after usrmerge).
LIBRARY_DIRS = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib", "lib")
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KIND_DESCRIPTIONS = {
    "build": "build stages: Debian root with a shell, python3 and pip",
    "python": "runtime: python3 and the libraries it loads",
    "static": "runtime for static binaries: users, CA certificates, tzdata",
}


def recipe_path() -> Path:
    return paths.repo_root() / "docker" / "base" / "recipe.toml"


def cache_root() -> Path:
    return paths.cache_dir() / "base-images"


# --- the recipe ---------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class Recipe:
    text: str
    suite: str
    variant: str
    include: tuple[str, ...]
    user: User
    build_drop: tuple[str, ...]
    python_interpreter: str
    python_stdlib: str
    python_keep: tuple[str, ...]
    python_drop: tuple[str, ...]
    static_keep: tuple[str, ...]
    static_drop: tuple[str, ...]

    @property
    def rootfs_key(self) -> str:
        """What the debootstrap root depends on (the mirror is not part of it)."""
        debian = {"suite": self.suite, "variant": self.variant, "include": sorted(self.include)}
        return _digest(json.dumps(debian, sort_keys=True))[:16]

    @property
    def key(self) -> str:
        """The tag of the derived images: the whole recipe and the derivation version."""
        return _digest(self.text + "\0" + DERIVATION)[:12]


def parse_recipe(text: str, source: str = "recipe") -> Recipe:
    try:
        data = tomllib.loads(text)
        debian, user, python, static = data["debian"], data["user"], data["python"], data["static"]
        return Recipe(
            text=text,
            suite=debian["suite"],
            variant=debian.get("variant", "minbase"),
            include=tuple(debian.get("include", ())),
            user=User(user["name"], int(user["uid"]), int(user["gid"]), user["home"].strip("/")),
            build_drop=tuple(data.get("build", {}).get("drop", ())),
            python_interpreter=python["interpreter"],
            python_stdlib=python["stdlib"],
            python_keep=tuple(python.get("keep", ())),
            python_drop=tuple(python.get("drop", ())),
            static_keep=tuple(static.get("keep", ())),
            static_drop=tuple(static.get("drop", ())),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{source} is not a valid base-image recipe: {exc}",
            "compare it with docker/base/recipe.toml in git",
        ) from exc


def load_recipe(path: Path | None = None) -> Recipe:
    source = path or recipe_path()
    try:
        return parse_recipe(source.read_text(encoding="utf-8"), str(source))
    except FileNotFoundError as exc:
        raise ConfigError(f"{source} is missing", "restore it from git") from exc


def image_name(prefix: str, kind: str) -> str:
    return f"{prefix}/base-{'debian' if kind == 'build' else kind}"


def image_ref(prefix: str, kind: str, recipe: Recipe) -> str:
    return f"{image_name(prefix, kind)}:{recipe.key}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- the Debian mirror --------------------------------------------------------------------


WEB_SCHEMES = ("http", "https", "file")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


def parse_sources_list(text: str) -> list[AptSource]:
    """One-line apt sources: `deb [options] URI SUITE COMPONENT...`."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        options: dict[str, str] = {}
        if rest.startswith("["):
            inside, _, rest = rest[1:].partition("]")
            for option in inside.split():
                key, _, value = option.partition("=")
                options[key.lower()] = value
        parts = rest.split()
        if len(parts) >= 2:
            found.append(
                AptSource(parts[0], (parts[1],), tuple(parts[2:]), options.get("signed-by"))
            )
    return found


def parse_deb822_sources(text: str) -> list[AptSource]:
    """deb822 apt sources (*.sources): paragraphs of `Field: value` with continuation lines."""
    found = []
    for paragraph in _paragraphs(text):
        if "deb" not in paragraph.get("types", "").split():
            continue
        if paragraph.get("enabled", "yes").strip().lower() == "no":
            continue
        signed_by = paragraph.get("signed-by", "").strip()
        # Signed-By may hold the key itself; only a path helps debootstrap.
        keyring = signed_by if signed_by.startswith("/") and "\n" not in signed_by else None
        for uri in paragraph.get("uris", "").split():
            found.append(
                AptSource(
                    uri,
                    tuple(paragraph.get("suites", "").split()),
                    tuple(paragraph.get("components", "").split()),
                    keyring,
                )
            )
    return found


def _paragraphs(text: str) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    last = None
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields
            fields, last = {}, None
        elif raw[0] in " \t" and last:
            fields[last] += "\n" + raw.strip()
        elif ":" in raw:
            key, _, value = raw.partition(":")
            last = key.strip().lower()
            fields[last] = value.strip()


def host_sources(apt_dir: Path = Path("/etc/apt")) -> list[AptSource]:
    sources: list[AptSource] = []
    one_line = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if path.is_file():
            sources += parse_sources_list(path.read_text(errors="replace"))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        sources += parse_deb822_sources(path.read_text(errors="replace"))
    return sources


def choose_mirror(sources: Iterable[AptSource], suite: str) -> AptSource | None:
    """The first source that carries `suite` itself (not -updates/-security) with main."""
    for source in sources:
        scheme = source.uri.split(":", 1)[0]
        if suite in source.suites and "main" in source.components and scheme in WEB_SCHEMES:
            return source
    return None


def resolve_mirror(
    suite: str, configured: str | None, apt_dir: Path = Path("/etc/apt")
) -> AptSource:
    if configured:
        return AptSource(configured, (suite,), ("main",))
    chosen = choose_mirror(host_sources(apt_dir), suite)
    if chosen is None:
        raise ConfigError(
            f"no Debian mirror for {suite} main in {apt_dir}/sources.list*",
            "pass one: invoke images.bases --mirror http://deb.debian.org/debian "
            "(or set images.mirror in invoke.yaml)",
        )
    return chosen


# --- ELF: which shared libraries a file loads -----------------------------------------------

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


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


# --- a root file system as tarball members ----------------------------------------------------


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
        return write_tar(root, selected, output, user_files(recipe.user))


# --- debootstrap --------------------------------------------------------------------------


def rootfs_tarball(recipe: Recipe) -> Path:
    return cache_root() / f"rootfs-{recipe.suite}-{recipe.rootfs_key}.tar"


def derived_tarball(kind: str, recipe: Recipe) -> Path:
    return cache_root() / f"{kind}-{recipe.key}.tar"


def debootstrap_rootfs(recipe: Recipe, mirror: AptSource) -> Path:
    """Install the Debian root with debootstrap and cache it as a tarball (minutes, once)."""
    tools.require("debootstrap")
    if os.geteuid() != 0:
        raise ReleaseError(
            "debootstrap needs root to build the local base images",
            "run invoke images.bases as root once, or use official bases (images.base.*)",
        )
    destination = rootfs_tarball(recipe)
    debs = cache_root() / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".debootstrap-", dir=cache_root()))
    argv: list[str | os.PathLike] = [
        "debootstrap",
        f"--variant={recipe.variant}",
        f"--include={','.join(recipe.include)}",
        f"--cache-dir={debs}",
    ]
    if mirror.signed_by and Path(mirror.signed_by).is_file():
        argv.append(f"--keyring={mirror.signed_by}")
    argv += [recipe.suite, work / "root", mirror.uri]
    try:
        cmd.run(
            argv,
            step="debootstrap",
            hint=f"check that {mirror.uri} answers, or pass another: --mirror URL",
        )
        with (
            atomic.atomic_path(destination) as tmp,
            tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as archive,
        ):
            archive.add(work / "root", arcname=".")
    finally:
        _remove_tree(work)
    say(f"cached the Debian root: {destination} ({human_size(destination.stat().st_size)})")
    return destination


def _remove_tree(directory: Path) -> None:
    """rmtree, after unmounting what debootstrap may have left mounted inside (/proc, /sys)."""
    inside = str(directory.resolve()) + "/"
    with contextlib.suppress(FileNotFoundError):
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for mountpoint in sorted((m for m in mounts if m.startswith(inside)), reverse=True):
            cmd.run(["umount", "-l", mountpoint], step="debootstrap cleanup", check=False)
    shutil.rmtree(directory, ignore_errors=True)


# --- the images ---------------------------------------------------------------------------


@contextlib.contextmanager
def docker_errors(step: str, hint: str | None = None) -> Iterator[None]:
    """Turn python-on-whales' DockerException into the engine's one-line errors."""
    try:
        yield
    except DockerException as exc:
        text = "\n".join(part for part in (exc.stdout, exc.stderr) if part)
        if "Cannot connect to the Docker daemon" in text or "docker daemon running" in text:
            raise ReleaseError(
                "the Docker daemon is not answering", "run: invoke bootstrap"
            ) from exc
        tail = [line for line in text.splitlines() if line.strip()][-30:]
        raise CommandFailed(step, exc.docker_command, exc.return_code, tail, hint) from exc


def image_changes(prefix: str, kind: str, recipe: Recipe) -> list[str]:
    """Dockerfile instructions applied on `docker import` (the image config)."""
    changes = [
        f"ENV PATH={IMAGE_PATH}",
        "ENV LANG=C.UTF-8",
        f"LABEL org.opencontainers.image.title={image_name(prefix, kind)}",
        f"LABEL org.opencontainers.image.description={json.dumps(KIND_DESCRIPTIONS[kind])}",
        f"LABEL {RECIPE_LABEL}={recipe.key}",
    ]
    if kind == "build":
        changes.append('CMD ["/bin/bash"]')
    else:
        changes.append(f"USER {recipe.user.uid}:{recipe.user.gid}")
    return changes


def ensure_bases(
    prefix: str,
    kinds: Iterable[str] = KINDS,
    *,
    recipe: Recipe | None = None,
    mirror: str | None = None,
    refresh: bool = False,
) -> dict[str, str]:
    """Make sure the local base images exist; return kind -> image reference.

    Present images are used as they are; otherwise the cached tarballs are imported, and only
    when those are missing too does debootstrap run. refresh starts again from debootstrap (new
    Debian updates) and replaces the images.
    """
    recipe = recipe or load_recipe()
    kinds = list(kinds)
    cache_root().mkdir(parents=True, exist_ok=True)
    if refresh:
        rootfs_tarball(recipe).unlink(missing_ok=True)
        for kind in kinds:
            derived_tarball(kind, recipe).unlink(missing_ok=True)
    references = {}
    for kind in kinds:
        reference = image_ref(prefix, kind, recipe)
        references[kind] = reference
        with docker_errors("base images"):
            if not refresh and docker.image.exists(reference):
                continue
            tarball = derived_tarball(kind, recipe)
            if not tarball.exists():
                rootfs = rootfs_tarball(recipe)
                if not rootfs.exists():
                    debootstrap_rootfs(recipe, resolve_mirror(recipe.suite, mirror))
                say(f"deriving {reference} from {rootfs.name}")
                derive(kind, recipe, rootfs, tarball)
            say(f"+ docker image import {tarball} {reference}")
            docker.image.import_(
                tarball, tag=reference, changes=image_changes(prefix, kind, recipe)
            )
    with docker_errors("base images"):
        for kind, reference in references.items():
            size = docker.image.inspect(reference).size
            say(f"  {reference:40} {size / 1e6:6.1f} MB  {KIND_DESCRIPTIONS[kind]}")
    return references
