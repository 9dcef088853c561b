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

import contextlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from build_scripts.core import atomic, cmd, on_first_use, paths, tools
from build_scripts.core.artifacts import human_size
from build_scripts.core.errors import CommandFailed, ReleaseError
from build_scripts.core.progress import say
from build_scripts.images.mirror import AptSource, resolve_mirror
from build_scripts.images.recipe import KINDS, Recipe, load_recipe
from build_scripts.images.rootfs import derive

whales = on_first_use.module("python_on_whales")

# Every local base carries it, and so does every image built on one (labels are inherited).
RECIPE_LABEL = "org.traderadmin.base-recipe"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KIND_DESCRIPTIONS = {
    "build": "build stages: Debian root with a shell, python3 and pip",
    "python": "runtime: python3 and the libraries it loads",
    "static": "runtime for static binaries: users, CA certificates, tzdata",
}


def cache_root() -> Path:
    return paths.cache_dir() / "base-images"


# --- names ----------------------------------------------------------------------------------


def image_name(prefix: str, kind: str) -> str:
    return f"{prefix}/base-{'debian' if kind == 'build' else kind}"


def image_ref(prefix: str, kind: str, recipe: Recipe) -> str:
    return f"{image_name(prefix, kind)}:{recipe.key}"


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
    except whales.DockerException as exc:
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
            if not refresh and whales.docker.image.exists(reference):
                continue
            tarball = derived_tarball(kind, recipe)
            if not tarball.exists():
                rootfs = rootfs_tarball(recipe)
                if not rootfs.exists():
                    debootstrap_rootfs(recipe, resolve_mirror(recipe.suite, mirror))
                say(f"deriving {reference} from {rootfs.name}")
                derive(kind, recipe, rootfs, tarball)
            say(f"+ docker image import {tarball} {reference}")
            whales.docker.image.import_(
                tarball, tag=reference, changes=image_changes(prefix, kind, recipe)
            )
    with docker_errors("base images"):
        for kind, reference in references.items():
            size = whales.docker.image.inspect(reference).size
            say(f"  {reference:40} {size / 1e6:6.1f} MB  {KIND_DESCRIPTIONS[kind]}")
    return references
