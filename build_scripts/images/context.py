"""The build context: a scratch folder holding only what the Dockerfiles COPY.

The images' inputs live in dist/<version>/ beside the other release artifacts. Building with
that folder as the context meant writing a .dockerignore into it, which then sat in the
release folder as if it were an artifact. The context is now a copy (hard links where the file
system allows) of just the inputs, with the same relative paths, outside dist/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release
from build_scripts.images.specs import Component, dockerignore_path


def _link_or_copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


@contextlib.contextmanager
def staged_context(release: Release, items: Iterable[Component]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="traderadmin-context-") as scratch:
        context = Path(scratch)
        for item in items:
            for relative in item.inputs:
                source = release.dist_dir / relative
                if not source.exists():
                    raise ConfigError(
                        f"build input {source} is missing", "build it with: invoke images.build"
                    )
                files = [source]
                if source.is_dir():
                    files = [p for p in source.rglob("*") if p.is_file()]
                for file in files:
                    _link_or_copy(file, context / file.relative_to(release.dist_dir))
        shutil.copyfile(dockerignore_path(), context / ".dockerignore")
        yield context
