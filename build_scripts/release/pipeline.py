"""`invoke release` as a function: plan, decide, run the steps, describe the folder.

Read the state first, compute the actions, then act (invocations' converge): the plan lists
each step as `up to date` or `would run: <why>`; a dry run stops there. A real run holds the
folder's lock, removes what a killed run left, bootstraps the toolchain only when a step has
work to do, runs the steps (scheduler.py) and, when all completed, writes release.json and
SHA256SUMS over the whole folder. Every run that started its steps leaves a record of them
(state.RunRecord: outcome and times of each step, for the release report); a completed one
also adds a line to reports/history.jsonl.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say, warn
from build_scripts.release import folder, graph, history, state
from build_scripts.release.digests import DigestCache
from build_scripts.release.options import BuildOptions
from build_scripts.release.scheduler import (
    Console,
    Outcome,
    Scheduler,
    StepTiming,
    sigterm_as_interrupt,
)
from build_scripts.release.worker import DEFAULT_FACTORY

CHECKSUMS = "checksums"


class StepFailed(ReleaseError):
    """A release step failed; exits with the failed step's own exit code."""


@dataclass(frozen=True)
class PlanLine:
    step: str
    run: bool
    reason: str

    def __str__(self) -> str:
        return f"{self.step:24} {'would run: ' + self.reason if self.run else 'up to date'}"


@dataclass
class Result:
    outcome: Outcome
    entries: list[folder.Entry]
    sums_written: bool
    run: state.RunRecord | None = None


def digest_cache(release: Release) -> DigestCache:
    return DigestCache(state.state_dir(release.dist_dir) / "digests.json")


def left_out_stale(
    release: Release,
    known: list[graph.Step],
    ordered: list[graph.Step],
    cache: DigestCache,
    will_run: set[str] | None = None,
) -> dict[str, str]:
    """Steps left out of this run whose files are in the folder but do not match their inputs
    now, or will not once the steps in will_run have run: name -> why.

    Their files stay (nothing is deleted behind the user's back), but release.json and the
    summary say they are stale, e.g. the bundle after a plain `invoke release` rebuilt an image.
    """
    chosen = {s.name for s in ordered}
    by_name = {s.name: s for s in known}
    stale = {}
    for step in known:
        if step.name in chosen:
            continue
        if not any(path.is_file() for path in graph.output_files(step, release)):
            continue
        upstream = [n for n in step.needs if n in (will_run or set())]
        if upstream:
            stale[step.name] = f"made before {', '.join(upstream)} ran"
            continue
        decision = graph.decide(step, release, cache, by_name)
        if decision.run:
            stale[step.name] = decision.reason
    return stale


def stale_line(name: str, why: str) -> str:
    return f"{name:24} left out, stale: {why} (`invoke release --only {name}` remakes it)"


def preview(
    release: Release,
    ordered: list[graph.Step],
    cache: DigestCache,
    *,
    force: bool = False,
    known: list[graph.Step] | None = None,
    forced: frozenset[str] = frozenset(),
) -> list[PlanLine]:
    """What a run would do now, step by step, and the checksums after them.

    known: every step of the graph (the sums describe what all of them made, not only the
    selected ones); the selected ones if not given.
    """
    known = known or ordered
    by_name = {s.name: s for s in ordered}
    lines: list[PlanLine] = []
    will_run: set[str] = set()
    for step in ordered:
        decision = graph.decide(step, release, cache, by_name, force=force or step.name in forced)
        upstream = [n for n in step.needs if n in will_run]
        if decision.run:
            lines.append(PlanLine(step.name, True, decision.reason))
        elif upstream:
            # Its own inputs are unchanged; it reruns if the new outputs of these differ.
            lines.append(PlanLine(step.name, True, f"after {', '.join(upstream)}"))
        else:
            lines.append(PlanLine(step.name, False, "up to date"))
        if lines[-1].run:
            will_run.add(step.name)
    if will_run:
        lines.append(PlanLine(CHECKSUMS, True, f"after {', '.join(sorted(will_run))}"))
    else:
        records = _records(release, known)
        stale = left_out_stale(release, known, ordered, cache)
        _, documents = folder.render(release, cache, records, stale)
        current = folder.is_current(release, documents)
        why = "the folder changed since SHA256SUMS/release.json were written"
        lines.append(PlanLine(CHECKSUMS, not current, why))
    return lines


def _records(release: Release, steps: list[graph.Step]) -> list[state.StepRecord]:
    """Records of every known step (not only the selected ones): the folder holds them all."""
    found = [state.load_record(release.dist_dir, s.name) for s in steps]
    return [r for r in found if r is not None]


def run_release(
    release: Release,
    steps: list[graph.Step],
    *,
    only: list[str] | None = None,
    force: bool = False,
    jobs: int = 2,
    dry_run: bool = False,
    bootstrap: Callable[[], object] | None = None,
    factory: str = DEFAULT_FACTORY,
    forced: Iterable[str] = (),
    options: BuildOptions | None = None,
) -> Result | None:
    """Plan, decide and run the steps (`only`: those and what they need; else the default
    ones). forced: steps run even when up to date (`force`: all of them). options: the build
    options the steps were made with (standard_steps(options)); the workers get them too."""
    ordered = graph.plan(steps, only)
    forced = frozenset(graph.expand(list(forced), [s.name for s in steps]))
    cache = digest_cache(release)
    say(f"{release.product} {release.version_text} ({release.commit[:12]}), {jobs} job(s):")
    lines = preview(release, ordered, cache, force=force, known=steps, forced=forced)
    for line in lines:
        say(f"  {line}")
    will_run = {line.step for line in lines[:-1] if line.run}
    for name, why in left_out_stale(release, steps, ordered, cache, will_run).items():
        say(f"  {stale_line(name, why)}")
    if dry_run:
        cache.save()
        return None
    console = Console()
    with state.folder_lock(release.dist_dir) as lock_fd, sigterm_as_interrupt():
        left = state.remove_leftovers(release.dist_dir)
        if left:
            say(f"removed {len(left)} leftover(s) of an interrupted run: {left[0].name} …")
        if bootstrap and any(line.run for line in lines[:-1]):
            bootstrap()
        # The run's clock (the timeline's zero) starts with the steps, after the bootstrap.
        started, began = time.time(), time.monotonic()
        try:
            outcome = Scheduler(
                release,
                ordered,
                cache,
                jobs=jobs,
                force=force,
                factory=factory,
                lock_fd=lock_fd,
                console=console,
                began=began,
                forced=forced,
                options=options.to_json() if options is not None else None,
            ).run()
        finally:
            cache.save()
        if not outcome.complete:
            run = run_record(release, ordered, outcome, started, time.monotonic() - began, jobs)
            state.save_run(release.dist_dir, run)
            raise _failure(outcome)
        sums = StepTiming(ready=round(time.monotonic() - began, 2))
        sums.start = sums.ready
        stale = left_out_stale(release, steps, ordered, cache)
        entries, written = folder.write(release, cache, _records(release, steps), stale)
        cache.save()
        sums.end = round(time.monotonic() - began, 2)
        sums.why = "the folder changed" if written else ""
        run = run_record(
            release, ordered, outcome, started, time.monotonic() - began, jobs, checksums=sums
        )
        state.save_run(release.dist_dir, run)
        entry = history.release_entry(
            release.version_text,
            release.commit,
            run.seconds,
            jobs=jobs,
            steps=dict(outcome.status),
            sizes=_sizes(release, entries),
            started=started,
        )
        try:
            history.append(entry)
        except OSError as error:  # the release is complete; its trend point is not vital
            warn(f"{history.history_path()} not updated: {error}")
    done = "SHA256SUMS, release.json and provenance written" if written else "up to date"
    say(f"{CHECKSUMS}: {done}")
    for name, why in stale.items():
        say(stale_line(name, why))
    return Result(outcome, entries, written, run)


def run_record(
    release: Release,
    ordered: list[graph.Step],
    outcome: Outcome,
    started: float,
    seconds: float,
    jobs: int,
    *,
    checksums: StepTiming | None = None,
) -> state.RunRecord:
    """What the run did, step by step in plan order; then the checksums (the folder's
    description), when the steps completed: `ran` if they were written, else `up to date`."""
    steps = []
    for step in ordered:
        timing = outcome.timing.get(step.name, StepTiming())
        status = outcome.status.get(step.name, "not started")
        steps.append(_step_line(step.name, step.description, status, timing))
        steps[-1]["reason"] = outcome.reasons.get(step.name, "")
    if checksums is not None:
        status = "ran" if checksums.why else "up to date"
        description = "SHA256SUMS, release.json and provenance over the whole folder"
        steps.append(_step_line(CHECKSUMS, description, status, checksums))
    return state.RunRecord(
        release.version_text,
        release.commit,
        round(started, 3),
        round(seconds, 2),
        jobs,
        outcome.complete,
        steps,
    )


def _failure(outcome: Outcome) -> StepFailed:
    failed = outcome.failed
    parts = [f"{name} failed ({outcome.reasons[name]})" for name in failed]
    blocked = [n for n, s in outcome.status.items() if s == "not started"]
    if blocked:
        parts.append(f"not started: {', '.join(blocked)}")
    error = StepFailed(
        "; ".join(parts) or "the release did not complete",
        "SHA256SUMS was not written; fix the failure and run `invoke release` again "
        "(completed steps stay up to date)",
    )
    codes = [outcome.reasons[n].split(":")[0].removeprefix("exit ") for n in failed]
    error.exit_code = int(codes[0]) if codes and codes[0].isdigit() else 1
    return error


def _step_line(name: str, description: str, status: str, timing: StepTiming) -> dict:
    return {
        "name": name,
        "description": description,
        "status": status,
        "reason": timing.why or status,
        "why": timing.why,
        "ready": timing.ready,
        "start": timing.start,
        "end": timing.end,
    }


def _sizes(release: Release, entries: list[folder.Entry]) -> dict[str, int]:
    """Every file SHA256SUMS lists, by size: the artifacts, the provenance and release.json."""
    sizes = {e.path.relative_to(release.dist_dir).as_posix(): e.size for e in entries}
    manifest = release.dist_dir / folder.MANIFEST
    if manifest.is_file():
        sizes[folder.MANIFEST] = manifest.stat().st_size
    return sizes
