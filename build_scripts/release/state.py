"""What the release engine remembers about a release folder, kept outside it.

dist/<version>/ holds release artifacts only. Each step's record (the digests of its inputs, its
outputs with their digests, notes and facts) lives under
~/.cache/traderadmin/release-state/<hash of the folder's path>/, beside a digest cache and the
lock that keeps two releases of one folder from running at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from build_scripts.core import atomic, jsonfile, locks, paths

# Bump when the record format or the meaning of a fingerprint changes: every step reruns.
# 2: records list the step's typed artifacts (kind, what of), which later steps select from.
FORMAT = 2


def state_dir(dist_dir: Path) -> Path:
    return paths.release_state_dir(dist_dir)


@dataclass
class StepRecord:
    """A step that completed: what it read, what it wrote, what it found out."""

    step: str
    inputs: dict[str, str]
    # Path relative to the release folder -> sha256.
    outputs: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    seconds: float = 0.0
    format: int = FORMAT
    # What the step returned: path (as in outputs), note, kind and what of (core/artifacts.py).
    artifacts: list[dict] = field(default_factory=list)


def record_path(dist_dir: Path, step: str) -> Path:
    return state_dir(dist_dir) / "steps" / f"{step}.json"


def load_record(dist_dir: Path, step: str) -> StepRecord | None:
    try:
        record = StepRecord(**jsonfile.read_object(record_path(dist_dir, step)))
    except TypeError:  # missing, broken, or of another shape
        return None
    return record if record.format == FORMAT else None


def save_record(dist_dir: Path, record: StepRecord) -> None:
    atomic.write_text(record_path(dist_dir, record.step), json.dumps(asdict(record), indent=1))


@dataclass
class RunRecord:
    """The last run of `invoke release` on a folder, for its report: when, how long, and each
    step's outcome and times (seconds after the run began; scheduler.StepTiming)."""

    version: str
    commit: str
    # Wall-clock start, seconds since the epoch.
    started: float
    seconds: float
    jobs: int
    complete: bool
    # name, description, status, reason, why, ready, start, end; in plan order, checksums last.
    steps: list[dict] = field(default_factory=list)
    format: int = FORMAT


def run_path(dist_dir: Path) -> Path:
    return state_dir(dist_dir) / "last-run.json"


def save_run(dist_dir: Path, run: RunRecord) -> None:
    atomic.write_text(run_path(dist_dir), json.dumps(asdict(run), indent=1) + "\n")


def load_run(dist_dir: Path) -> RunRecord | None:
    try:
        run = RunRecord(**jsonfile.read_object(run_path(dist_dir)))
    except TypeError:  # missing, broken, or of another shape
        return None
    return run if run.format == FORMAT else None


def durations_path() -> Path:
    return paths.cache_dir() / "release-state" / "durations.json"


def typical_seconds() -> dict[str, float]:
    """How long each step took when it last ran for any release folder of this machine."""
    return {k: float(v) for k, v in jsonfile.read_object(durations_path()).items()}


def remember_seconds(step: str, seconds: float) -> None:
    """Keep a step's duration for the first run of a new folder (a new version has no
    records, and the scheduler starts the longest chain of work first)."""
    known = typical_seconds()
    known[step] = round(seconds, 1)
    atomic.write_text(durations_path(), json.dumps(dict(sorted(known.items())), indent=1) + "\n")


def discard_all(dist_root: Path) -> None:
    """Drop the records of every release folder under dist_root (a scratch clone going away)."""
    if dist_root.is_dir():
        for folder in dist_root.iterdir():
            shutil.rmtree(state_dir(folder), ignore_errors=True)


@contextlib.contextmanager
def folder_lock(dist_dir: Path) -> Iterator[int]:
    """Hold the folder's lock; yields its file descriptor (children inherit it to keep it held
    while they run, so a release killed with its steps still running blocks the next one
    until they have stopped)."""
    with locks.waiting_lock(
        state_dir(dist_dir) / "lock", f"another release of {dist_dir} to finish"
    ) as fd:
        yield fd


def remove_leftovers(dist_dir: Path) -> list[Path]:
    """Remove what an interrupted run can leave in the release folder: temporary files and
    folders of atomic writes (their names start with a dot), the previous wheelhouse kept
    during a swap, and any other dot file (none is a release artifact). Call under the lock."""
    if not dist_dir.is_dir():
        return []
    removed = []
    for directory, dirnames, filenames in os.walk(dist_dir, topdown=True):
        base = Path(directory)
        for name in list(dirnames):
            if name.startswith(".") or name.endswith(".old"):
                shutil.rmtree(base / name, ignore_errors=True)
                dirnames.remove(name)
                removed.append(base / name)
        for name in filenames:
            if name.startswith("."):
                (base / name).unlink(missing_ok=True)
                removed.append(base / name)
        if removed:
            atomic.fsync_directory(base)
    return removed
