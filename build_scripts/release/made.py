"""What the steps a step needs have made, read from their records: typed artifacts
(core/artifacts.py) to select by kind, never paths rebuilt by convention."""

from __future__ import annotations

from collections.abc import Iterable

from build_scripts.core.artifacts import Artifact, select
from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import Release
from build_scripts.release import state
from build_scripts.release.inputs import output_key


def made_by(release: Release, steps: Iterable[str]) -> list[Artifact]:
    """Every artifact the named steps recorded, with its kind and the step that made it."""
    found = []
    for name in steps:
        record = state.load_record(release.dist_dir, name)
        for item in record.artifacts if record else ():
            path = release.dist_dir / item["path"]  # an absolute path stays absolute
            found.append(Artifact(path, item["note"], item["kind"], item["of"], name))
    return found


def one(release: Release, steps: Iterable[str], kind: str, of: str | None = None) -> Artifact:
    """The one artifact of a kind (and of what) the named steps made; ReleaseError if they
    made none (not run yet) or several."""
    steps = tuple(steps)
    chosen = select(made_by(release, steps), kind, of)
    if len(chosen) != 1:
        what = f"{kind}{f' of {of}' if of else ''}"
        found = ", ".join(output_key(release, a.path) for a in chosen) or "none"
        raise ReleaseError(
            f"{', '.join(steps)} made {len(chosen)} {what} artifact(s) ({found}), not one",
            f"run: invoke release --only {' --only '.join(steps)}",
        )
    return chosen[0]
