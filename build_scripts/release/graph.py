"""The release graph: which steps make a release, what each needs, in which order they run.

The graph is data. Each step declares the steps whose outputs it needs; `plan` orders the
selected steps with their prerequisites, and `run` runs them, timing each and collecting the
artifacts for the summary. A failing step stops the release; artifacts already in dist/ from an
earlier good run stay as they were, since every step writes atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from build_scripts.core.artifacts import Artifact
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say, step
from build_scripts.release import summary


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    produce: Callable[[Release], list[Artifact]]
    needs: tuple[str, ...] = ()


def plan(steps: list[Step], wanted: list[str] | None = None) -> list[Step]:
    """The wanted steps (all if None) and their prerequisites, prerequisites first."""
    by_name = {s.name: s for s in steps}
    unknown = [w for w in (wanted or []) if w not in by_name]
    if unknown:
        raise ConfigError(
            f"unknown release step(s): {', '.join(unknown)}", f"choose from: {', '.join(by_name)}"
        )
    ordered: list[Step] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(s.name == name for s in ordered):
            return
        if name in visiting:
            raise ConfigError(f"release steps form a cycle at {name}")
        visiting.add(name)
        for need in by_name[name].needs:
            visit(need)
        visiting.discard(name)
        ordered.append(by_name[name])

    for name in wanted or [s.name for s in steps]:
        visit(name)
    return ordered


def run(release: Release, steps: list[Step]) -> list[Artifact]:
    artifacts: list[Artifact] = []
    say(f"Releasing {release.product} {release.version_text} ({release.commit[:12]})")
    for item in steps:
        with step(f"{item.name}: {item.description}"):
            artifacts.extend(item.produce(release))
    if artifacts:
        summary.write_manifest(release, artifacts)
    return artifacts
