"""reports/history.jsonl: what each release and bench run of this machine measured.

One JSON object a line, oldest first, at most MAX_ENTRIES lines: appending a line trims the
oldest ones. Three kinds: `release` (a completed `invoke release`: its time, the steps that
ran, every artifact's size), `bench` (`invoke bench`: each figure with its target) and
`bench-release` (`invoke bench.release`: cold and no-op release times). The release report
draws its trends from it and compares a release's sizes with the previous release's.

A line that does not parse (a hand edit, an older engine's half-written line) is skipped with a
warning and dropped at the next append: the history never stops a release.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from pathlib import Path

from build_scripts.core import atomic, locks, paths
from build_scripts.core.progress import warn

FILE_NAME = "history.jsonl"
# About 1.5 kB a release line: the file stays well under a megabyte.
MAX_ENTRIES = 200
KINDS = ("release", "bench", "bench-release")


def history_path() -> Path:
    return paths.reports_dir() / FILE_NAME


def now_text(epoch: float | None = None) -> str:
    """UTC, to the second, RFC 3339: the `at` of an entry."""
    moment = datetime.datetime.fromtimestamp(
        epoch if epoch is not None else datetime.datetime.now(datetime.UTC).timestamp(),
        tz=datetime.UTC,
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(lines: Iterable[str], source: str = FILE_NAME) -> list[dict]:
    """The entries of the history's lines; a line that is not a JSON object with a known
    `kind` is skipped with a warning naming it."""
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
            shown = line.strip()
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            warn(f"{source} line {number} is not a history entry, skipped: {shown!r}")
            continue
        entries.append(entry)
    return entries


def read(path: Path | None = None) -> list[dict]:
    """Every entry that parses, oldest first; [] when there is no history yet."""
    path = path or history_path()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as error:
        warn(f"{path} cannot be read, the history is left out: {error.strerror or error}")
        return []
    return parse(text.splitlines(), path.name)


def trim(entries: list[dict], limit: int = MAX_ENTRIES) -> list[dict]:
    """The newest `limit` entries."""
    return entries[-limit:] if limit > 0 else []


def append(entry: dict, path: Path | None = None, limit: int = MAX_ENTRIES) -> Path:
    """Add an entry (with `at`, now, unless it has one) and keep the newest `limit`; the file
    is rewritten atomically, under a lock, so two runs appending at once both count."""
    path = path or history_path()
    entry = {"at": now_text(), **entry}
    if entry.get("kind") not in KINDS:
        raise ValueError(f"history entry of unknown kind {entry.get('kind')!r}")
    lock = paths.cache_dir() / "release-state" / "history.lock"
    with locks.waiting_lock(lock, f"another run writing {path}"):
        entries = trim([*read(path), entry], limit)
        text = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
        return atomic.write_text(path, text)


def release_entry(
    version: str,
    commit: str,
    seconds: float,
    *,
    jobs: int,
    steps: dict[str, str],
    sizes: dict[str, int],
    started: float | None = None,
) -> dict:
    """steps: name -> status of the run (ran / up to date); sizes: artifact path relative to the
    release folder -> bytes."""
    ran = [name for name, status in steps.items() if status == "ran"]
    return {
        "kind": "release",
        **({"at": now_text(started)} if started is not None else {}),
        "version": version,
        "commit": commit,
        "seconds": round(seconds, 1),
        "jobs": jobs,
        "steps": len(steps),
        "ran": ran,
        "sizes": dict(sorted(sizes.items())),
    }


def bench_entry(figures: Iterable[dict]) -> dict:
    """figures: name, value, unit, target (bench.Figure as a dict); unmeasured ones are left
    out."""
    return {
        "kind": "bench",
        "figures": {
            f["name"]: {"value": round(f["value"], 2), "unit": f["unit"], "target": f["target"]}
            for f in figures
            if f.get("value") is not None
        },
    }


def bench_release_entry(seconds: dict[str, float]) -> dict:
    """seconds: timing name (bench_graph's: cold, no-op, …) -> seconds."""
    return {"kind": "bench-release", "seconds": {k: round(v, 1) for k, v in seconds.items()}}


def releases(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e.get("kind") == "release"]


def previous_release(entries: list[dict], version: str, commit: str) -> dict | None:
    """The newest release entry of another release (version or commit) than this one: what
    its artifact sizes are compared with."""
    for entry in reversed(releases(entries)):
        if (entry.get("version"), entry.get("commit")) != (version, commit):
            return entry
    return None
