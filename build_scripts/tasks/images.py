"""images.*: the backend and orchestrator container images: bases, build, save, push."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from build_scripts.core import docker_engine, metadata, paths
from build_scripts.core.artifacts import human_size
from build_scripts.core.progress import say, step
from build_scripts.images import bases as base_images
from build_scripts.images import build as images
from build_scripts.images import registry, specs, transfer
from build_scripts.kube import deploy_records
from build_scripts.release import on_request
from build_scripts.release.step_inputs import image_settings
from build_scripts.tasks._base import release_task
from build_scripts.tasks._options import build_options

COMPONENT_HELP = "only this image: backend or orchestrator (repeatable; default: both)"
VERSION_HELP = "the release version whose images to use (default: this checkout's)"


def _jobs(c) -> int:
    return int(c.config.release.jobs)


def _release(c, version):
    return metadata.current_release(version or c.config.release.version)


def _components(c, component):
    """The images asked for; an unknown one is refused before anything runs."""
    names = list(component or c.config.images.components)
    for name in names:
        specs.component(name)
    return names


@release_task(
    help={
        "refresh": "debootstrap again (new Debian updates) and replace the base images",
        "mirror": "Debian mirror for debootstrap (default: the one in the host's apt sources)",
    }
)
def bases(c, refresh=False, mirror=None):
    """Make the offline base images (debootstrap, cached; no registry needed) if missing."""
    release = _release(c, None)
    with step("images: base images"):
        docker_engine.ensure_running()
        base_images.ensure_bases(
            release.image_prefix, refresh=refresh, mirror=mirror or c.config.images.mirror
        )


@release_task(
    help={
        "component": COMPONENT_HELP,
        "version": VERSION_HELP,
        "force": "build even when the image's inputs are unchanged",
        "builder": "auto (buildx if installed), classic or buildx",
    },
    iterable=["component"],
)
def build(c, component=None, version=None, force=False, builder=None):
    """Build the images hermetically (offline bases, no network); unchanged ones are skipped."""
    release = _release(c, version)
    options = build_options(c, image_builder=builder)
    names = [f"image-{name}" for name in _components(c, component)]
    with step(f"images: build {release.version_text}"):
        # The release graph's image steps (and the backend/orchestrator steps they need): an
        # image is up to date when its step is; --force reruns the image steps only.
        on_request.build_steps(
            release, names, options, forced=names if force else (), jobs=_jobs(c)
        )
    say("")
    say(images.sizes_in_docker(release, _components(c, component), image_settings(options)))


@release_task(
    help={"component": COMPONENT_HELP, "version": VERSION_HELP},
    iterable=["component"],
)
def save(c, component=None, version=None):
    """Write dist/<version>/images/<component>.tar for air-gapped transfer (docker load -i)."""
    release = _release(c, version)
    names = [f"image-{name}" for name in _components(c, component)]
    with step(f"images: save {release.version_text}"):
        # The archive is the image step's output: the step builds and saves in one.
        entries = on_request.build_steps(release, names, build_options(c), jobs=_jobs(c))
    for entry in entries:
        say(f"{entry.path}  {human_size(entry.size)}  sha256 {entry.sha256}")


@release_task(
    help={
        "registry": "HOST:PORT of the registry (default: images.registry in config)",
        "component": COMPONENT_HELP,
        "version": VERSION_HELP,
    },
    iterable=["component"],
)
def push(c, registry=None, component=None, version=None):
    """Push both tags of each image to a registry; print the digests it stored."""
    release = _release(c, version)
    target = transfer.parse_registry(registry or c.config.images.registry)
    with step(f"images: push to {target}"):
        pushed = transfer.push_images(release, _components(c, component), target)
    # `invoke deploy` of an environment with this image_registry pins these digests.
    digests = {p.component: p.digest for p in pushed}
    say(f"digests recorded in {deploy_records.record_image_digests(release, target, digests)}")


@release_task(
    name="registry",
    help={
        "address": "host:port to listen on",
        "storage": "where the registry keeps blobs (default: the state dir)",
    },
)
def run_registry(c, address="127.0.0.1:5000", storage=None):
    """Run a local image registry (CNCF distribution) in the foreground, for push tests."""
    directory = Path(storage) if storage else paths.state_dir() / "registry" / "storage"
    registry.serve(address, directory)


ns = Collection(bases, build, save, push, run_registry)
ns.configure(
    {
        "images": {
            "components": list(specs.IMAGES),
            # auto: buildx when installed, else the classic builder.
            "builder": "auto",
            # A registry for `images.push` (HOST:PORT).
            "registry": None,
            # Debian mirror for debootstrap; None: the one the host's apt sources use.
            "mirror": None,
            # org.opencontainers.image.source; None: the homepage in release.toml.
            "source_url": None,
            # Official bases instead of the local ones, e.g. build: python:3.11-slim-bookworm,
            # static: gcr.io/distroless/static-debian12:nonroot,
            # python: gcr.io/distroless/python3-debian12:nonroot. None: built offline here.
            "base": {"build": None, "static": None, "python": None},
            "budgets_mb": {name: item.budget_mb for name, item in specs.IMAGES.items()},
        }
    }
)
