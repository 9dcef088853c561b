"""A task that builds one kind of artifact (`images.build`, `desktop.build`, …) runs its steps
through the release graph, as `invoke release --only STEP` does: one up-to-date decision, one
record per step, one description of the folder (SHA256SUMS, release.json, provenance)."""

from __future__ import annotations

from collections.abc import Iterable

from build_scripts.core.metadata import Release
from build_scripts.release import graph, pipeline, worker
from build_scripts.release.folder import Entry
from build_scripts.release.options import BuildOptions

# Where the steps come from ("module:function"), in this process and in the workers: the
# standard steps (steps.py); a test puts steps of its own here.
FACTORY = worker.DEFAULT_FACTORY


def build_steps(
    release: Release,
    names: list[str],
    options: BuildOptions,
    *,
    forced: Iterable[str] = (),
    jobs: int = 2,
) -> list[Entry]:
    """Run the named steps (and what they need, as `--only` does) with the task's options;
    the folder's files the named steps made."""
    steps = worker.load_steps(FACTORY, options)
    result = pipeline.run_release(
        release, steps, only=names, forced=forced, jobs=jobs, factory=FACTORY, options=options
    )
    assert result is not None  # not a dry run
    made = set(graph.expand(names, [s.name for s in steps]))
    return [entry for entry in result.entries if entry.step in made]
