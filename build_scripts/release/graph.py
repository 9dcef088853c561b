"""The release graph: which steps make a release, what each reads and writes, what is to do.

The graph is data. Each step declares the steps whose outputs it needs, its inputs (sources,
tools, parameters) and its outputs. `plan` orders the selected steps with their prerequisites;
`decide` compares a step's fingerprint and outputs with the record of its last successful run
and says whether it must run, and why. The scheduler (scheduler.py) acts on the decisions.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from build_scripts.core.artifacts import Artifact
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release
from build_scripts.release import state
from build_scripts.release.digests import DigestCache
from build_scripts.release.inputs import Inputs, describe_change, fingerprint, output_key


def _no_outputs(release: Release) -> list[Path]:
    return []


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    produce: Callable[[Release], list[Artifact]]
    needs: tuple[str, ...] = ()
    inputs: Inputs = field(default_factory=Inputs)
    # Files or folders in dist/<version>/ the step writes (folders stand for every file below).
    outputs: Callable[[Release], list[Path]] = _no_outputs
    # Found out from the outputs after a run (image ids, …); kept in the step's record.
    facts: Callable[[Release], dict] | None = None
    # Steps naming the same resource never run at the same time: the scheduler holds one back
    # rather than let it take a job slot to wait (two image builds: one Docker build at once).
    resource: str = ""
    # False: only on request (`--only NAME`, or a task that asks for it, as `invoke bundle`
    # does); a plain `invoke release` leaves it out, and says so when what it made is stale.
    by_default: bool = True
    # What the step made outside the folder (an image in Docker), checked against the facts
    # of its record: '' while it is still there and the same, else why the step must run.
    outside: Callable[[Release, dict], str] | None = None


def expand(names: list[str], known: list[str]) -> list[str]:
    """Step names, a family name standing for its members: `desktop` for desktop-linux and
    desktop-windows, `images` (or `image`) for image-backend and image-orchestrator."""
    expanded = []
    for name in names:
        stems = (name, name.removesuffix("s")) if name not in known else ()
        members = [k for k in known if any(k.startswith(f"{stem}-") for stem in stems)]
        expanded += members or [name]
    return expanded


def plan(steps: list[Step], wanted: list[str] | None = None) -> list[Step]:
    """The wanted steps (if None, those run by default) and their prerequisites, prerequisites
    first."""
    by_name = {s.name: s for s in steps}
    if wanted:
        wanted = expand(wanted, list(by_name))
    unknown = [w for w in (wanted or []) if w not in by_name]
    if unknown:
        raise ConfigError(
            f"unknown release step(s): {', '.join(unknown)}", f"choose from: {', '.join(by_name)}"
        )
    # The wanted steps and everything they need, transitively.
    selected: dict[str, tuple[str, ...]] = {}
    todo = list(wanted or [s.name for s in steps if s.by_default])
    while todo:
        name = todo.pop(0)
        if name in selected:
            continue
        for need in by_name[name].needs:
            if need not in by_name:
                raise ConfigError(f"release step {name} needs {need}, which is not a step")
        selected[name] = by_name[name].needs
        todo += by_name[name].needs
    # graphlib orders them and finds a cycle; among the steps whose needs are all placed, the
    # one declared first goes next, so the plan reads in the order of release/steps.py.
    sorter = graphlib.TopologicalSorter(selected)
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        raise ConfigError(f"release steps form a cycle: {' → '.join(error.args[1])}") from None
    declared = {s.name: i for i, s in enumerate(steps)}
    ordered: list[Step] = []
    ready: list[str] = []
    while sorter.is_active():
        ready = sorted([*ready, *sorter.get_ready()], key=declared.__getitem__)
        name = ready.pop(0)
        ordered.append(by_name[name])
        sorter.done(name)
    return ordered


def output_files(step: Step, release: Release) -> list[Path]:
    """The step's outputs as files (folders expanded; dot files are never artifacts)."""
    files: list[Path] = []
    for path in step.outputs(release):
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:])
            )
        else:
            files.append(path)
    return files


@dataclass(frozen=True)
class Decision:
    step: Step
    run: bool
    reason: str
    inputs: dict[str, str]


def decide(
    step: Step,
    release: Release,
    cache: DigestCache,
    by_name: dict[str, Step],
    *,
    force: bool = False,
) -> Decision:
    """Run or up to date, and why; from the files as they are now."""
    prerequisites = {need: output_files(by_name[need], release) for need in step.needs}
    current = fingerprint(step.inputs, release, cache, prerequisites)
    if force:
        return Decision(step, True, "--force", current)
    record = state.load_record(release.dist_dir, step.name)
    if record is None or record.inputs != current:
        return Decision(
            step, True, describe_change(record.inputs if record else None, current), current
        )
    outputs = output_files(step, release)
    if not outputs:
        return Decision(step, True, "it has no outputs yet", current)
    found = {}
    for path in outputs:
        relative = output_key(release, path)
        if not path.is_file():
            return Decision(step, True, f"{relative} is missing", current)
        found[relative] = cache.sha256(path)
    for relative in sorted(set(record.outputs) | set(found)):
        if relative not in found:
            return Decision(step, True, f"{relative} is missing", current)
        if found[relative] != record.outputs.get(relative):
            return Decision(step, True, f"{relative} changed since it was built", current)
    gone = step.outside(release, record.facts) if step.outside else ""
    if gone:
        return Decision(step, True, gone, current)
    return Decision(step, False, "up to date", current)


def completed_record(
    step: Step,
    release: Release,
    cache: DigestCache,
    inputs: dict[str, str],
    notes: dict[str, str],
    seconds: float,
    *,
    artifacts: list[dict] = (),
) -> state.StepRecord:
    """The record of a step that just succeeded (outputs read back from disk); artifacts: what
    its function returned (path, note, kind, of), paths kept as its outputs are."""
    outputs = {
        output_key(release, path): cache.sha256(path)
        for path in output_files(step, release)
        if path.is_file()
    }
    facts = step.facts(release) if step.facts else {}
    made = [
        {
            "path": output_key(release, Path(a["path"])),
            "note": a.get("note", ""),
            "kind": a.get("kind", "file"),
            "of": a.get("of", ""),
        }
        for a in artifacts
    ]
    return state.StepRecord(
        step.name, inputs, outputs, notes, facts, round(seconds, 1), artifacts=made
    )
