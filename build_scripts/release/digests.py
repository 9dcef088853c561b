"""SHA-256 of files, remembered by (size, mtime, inode) so an unchanged tree is not read again.

A no-op release checks every input and output of every step; reading the image archives and
desktop binaries each time would take seconds. A file whose size, mtime or inode changed is
read again, so the cache can only save work, never hide a change made through the file system.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from build_scripts.core import atomic, jsonfile
from build_scripts.core.artifacts import sha256_of


class DigestCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._changed = False
        self._entries: dict[str, list] = jsonfile.read_object(path)

    def sha256(self, file: Path) -> str:
        stat = file.stat()
        key = str(file.resolve())
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[:3] == signature:
            return entry[3]
        digest = sha256_of(file)
        with self._lock:
            self._entries[key] = [*signature, digest]
            self._changed = True
        return digest

    def remembered(self, key: str, signature: list, compute) -> str:
        """compute() once per signature (e.g. a tool's version per binary size and mtime)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[:-1] == signature:
            return entry[-1]
        value = compute()
        with self._lock:
            self._entries[key] = [*signature, value]
            self._changed = True
        return value

    def save(self) -> None:
        with self._lock:
            if not self._changed:
                return
            # Entries of files that are gone would only grow the cache.
            alive = {
                k: v for k, v in self._entries.items() if not k.startswith("/") or os.path.exists(k)
            }
            atomic.write_text(self.path, json.dumps(alive, sort_keys=True) + "\n")
            self._changed = False
