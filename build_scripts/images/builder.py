"""Running `docker build`: classic or buildx, network disabled, output prefixed per image."""

from __future__ import annotations

import collections
import contextlib
import io
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from build_scripts.core import on_first_use
from build_scripts.core.errors import CommandFailed, ConfigError, ToolMissing
from build_scripts.core.progress import format_seconds, say
from build_scripts.images.specs import BUILDERS

whales = on_first_use.module("python_on_whales")


def buildx_available() -> bool:
    try:
        whales.docker.buildx.version()
    except whales.DockerException:
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
    # Both builders: the same inputs, and no network (the build must not fetch anything).
    common = {
        "file": dockerfile,
        "tags": tags,
        "build_args": dict(args),
        "labels": dict(labels),
        "network": "none",
    }
    try:
        with contextlib.redirect_stdout(prefixer):
            if builder == "buildx":
                image = whales.docker.buildx.build(context, load=True, progress="plain", **common)
            else:
                # The classic builder: the client would otherwise insist on BuildKit when
                # DOCKER_BUILDKIT=1 is set in the environment.
                with _environment(DOCKER_BUILDKIT="0"):
                    image = whales.docker.legacy_build(context, pull=False, quiet=False, **common)
    except whales.DockerException as exc:
        if prefixer.last_container:
            # The classic builder keeps the container of a failed RUN step (no --force-rm).
            with contextlib.suppress(whales.DockerException):
                whales.docker.container.remove(prefixer.last_container, force=True)
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
    assert isinstance(image, whales.Image)
    return image.id
