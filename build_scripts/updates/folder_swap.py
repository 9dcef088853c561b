"""Change a published feed folder all at once: copy it beside itself, change the copy, check
it, then swap the two folders in one step, so a web server serving the folder shows the old
feed or the new one, never a mix (a channel manifest from one and its signature from the other).

The swap is Linux's renameat2(RENAME_EXCHANGE), through libc: both names exist at every
instant. Where it is missing (not Linux, or a file system without it) the old folder is renamed
aside and the new one renamed in, which leaves a moment without the folder but never a mix.
A failure before the swap removes the copy and leaves the feed as it was.

The copy hard-links the version folders' files (published once, never rewritten) and copies
the top-level files (channel manifests that operations rewrite), so a change to the copy can
never reach the live feed through a shared inode.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from build_scripts.core import atomic, locks

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def _copy_for_change(source: Path, destination: Path) -> None:
    for entry in sorted(source.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, destination / entry.name, copy_function=_link_or_copy)
        else:
            shutil.copy2(entry, destination / entry.name)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system, or links not allowed: a copy is as good
        shutil.copy2(source, destination)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False where the system cannot."""
    renameat2 = getattr(
        ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True), "renameat2", None
    )
    if renameat2 is None:
        return False
    done = renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


@contextlib.contextmanager
def changing(feed_root: Path) -> Iterator[Path]:
    """Yield a copy of feed_root to change; on success it becomes feed_root (the old copy is
    removed), on an exception it is removed and feed_root is untouched. One change at a time
    per folder (a lock file beside it)."""
    feed_root = feed_root.absolute()
    parent = feed_root.parent
    parent.mkdir(parents=True, exist_ok=True)
    lock = parent / f".{feed_root.name}.lock"
    with locks.waiting_lock(lock, f"another change of the feed {feed_root}"):
        stage = Path(tempfile.mkdtemp(prefix=f".{feed_root.name}.new-", dir=parent))
        try:
            if feed_root.exists():
                _copy_for_change(feed_root, stage)
            yield stage
            os.chmod(stage, 0o755)  # mkdtemp's 0700 would hide the feed from a web server
            atomic.fsync_tree(stage)
            if not feed_root.exists():
                stage.rename(feed_root)
            elif not _exchange(stage, feed_root):
                aside = Path(tempfile.mkdtemp(prefix=f".{feed_root.name}.old-", dir=parent))
                feed_root.rename(aside / "feed")
                stage.rename(feed_root)
                shutil.rmtree(aside, ignore_errors=True)
            atomic.fsync_directory(parent)
        finally:
            # After the exchange the stage name holds the old feed; before it, the new one.
            shutil.rmtree(stage, ignore_errors=True)
