"""What is built: the components' image specifications, user settings, and a built image."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from build_scripts.core import paths
from build_scripts.core.components import image_name
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release

BUILDERS = ("auto", "classic", "buildx")


def docker_dir() -> Path:
    return paths.repo_root() / "docker"


# What the release reads here (release/code_inputs.py); each image step adds its Dockerfile.
RELEASE_READS = ("docker/context.dockerignore",)


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


# The image of each deployable component (core/components.py names them; a test holds the
# two together).
IMAGES: dict[str, Component] = {
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
        return IMAGES[name]
    except KeyError:
        raise ConfigError(f"unknown image {name!r}", f"choose from: {', '.join(IMAGES)}") from None


@dataclass(frozen=True)
class Settings:
    """What a user can configure (invoke config `images.*`); the defaults need no registry."""

    builder: str = "auto"
    # Base image kind -> reference; a kind not named here is built locally (base_images.py).
    bases: Mapping[str, str] = field(default_factory=dict)
    budgets_mb: Mapping[str, float] = field(default_factory=dict)
    mirror: str | None = None
    source_url: str | None = None

    def budget(self, item: Component) -> float:
        return float(self.budgets_mb.get(item.name, item.budget_mb))


@dataclass(frozen=True)
class BuiltImage:
    component: str
    tags: tuple[str, ...]
    image_id: str
    size: int
    builder: str
    seconds: float

    @property
    def reference(self) -> str:
        return self.tags[0]


def image_tags(release: Release, name: str) -> tuple[str, ...]:
    """traderadmin/<component>:<version>, and :<git commit> when the commit is known."""
    base = image_name(release, name)
    tags = [f"{base}:{release.image_tag}"]
    if re.fullmatch(r"[0-9a-f]{40}", release.commit):
        tags.append(f"{base}:{release.commit}")
    return tuple(tags)
