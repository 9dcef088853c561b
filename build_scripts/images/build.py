"""Container images of the backend and the orchestrator: hermetic builds, tags, budgets, transfer.

The inputs are made on the host first (services/: the static backend binary, the orchestrator
wheelhouse), so nothing inside `docker build` fetches anything, and every build runs with the
network disabled to prove it. The build context is a scratch copy of just those inputs
(images/context.py), never dist/<version>/ itself. Base images are build arguments: by default
the local ones from base_images.py (no registry needed), or any the user names in config.

Whether an image is up to date is the release graph's decision (release/graph.py: the image
step's inputs, its archive, and `changed_in_docker` for what Docker holds), for `invoke
images.build` as for `invoke release`: build_one always builds.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from build_scripts.core import docker_engine, locks, on_first_use, paths, progress
from build_scripts.core.artifacts import MB
from build_scripts.core.errors import VerificationFailed
from build_scripts.core.metadata import Release, python_version
from build_scripts.core.progress import format_seconds, say
from build_scripts.images import bases as base_images
from build_scripts.images.bases import docker_errors
from build_scripts.images.builder import docker_build, select_builder
from build_scripts.images.context import staged_context
from build_scripts.images.specs import (
    BuiltImage,
    Component,
    Settings,
    component,
    image_tags,
)

whales = on_first_use.module("python_on_whales")

# --- names and labels ---------------------------------------------------------------------


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


# --- building -----------------------------------------------------------------------------


def inspect_image(reference: str) -> whales.Image | None:
    with docker_errors("images"):
        return (
            whales.docker.image.inspect(reference)
            if whales.docker.image.exists(reference)
            else None
        )


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
        image = inspect_image(reference)
        ids[kind] = image.id if image else reference
    return ids


def smoke_version(release: Release, item: Component, image_id: str) -> str:
    """Run `--version` locked down and offline: the binary / interpreter really works there."""
    with docker_errors(f"image {item.name}"):
        output = whales.docker.run(
            image_id,
            ["--version"],
            remove=True,
            networks=["none"],
            read_only=True,
            cap_drop=["ALL"],
            security_options=["no-new-privileges"],
        )
    expected = release.version_text if item.name == "backend" else python_version(release)
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
    context: Path | None = None,
    *,
    smoke: bool = True,
) -> BuiltImage:
    started = time.monotonic()
    tags = image_tags(release, item.name)
    args = build_args(release, item, bases, settings.source_url or release.homepage)
    image_id = docker_build(
        context=context or release.dist_dir,
        dockerfile=item.dockerfile,
        tags=tags,
        args=args,
        labels={},
        builder=builder,
        step=f"image {item.name}",
    )
    if smoke:
        printed = smoke_version(release, item, image_id)
        say(f"{item.name}: --version in the image (read-only, no network, no caps): {printed}")
    image = inspect_image(image_id)
    assert image is not None
    return BuiltImage(item.name, tags, image.id, image.size, builder, time.monotonic() - started)


def base_image_ids(release: Release, name: str, settings: Settings) -> dict[str, str]:
    """Reference -> image id of the bases the component's image is built on (after a build:
    they exist), kept in the image step's record for changed_in_docker."""
    item = component(name)
    bases = resolve_bases(release, [item], settings)
    return {bases[kind]: _base_ids(bases)[kind] for kind in sorted({"build", item.runtime_base})}


def changed_in_docker(release: Release, name: str, image_id: str, bases: Mapping) -> str:
    """Why Docker no longer holds what the image step made ('' if it does): a tag that is
    gone or names another image, or a base rebuilt since (`images.bases --refresh`).

    '' as well when the engine does not answer (after a reboot, before the bootstrap): the
    archive in the folder is still what the step made, and the step starts the engine when it
    runs for another reason.
    """
    if not docker_engine.is_answering():
        return ""
    for tag in image_tags(release, name):
        found = inspect_image(tag)
        if found is None:
            return f"{tag} is not in Docker"
        if image_id and found.id != image_id:
            return f"{tag} is another image in Docker ({found.id[:19]})"
    for reference, recorded in bases.items():
        found = inspect_image(reference)
        if found is not None and found.id != recorded:
            return f"base {reference} changed since the image was built"
    return ""


def verify(release: Release, result: BuiltImage, settings: Settings, bases: Mapping) -> list:
    """What is wrong with a built image: user, entrypoint, labels, size (empty when fine)."""
    item = component(result.component)
    image = inspect_image(result.image_id)
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
        image = inspect_image(result.image_id)
        user = (image.config.user if image else "") or "root"
        how = f"{result.builder} {format_seconds(result.seconds)}"
        rows.append(
            (
                result.reference,
                f"{result.size / MB:.1f} MB",
                f"≤ {settings.budget(item):g} MB",
                user,
                how,
            )
        )
    return progress.table(rows)


def sizes_in_docker(release: Release, names: Iterable[str], settings: Settings) -> str:
    """The images Docker holds for the release, with their sizes and budgets (after
    `invoke images.build`, whether the step ran or was up to date)."""
    rows = [("image", "size", "budget", "user")]
    for name in names:
        item = component(name)
        reference = image_tags(release, name)[0]
        image = inspect_image(reference)
        size = f"{image.size / MB:.1f} MB" if image else "missing"
        user = (image.config.user if image else "") or "root"
        rows.append((reference, size, f"≤ {settings.budget(item):g} MB", user))
    return progress.table(rows)


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """One image build (with its prune and save) at a time on this machine: release steps of
    two images run side by side, and a prune of untagged images would take the intermediate
    images of a classic build still running."""
    with locks.waiting_lock(
        paths.cache_dir() / "images" / "build.lock", "another image build on this machine"
    ):
        yield


def prune_build_stages() -> None:
    """Remove the untagged images the classic builder keeps of build stages (about 150 MB each)
    and images whose tags moved to a rebuild: only those made from the local bases."""
    with docker_errors("images"):
        output = whales.docker.image.prune(filters=[("label", base_images.RECIPE_LABEL)])
    reclaimed = [line for line in output.splitlines() if line.startswith("Total reclaimed")]
    if reclaimed:
        say(f"pruned untagged build-stage images: {reclaimed[0]}")


def build_images(
    release: Release,
    names: Iterable[str],
    settings: Settings,
    *,
    smoke: bool = True,
) -> list[BuiltImage]:
    """Build the images of the named components; check and measure them.

    The host-side inputs come from the release graph's backend and orchestrator steps (the
    image steps need them). smoke=False leaves the `--version` run to the caller (the release
    runs it on the saved, normalized image instead).
    """
    items = [component(name) for name in names]
    docker_engine.ensure_running()
    with docker_errors("images"):
        builder = select_builder(settings.builder)
    classic = " (docker build without BuildKit; buildx is not installed)"
    say(f"builder: {builder}{classic if builder == 'classic' else ''}")
    bases = resolve_bases(release, items, settings)
    with staged_context(release, items) as context:
        results = [
            build_one(release, item, bases, settings, builder, context, smoke=smoke)
            for item in items
        ]
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
