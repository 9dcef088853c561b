"""Write outputs so that a failure never leaves a half-written artifact in place.

Everything is produced under a temporary name in the destination's own directory (so the
final rename stays on one file system) and only renamed into place when it is complete. The
file is fsynced before the rename and its directory after it, so a power cut or a kill never
leaves a renamed-but-empty artifact. Temporary names start with a dot: the release engine
removes dot files left in dist/ by a killed run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(destination: Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `destination`; on success rename it into place.

    On an exception the temporary file is removed and `destination` keeps its old content.
    The temporary file starts with mode 0600 (secrets are never readable by others); `mode`
    sets the final one, else an untouched 0600 becomes 0644.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise FileNotFoundError(f"{tmp} was not written")
        if mode is not None:
            os.chmod(tmp, mode)
        elif tmp.stat().st_mode & 0o777 == 0o600:  # mkstemp's mode: nobody rewrote the file
            os.chmod(tmp, 0o644)
        fsync_file(tmp)
        os.replace(tmp, destination)
        fsync_directory(destination.parent)
    finally:
        tmp.unlink(missing_ok=True)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file below root and every directory (a staged folder about to be renamed)."""
    for directory, _, files in os.walk(root):
        for name in files:
            fsync_file(Path(directory) / name)
        fsync_directory(Path(directory))


def remove(path: Path) -> None:
    """Unlink a file if it exists, durably."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_directory(path.parent)


def write_text(destination: Path, text: str) -> Path:
    with atomic_path(destination) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return destination


def write_bytes(destination: Path, data: bytes, mode: int | None = None) -> Path:
    with atomic_path(destination, mode) as tmp:
        tmp.write_bytes(data)
    return destination


def install_file(source: Path, destination: Path) -> Path:
    """Copy `source` to `destination` atomically (keeps the mode bits)."""
    with atomic_path(destination) as tmp:
        shutil.copy2(source, tmp)
    return destination
