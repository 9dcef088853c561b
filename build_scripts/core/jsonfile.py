"""The JSON records the engine keeps for itself (caches, step records, digests): a missing or
broken one counts as empty, decided here once.

A record is rewritten whole (core/atomic.py), so a broken one means a crash of an older
version or a hand edit: the work it remembered is simply done again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def read(path: Path, *, broken: Callable[[Exception], None] | None = None) -> object | None:
    """The file's JSON value, or None when it is missing or does not parse (`broken` is told
    the latter, e.g. to warn)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        if broken is not None:
            broken(error)
        return None


def read_object(path: Path, *, broken: Callable[[Exception], None] | None = None) -> dict:
    """The file's JSON object; {} when it is missing, broken or not an object."""
    found = read(path, broken=broken)
    return found if isinstance(found, dict) else {}
