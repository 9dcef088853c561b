"""Two releases of one commit from two fresh clones, compared byte for byte.

Each clone runs a whole `invoke release` of its own (its own dist/ and step records), so
nothing is shared but the toolchain caches (Go build cache, npm cache, base images). The
images are a special case: both clones tag the same names, so the first clone's tags are
removed (not its layers: `--no-prune`) before the second builds; the second `docker build`
then reads its own inputs, and Docker's layer cache serves a step only when that step's inputs
are byte-identical to the first build's. Either way the saved archive is the image's
reproducible form (images/normalize.py), so a rebuild at another time gives the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import paths, progress
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.release import state


def compared_artifacts(release: Release) -> dict[str, str]:
    """Label -> path (a glob for the wheel) relative to dist/<version>/."""
    return {
        "backend binary": "backend/traderadmin-backend-linux-amd64",
        "desktop linux/amd64": f"desktop/linux-amd64/{release.product}",
        "desktop windows/amd64": f"desktop/windows-amd64/{release.product}.exe",
        "installer": release.installer_name,
        "orchestrator wheel": "orchestrator/wheelhouse/traderadmin_orchestrator-*.whl",
        "image backend": "images/backend.tar",
        "image orchestrator": "images/orchestrator.tar",
        # Ed25519 signatures are deterministic: with the same update key (or none) the
        # manifest, which carries the notes and both files' digests and signatures, is the same
        # bytes too. (Its .minisig exists only with a key, so it is not compared by name.)
        "update manifest": "updates/release.json",
        "release notes": "RELEASE_NOTES.md",
    }


@dataclass(frozen=True)
class Comparison:
    label: str
    path: str
    first: str
    second: str

    @property
    def same(self) -> bool:
        return bool(self.first) and self.first == self.second


def _digest(folder: Path, pattern: str) -> tuple[str, str]:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        return pattern, ""
    return found[0].relative_to(folder).as_posix(), sha256_of(found[0])


def _clone_and_release(source: Path, commit: str, clone: Path, version: str) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(source), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", commit], cwd=clone, check=True)
    say(f"▶ invoke release in {clone}")
    env = {k: v for k, v in os.environ.items() if k not in ("TRADERADMIN_DIST", "PYTHONPATH")}
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "release", "--version", version],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise ReleaseError(f"the release in {clone} failed: {' | '.join(tail)}")
    return clone / "dist" / version


def _remove_image_tags(release: Release) -> None:
    from build_scripts.images.specs import COMPONENTS, image_tags

    for name in COMPONENTS:
        for tag in image_tags(release, name):
            with contextlib.suppress(OSError, subprocess.CalledProcessError):
                subprocess.run(
                    ["docker", "image", "rm", "--no-prune", tag], capture_output=True, check=True
                )


def verify(release: Release, workdir: Path | None = None) -> list[Comparison]:
    """Build the committed HEAD twice, in two clones, and compare the artifacts."""
    source = paths.repo_root()
    commit = release.commit
    with tempfile.TemporaryDirectory(prefix="traderadmin-repro-", dir=workdir) as scratch:
        clones = (Path(scratch) / "a", Path(scratch) / "b")
        try:
            first = _clone_and_release(source, commit, clones[0], release.version_text)
            _remove_image_tags(release)
            second = _clone_and_release(source, commit, clones[1], release.version_text)
        finally:
            for clone in clones:
                state.discard_all(clone / "dist")
        rows = []
        for label, pattern in compared_artifacts(release).items():
            path, digest_a = _digest(first, pattern)
            _, digest_b = _digest(second, pattern)
            rows.append(Comparison(label, path, digest_a, digest_b))
    return rows


# Why an artifact is known to differ between two builds, shown beside a DIFFERS verdict.
KNOWN_DIFFERENCES = {
    "image": (
        "the archives are rewritten at SOURCE_DATE_EPOCH (images/normalize.py: layer order, "
        "file times and owner names, config times and build ids), so a remaining difference is "
        "in a file's content or in the base image (the base's layers are kept as they are): "
        "compare the layers of the two archives (tar -xOf … | tar -tv, or diffoscope)"
    ),
}


def table(rows: list[Comparison]) -> str:
    cells = [("artifact", "first clone", "second clone", "verdict")]
    notes = []
    for row in rows:
        verdict = "identical" if row.same else ("MISSING" if not row.first else "DIFFERS")
        cells.append((row.label, row.first[:16], row.second[:16], verdict))
        known = KNOWN_DIFFERENCES.get(row.label.split()[0])
        if not row.same and known and known not in notes:
            notes.append(known)
    return "\n".join([progress.table(cells), *(f"note: {note}" for note in notes)])
