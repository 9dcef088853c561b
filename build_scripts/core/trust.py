"""Whether root may run a file: nobody but root can change it or any folder above it.

`sudo -E invoke cluster.up` keeps the user's HOME, so root would run Kubernetes binaries from
the user's ~/.cache/traderadmin, a storage provisioner from the user's checkout, and a kubectl
link into that cache: whoever can write any of those becomes root. Before root runs a program,
every file it will run and every folder above each one must be owned by root and writable by
no one else. A world-writable folder with the sticky bit (/tmp) is accepted for what root owns
inside it: others cannot rename or replace root's entries there, which is the rule sudo's
secure_path check and the kernel's protected_regular follow too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from build_scripts.core.errors import ReleaseError


def _problem(path: Path, info: os.stat_result, as_folder: bool) -> str | None:
    if info.st_uid != 0:
        return f"{path} is owned by uid {info.st_uid}"
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable and not (as_folder and info.st_mode & stat.S_ISVTX):
        who = "everyone" if info.st_mode & stat.S_IWOTH else f"group {info.st_gid}"
        return f"{path} is writable by {who}"
    return None


def why_untrusted(path: Path) -> str | None:
    """Why root should not run `path` (a file, or a folder of code), or None."""
    path = Path(os.path.abspath(path))
    # The target of a symlink is what runs; the link's own folder matters too (it can be
    # repointed), so both chains are checked.
    chains = [path]
    if path.is_symlink():
        chains.append(path.resolve())
    for target in chains:
        try:
            info = os.stat(target)
        except FileNotFoundError:
            return f"{target} does not exist"
        problem = _problem(target, info, as_folder=stat.S_ISDIR(info.st_mode))
        if problem:
            return problem
        for folder in target.parents:
            problem = _problem(folder, os.stat(folder), as_folder=True)
            if problem:
                return problem
    return None


def tree_files(root: Path, suffix: str) -> list[Path]:
    """Every file with `suffix` below root, and every folder on the way (code root imports)."""
    found = [root]
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f != "__pycache__"]
        found += [Path(folder) / f for f in folders]
        found += [Path(folder) / f for f in files if f.endswith(suffix)]
    return found


def require_root_owned(paths: Iterable[Path], what: str) -> None:
    """As root: refuse with one line unless root alone can change every path (see above)."""
    if os.geteuid() != 0:
        return
    for path in paths:
        problem = why_untrusted(path)
        if problem:
            raise ReleaseError(
                f"root would run {what} from {path}, but {problem}: "
                "whoever can change it would run code as root",
                "run as root without -E (sudo invoke …, so HOME is root's), or set "
                "TRADERADMIN_CACHE to a folder only root can write, and keep the checkout "
                "root's",
            )
