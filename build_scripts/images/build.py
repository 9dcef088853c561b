"""Container images of the backend and the orchestrator: hermetic builds, tags, budgets, transfer.

The inputs are made on the host first (services.py: the static backend binary, the orchestrator
wheelhouse), so nothing inside `docker build` fetches anything, and every build runs with the
network disabled to prove it. The build context is dist/<version>/, cut down to those inputs by
docker/context.dockerignore. Base images are build arguments: by default the local ones from
base_images.py (no registry needed), or any the user names in config.

A build is skipped when the image already carries the digest of its inputs (Dockerfile, context
files, build arguments, base image ids) in a label, so a second build of an unchanged tree runs
no `docker build` at all.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales import DockerException, Image, docker

from build_scripts.core import atomic, cmd, docker_engine, paths
from build_scripts.core.components import image_name
from build_scripts.core.errors import CommandFailed, ConfigError, ToolMissing, VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import format_seconds, say
from build_scripts.images import bases as base_images
from build_scripts.images.bases import docker_errors
from build_scripts.release.summary import sha256_of
from build_scripts.services import build as services

INPUTS_LABEL = "org.traderadmin.build-inputs"
# Part of the inputs digest: bump it when the way images are built changes.
BUILD_FORMAT = "1"
MB = 1_000_000  # budgets and sizes in SI megabytes, as `docker images` shows them
BUILDERS = ("auto", "classic", "buildx")


def docker_dir() -> Path:
    return paths.repo_root() / "docker"


def dockerignore_path() -> Path:
    return docker_dir() / "context.dockerignore"


@dataclass(frozen=True)
class Component:
    name: str
    description: str
    # The local base (base_images.KINDS) of the final stage; the build stage uses "build".
    runtime_base: str
    # What the Dockerfile copies, relative to the build context dist/<version>/.
    inputs: tuple[str, ...]
    port: int
    budget_mb: float

    @property
    def dockerfile(self) -> Path:
        return docker_dir() / f"{self.name}.Dockerfile"


COMPONENTS: dict[str, Component] = {
    "backend": Component(
        "backend",
        "TraderAdmin backend: configuration API, audit log, heartbeats",
        "static",
        ("backend/traderadmin-backend-linux-amd64",),
        8080,
        15,
    ),
    "orchestrator": Component(
        "orchestrator",
        "TraderAdmin orchestrator: runs the configured paper-trading strategies",
        "python",
        ("orchestrator/wheelhouse",),
        8081,
        80,
    ),
}


def component(name: str) -> Component:
    try:
        return COMPONENTS[name]
    except KeyError:
        raise ConfigError(
            f"unknown image {name!r}", f"choose from: {', '.join(COMPONENTS)}"
        ) from None


@dataclass(frozen=True)
class Settings:
    """What a user can configure (invoke config `images.*`); the defaults need no registry."""

    builder: str = "auto"
    # Base image kind -> reference; a kind not named here is built locally (base_images.py).
    bases: Mapping[str, str] = field(default_factory=dict)
    budgets_mb: Mapping[str, float] = field(default_factory=dict)
    mirror: str | None = None
    source_url: str | None = None
    force: bool = False

    def budget(self, item: Component) -> float:
        return float(self.budgets_mb.get(item.name, item.budget_mb))


@dataclass(frozen=True)
class BuiltImage:
    component: str
    tags: tuple[str, ...]
    image_id: str
    size: int
    inputs_digest: str
    built: bool
    builder: str
    seconds: float

    @property
    def reference(self) -> str:
        return self.tags[0]


# --- names and labels ---------------------------------------------------------------------


def image_tags(release: Release, name: str) -> tuple[str, ...]:
    """traderadmin/<component>:<version>, and :<git commit> when the commit is known."""
    base = image_name(release, name)
    tags = [f"{base}:{release.image_tag}"]
    if re.fullmatch(r"[0-9a-f]{40}", release.commit):
        tags.append(f"{base}:{release.commit}")
    return tuple(tags)


def created_timestamp(epoch: int) -> str:
    """SOURCE_DATE_EPOCH as RFC 3339 UTC, for org.opencontainers.image.created."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_args(
    release: Release, item: Component, bases: Mapping[str, str], source_url: str
) -> dict[str, str]:
    """The Dockerfile's ARGs: its two bases and the values of its OCI labels."""
    return {
        "BUILD_BASE": bases["build"],
        "RUNTIME_BASE": bases[item.runtime_base],
        "VERSION": release.version_text,
        "REVISION": release.commit,
        "CREATED": created_timestamp(release.source_date_epoch),
        "SOURCE": source_url,
    }


def expected_labels(item: Component, args: Mapping[str, str]) -> dict[str, str]:
    """The OCI labels the Dockerfile sets from its ARGs (checked on every image)."""
    return {
        "org.opencontainers.image.title": f"traderadmin-{item.name}",
        "org.opencontainers.image.version": args["VERSION"],
        "org.opencontainers.image.revision": args["REVISION"],
        "org.opencontainers.image.created": args["CREATED"],
        "org.opencontainers.image.source": args["SOURCE"],
        "org.opencontainers.image.base.name": args["RUNTIME_BASE"],
    }


def is_numeric_non_root(user: str) -> bool:
    """`Config.User` as uid[:gid], numbers only, uid not 0 (Kubernetes runAsNonRoot needs it)."""
    match = re.fullmatch(r"(\d+)(?::(\d+))?", user or "")
    return bool(match) and int(match.group(1)) != 0


# --- the inputs digest --------------------------------------------------------------------


def wheel_digest(path: Path) -> str:
    """A wheel by content (names and bytes of its members), not its zip timestamps."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as wheel:
        for info in sorted(wheel.infolist(), key=lambda i: i.filename):
            digest.update(info.filename.encode() + b"\0")
            digest.update(hashlib.sha256(wheel.read(info)).digest())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """Content and the executable bit: what COPY puts into a layer (mtimes do not matter)."""
    content = wheel_digest(path) if path.suffix == ".whl" else sha256_of(path)
    executable = "x" if os.access(path, os.X_OK) else "-"
    return f"{executable}{content}"


def context_digests(context: Path, inputs: Iterable[str]) -> dict[str, str]:
    """Relative path -> file_digest for every file an input names (directories expanded)."""
    found: dict[str, str] = {}
    for relative in inputs:
        path = context / relative
        if not path.exists():
            raise ConfigError(
                f"build input {path} is missing", "build it with: invoke images.build"
            )
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            found[file.relative_to(context).as_posix()] = file_digest(file)
    return found


def inputs_digest(
    *,
    dockerfile: str,
    dockerignore: str,
    args: Mapping[str, str],
    base_ids: Mapping[str, str],
    files: Mapping[str, str],
) -> str:
    """The digest of everything a build depends on; stored in the image as INPUTS_LABEL."""
    manifest = {
        "format": BUILD_FORMAT,
        "dockerfile": hashlib.sha256(dockerfile.encode()).hexdigest(),
        "dockerignore": hashlib.sha256(dockerignore.encode()).hexdigest(),
        "args": dict(args),
        "base_ids": dict(base_ids),
        "files": dict(files),
    }
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


# --- host-side inputs (only remade when their sources changed) -------------------------------

SKIPPED_SOURCE_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "build"}


def source_digest(directory: Path, extra: Iterable[str] = ()) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        skipped = any(
            part in SKIPPED_SOURCE_DIRS or part.endswith(".egg-info") for part in relative.parts
        )
        if path.is_file() and not skipped:
            digest.update(f"{relative.as_posix()}\0{sha256_of(path)}\0".encode())
    for item in extra:
        digest.update(f"{item}\0".encode())
    return digest.hexdigest()


def _stamp_path(release: Release, name: str) -> Path:
    return paths.cache_dir() / "images" / "inputs" / f"{release.version_text}-{name}.json"


def prepare_inputs(release: Release, items: Iterable[Component]) -> None:
    """Make the backend binary / the wheelhouse, unless their sources are unchanged since the
    last time and the output is still the one made then."""
    for item in items:
        if item.name == "backend":
            go_version = cmd.output_of(["go", "env", "GOVERSION"], step="backend")
            extra = [services.backend_ldflags(release), go_version]
            source = source_digest(services.backend_dir(), extra)
        else:
            extra = [services.python_version(release), sys.version]
            source = source_digest(services.orchestrator_dir(), extra)
        stamp = _stamp_path(release, item.name)
        try:
            recorded = json.loads(stamp.read_text())
            current = context_digests(release.dist_dir, item.inputs)
            if recorded == {"source": source, "output": current}:
                say(f"{item.name}: inputs up to date (sources unchanged)")
                continue
        except (FileNotFoundError, ValueError, ConfigError):
            pass
        if item.name == "backend":
            services.build_backend(release)
        else:
            services.build_orchestrator_wheelhouse(release)
        output = context_digests(release.dist_dir, item.inputs)
        atomic.write_text(stamp, json.dumps({"source": source, "output": output}) + "\n")


# --- building -----------------------------------------------------------------------------


def buildx_available() -> bool:
    try:
        docker.buildx.version()
    except DockerException:
        return False
    return True


def select_builder(preference: str) -> str:
    if preference not in BUILDERS:
        raise ConfigError(f"unknown builder {preference!r}", f"choose from: {', '.join(BUILDERS)}")
    if preference == "classic":
        return "classic"
    if buildx_available():
        return "buildx"
    if preference == "buildx":
        raise ToolMissing(
            "docker buildx is not installed",
            "install the buildx plugin (https://docs.docker.com/go/buildx/), "
            "or use --builder classic",
        )
    return "classic"


class _LinePrefixer(io.TextIOBase):
    """A stdout stand-in that prints whole lines with a step prefix and keeps the last ones."""

    def __init__(self, prefix: str, target) -> None:
        self.prefix, self.target, self.pending = prefix, target, ""
        self.tail: collections.deque[str] = collections.deque(maxlen=30)
        self.last_container: str | None = None

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.tail.append(line)
            running = re.search(r"---> Running in ([0-9a-f]{12,64})$", line)
            if running:
                self.last_container = running.group(1)
            self.target.write(f"[{self.prefix}] {line}\n")
        self.target.flush()
        return len(text)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def docker_build(
    *,
    context: Path,
    dockerfile: Path,
    tags: Iterable[str],
    args: Mapping[str, str],
    labels: Mapping[str, str],
    builder: str,
    step: str,
) -> str:
    """One `docker build` with the network disabled for every RUN step; returns the image id.

    The output is streamed with a [step] prefix; a failure raises CommandFailed with its tail.
    """
    tags = list(tags)
    shown = " ".join(f"--tag {t}" for t in tags)
    say(f"+ docker build ({builder} builder) --network none --file {dockerfile} {shown} {context}")
    prefixer = _LinePrefixer(step, sys.stdout)
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(prefixer):
            if builder == "buildx":
                image = docker.buildx.build(
                    context,
                    file=dockerfile,
                    tags=tags,
                    build_args=dict(args),
                    labels=dict(labels),
                    network="none",
                    load=True,
                    progress="plain",
                )
            else:
                # The classic builder: the client would otherwise insist on BuildKit when
                # DOCKER_BUILDKIT=1 is set in the environment.
                with _environment(DOCKER_BUILDKIT="0"):
                    image = docker.legacy_build(
                        context,
                        file=dockerfile,
                        tags=tags,
                        build_args=dict(args),
                        labels=dict(labels),
                        network="none",
                        pull=False,
                        quiet=False,
                    )
    except DockerException as exc:
        if prefixer.last_container:
            # The classic builder keeps the container of a failed RUN step (no --force-rm).
            with contextlib.suppress(DockerException):
                docker.container.remove(prefixer.last_container, force=True)
        tail = list(prefixer.tail) or (exc.stderr or "").splitlines()
        raise CommandFailed(
            step,
            exc.docker_command,
            exc.return_code,
            tail,
            "see the output above; build steps run with --network none and may use only "
            "the build context and the base images",
        ) from exc
    say(f"✓ {step} {format_seconds(time.monotonic() - started)}")
    assert isinstance(image, Image)
    return image.id


def _inspect(reference: str) -> Image | None:
    with docker_errors("images"):
        return docker.image.inspect(reference) if docker.image.exists(reference) else None


def resolve_bases(release: Release, items: Iterable[Component], settings: Settings) -> dict:
    """kind -> image reference for every base the items need; local ones are made if missing."""
    kinds = {"build"} | {item.runtime_base for item in items}
    chosen = {kind: settings.bases[kind] for kind in kinds if settings.bases.get(kind)}
    local = sorted(kinds - set(chosen))
    if local:
        chosen |= base_images.ensure_bases(release.image_prefix, local, mirror=settings.mirror)
    return chosen


def _base_ids(bases: Mapping[str, str]) -> dict[str, str]:
    """Image ids of the bases present here (a rebuilt base changes them); else the name."""
    ids = {}
    for kind, reference in bases.items():
        image = _inspect(reference)
        ids[kind] = image.id if image else reference
    return ids


def write_dockerignore(context: Path) -> None:
    wanted = dockerignore_path().read_text()
    target = context / ".dockerignore"
    if not target.exists() or target.read_text() != wanted:
        atomic.write_text(target, wanted)


def smoke_version(release: Release, item: Component, image_id: str) -> str:
    """Run `--version` locked down and offline: the binary / interpreter really works there."""
    with docker_errors(f"image {item.name}"):
        output = docker.run(
            image_id,
            ["--version"],
            remove=True,
            networks=["none"],
            read_only=True,
            cap_drop=["ALL"],
            security_options=["no-new-privileges"],
        )
    expected = release.version_text if item.name == "backend" else services.python_version(release)
    if expected not in str(output):
        raise VerificationFailed(
            f"{item.name} image prints {str(output).strip()!r} for --version, not {expected}",
            "see the build output above",
        )
    return str(output).strip()


def build_one(
    release: Release,
    item: Component,
    bases: Mapping[str, str],
    settings: Settings,
    builder: str,
) -> BuiltImage:
    started = time.monotonic()
    tags = image_tags(release, item.name)
    args = build_args(release, item, bases, settings.source_url or release.homepage)
    digest = inputs_digest(
        dockerfile=item.dockerfile.read_text(),
        dockerignore=dockerignore_path().read_text(),
        args=args,
        base_ids=_base_ids(bases),
        files=context_digests(release.dist_dir, item.inputs),
    )
    existing = _inspect(tags[0])
    if (
        existing
        and (existing.config.labels or {}).get(INPUTS_LABEL) == digest
        and not settings.force
    ):
        with docker_errors("images"):
            for tag in tags[1:]:
                if tag not in existing.repo_tags:
                    docker.image.tag(existing.id, tag)
        say(f"{item.name}: up to date ({tags[0]}, inputs {digest[:12]}): no docker build")
        return BuiltImage(item.name, tags, existing.id, existing.size, digest, False, builder, 0.0)
    image_id = docker_build(
        context=release.dist_dir,
        dockerfile=item.dockerfile,
        tags=tags,
        args=args,
        labels={INPUTS_LABEL: digest},
        builder=builder,
        step=f"image {item.name}",
    )
    printed = smoke_version(release, item, image_id)
    say(f"{item.name}: --version in the image (read-only, no network, no caps): {printed}")
    image = _inspect(image_id)
    assert image is not None
    return BuiltImage(
        item.name, tags, image.id, image.size, digest, True, builder, time.monotonic() - started
    )


def verify(release: Release, result: BuiltImage, settings: Settings, bases: Mapping) -> list:
    """What is wrong with a built image: user, entrypoint, labels, size (empty when fine)."""
    item = component(result.component)
    image = _inspect(result.image_id)
    if image is None:
        return [f"{result.reference} vanished"]
    problems = []
    if not is_numeric_non_root(image.config.user or ""):
        problems.append(f"{result.reference} runs as {image.config.user!r}, not a numeric uid")
    if not image.config.entrypoint:
        problems.append(f"{result.reference} has no ENTRYPOINT")
    args = build_args(release, item, bases, settings.source_url or release.homepage)
    labels = image.config.labels or {}
    for key, value in expected_labels(item, args).items():
        if labels.get(key) != value:
            problems.append(f"{result.reference} label {key} is {labels.get(key)!r}, not {value!r}")
    if result.size > settings.budget(item) * MB:
        problems.append(
            f"{result.reference} is {result.size / MB:.1f} MB, over its "
            f"{settings.budget(item):g} MB budget"
        )
    return problems


def sizes_table(results: Iterable[BuiltImage], settings: Settings) -> str:
    rows = [("image", "size", "budget", "user", "build")]
    for result in results:
        item = component(result.component)
        image = _inspect(result.image_id)
        user = (image.config.user if image else "") or "root"
        how = f"{result.builder} {format_seconds(result.seconds)}" if result.built else "skipped"
        rows.append(
            (
                result.reference,
                f"{result.size / MB:.1f} MB",
                f"≤ {settings.budget(item):g} MB",
                user,
                how,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )


def prune_build_stages() -> None:
    """Remove the untagged images the classic builder keeps of build stages (about 150 MB each)
    and images whose tags moved to a rebuild: only those made from the local bases."""
    with docker_errors("images"):
        output = docker.image.prune(filters=[("label", base_images.RECIPE_LABEL)])
    reclaimed = [line for line in output.splitlines() if line.startswith("Total reclaimed")]
    if reclaimed:
        say(f"pruned untagged build-stage images: {reclaimed[0]}")


def build_images(
    release: Release, names: Iterable[str], settings: Settings, *, prepare: bool = True
) -> list[BuiltImage]:
    """Build (or find up to date) the images of the named components; check and measure them.

    prepare makes the host-side inputs first (the release graph has made them already).
    """
    items = [component(name) for name in names]
    docker_engine.ensure_running()
    with docker_errors("images"):
        builder = select_builder(settings.builder)
    classic = " (docker build without BuildKit; buildx is not installed)"
    say(f"builder: {builder}{classic if builder == 'classic' else ''}")
    bases = resolve_bases(release, items, settings)
    if prepare:
        prepare_inputs(release, items)
    write_dockerignore(release.dist_dir)
    results = [build_one(release, item, bases, settings, builder) for item in items]
    if any(result.built for result in results):
        prune_build_stages()
    say("")
    say(sizes_table(results, settings))
    problems = [p for result in results for p in verify(release, result, settings, bases)]
    if problems:
        more = f" (and {len(problems) - 1} more problem(s) above)" if len(problems) > 1 else ""
        for problem in problems:
            say(f"✗ {problem}")
        raise VerificationFailed(
            problems[0] + more, "make the image smaller or fix docker/*.Dockerfile"
        )
    return results


# --- transfer: save for air-gapped sites, push to a registry ---------------------------------


def images_dir(release: Release) -> Path:
    return release.dist_dir / "images"


def archive_path(release: Release, name: str) -> Path:
    return images_dir(release) / f"{name}.tar"


def saved_image_ids(archive: Path) -> set[str]:
    """The image ids (config digests) inside a `docker save` archive."""
    try:
        with tarfile.open(archive) as saved:
            handle = saved.extractfile("manifest.json")
            manifest = json.loads(handle.read()) if handle else []
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return set()
    ids = set()
    for entry in manifest:
        config = entry.get("Config", "")
        ids.add("sha256:" + Path(config).name.removesuffix(".json"))
    return ids


def _existing(release: Release, name: str) -> tuple[tuple[str, ...], Image]:
    tags = image_tags(release, name)
    image = _inspect(tags[0])
    if image is None:
        raise ConfigError(f"there is no image {tags[0]}", "build it first: invoke images.build")
    return tags, image


def save_images(release: Release, names: Iterable[str]) -> list[Path]:
    """dist/<version>/images/<component>.tar with both tags, for `docker load` elsewhere."""
    docker_engine.ensure_running()
    written = []
    for name in names:
        component(name)
        tags, image = _existing(release, name)
        archive = archive_path(release, name)
        if archive.exists() and saved_image_ids(archive) == {image.id}:
            say(f"{name}: {archive} already holds {image.id[:19]}")
        else:
            say(f"+ docker save --output {archive} {' '.join(tags)}")
            with atomic.atomic_path(archive) as tmp, docker_errors(f"save {name}"):
                docker.image.save(list(tags), output=tmp)
        written.append(archive)
    return written


def parse_registry(text: str | None) -> str:
    """HOST[:PORT] of a registry (no scheme, no path)."""
    value = (text or "").strip().rstrip("/")
    if not value:
        raise ConfigError("no registry given", "pass one: invoke images.push --registry HOST:PORT")
    if "://" in value or "/" in value or not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", value):
        raise ConfigError(
            f"invalid registry {text!r}", "give HOST:PORT without a scheme, e.g. 127.0.0.1:5000"
        )
    return value


@dataclass(frozen=True)
class Pushed:
    component: str
    references: tuple[str, ...]
    digest: str


def push_images(release: Release, names: Iterable[str], registry: str) -> list[Pushed]:
    """Push both tags of each image to registry; return the manifest digest it stored."""
    registry = parse_registry(registry)
    docker_engine.ensure_running()
    pushed = []
    for name in names:
        component(name)
        tags, _ = _existing(release, name)
        remote = tuple(f"{registry}/{tag}" for tag in tags)
        hint = f"is a registry answering at {registry}? (a local one: invoke images.registry)"
        with docker_errors(f"push {name}", hint):
            for local, target in zip(tags, remote, strict=True):
                docker.image.tag(local, target)
            try:
                for target in remote:
                    say(f"+ docker push {target}")
                    docker.image.push(target, quiet=True)
                repository = remote[0].rsplit(":", 1)[0]
                digests = [
                    d.split("@", 1)[1]
                    for d in docker.image.inspect(remote[0]).repo_digests
                    if d.startswith(repository + "@")
                ]
            finally:
                # The registry copy is what counts; the local registry-named tags are clutter.
                with contextlib.suppress(DockerException):
                    docker.image.remove(list(remote))
        if not digests:
            raise VerificationFailed(f"{registry} returned no digest for {remote[0]}")
        say(f"{name}: pushed {', '.join(remote)} as {digests[0]}")
        pushed.append(Pushed(name, remote, digests[0]))
    return pushed
