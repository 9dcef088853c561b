"""How fast the release graph is, measured in a scratch clone of HEAD.

One run measures, as whole `invoke release` processes: the cold release, the first of a fresh
clone with empty caches except the toolchain (its own step records and an empty Go build cache;
the toolchain stays: Go, Wails, Node with the npm and Go module caches, the base images), a
no-op release (median of `runs`), a release after changing one orchestrator source file and one
front-end file (with the plan each printed), and the release of a new commit with --jobs 1
beside the same with the default jobs, in turns, `runs` times each (medians). The figures go to
reports/bench.json and a table.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from build_scripts.core import atomic, cmd, paths, progress
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say
from build_scripts.release import history, state

ORCHESTRATOR_FILE = "orchestrator/src/traderadmin_orchestrator/__init__.py"
COLD = "cold release (fresh clone)"
FRONTEND_FILE = "desktop/frontend/src/style.css"
ORCHESTRATOR_CHANGED = "one orchestrator file changed"
FRONTEND_CHANGED = "one front-end file changed"

# The graph's targets: a no-op costs next to nothing, two jobs beat one, and a changed
# orchestrator file reruns what carries it (wheel, image, image SBOM, the manifests that name
# the image) and the sums, nothing else; the plan says so before the run does it.
NOOP_SECONDS = 3.0
NOOP_SHARE = 0.03
PARALLEL_SHARE = 0.70
ORCHESTRATOR_RERUNS = ("orchestrator", "image-orchestrator", "sbom-image-orchestrator", "manifests")


@dataclass
class Timing:
    name: str
    seconds: float
    ran: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    note: str = ""


# The clone's own dist/ and reports/: its releases are not this machine's history.
CLONE_UNSET = ("TRADERADMIN_DIST", "TRADERADMIN_REPORTS", "PYTHONPATH")


def _invoke(clone: Path, *args: str, env_overrides: dict | None = None) -> tuple[float, str]:
    env: dict[str, str | None] = dict.fromkeys(CLONE_UNSET)
    env |= env_overrides or {}
    started = time.monotonic()
    done = cmd.run(
        [sys.executable, "-m", "invoke", "release", *args],
        step="bench",
        cwd=clone,
        env=env,
        capture=True,
        quiet=True,
        check=False,
    )
    seconds = time.monotonic() - started
    output = done.output
    if done.returncode != 0:
        raise ReleaseError(f"invoke release {' '.join(args)} failed in {clone}: {output[-800:]}")
    return seconds, output


def ran_steps(output: str) -> list[str]:
    """Release steps a run started, from its `▶ name: … (runs: why)` lines."""
    return [
        line[2:].split(":", 1)[0]
        for line in output.splitlines()
        if line.startswith("▶ ") and "(runs: " in line
    ]


def planned_steps(output: str) -> list[str]:
    """Steps the plan says would run (the `  name  would run: …` lines), checksums included."""
    return [
        line.split()[0]
        for line in output.splitlines()
        if line.startswith("  ") and "would run:" in line
    ]


def _git(clone: Path, *args: str) -> None:
    cmd.run(["git", *args], step="git", cwd=clone, quiet=True)


def _edit(clone: Path, relative: str, text: str) -> None:
    path = clone / relative
    path.write_text(path.read_text() + text)


def _changed_release(clone: Path, relative: str, text: str, name: str) -> Timing:
    _edit(clone, relative, text)
    _, plan = _invoke(clone, "--dry-run")
    seconds, output = _invoke(clone)
    return Timing(name, seconds, ran_steps(output), planned_steps(plan))


def _new_commit(clone: Path, label: str) -> None:
    _edit(clone, "README.md", f"\n<!-- bench {label} -->\n")
    identity = ("-c", "user.name=bench", "-c", "user.email=bench@invalid")
    _git(clone, *identity, "commit", "-qam", "bench")


def _new_commits(clone: Path, jobs: int, runs: int) -> list[Timing]:
    """The release of a new commit with --jobs 1 and with `jobs`, in turns, `runs` times each:
    the medians, so a busy moment of a shared machine does not decide the ratio alone."""
    labels = {1: "--jobs 1", jobs: f"--jobs {jobs}"}
    seconds: dict[int, list[float]] = {1: [], jobs: []}
    ran: dict[int, list[str]] = {}
    for turn in range(runs):
        for value in (1, jobs) if turn % 2 == 0 else (jobs, 1):
            say(f"▶ a new commit, {labels[value]} ({turn + 1}/{runs})")
            _new_commit(clone, f"{labels[value]} {turn}")
            took, output = _invoke(clone, "--jobs", str(value))
            seconds[value].append(took)
            ran[value] = ran_steps(output)
    return [
        Timing(
            f"new commit, {labels[value]}",
            statistics.median(seconds[value]),
            ran[value],
            note=", ".join(f"{t:.1f}" for t in seconds[value]),
        )
        for value in (1, jobs)
    ]


def measure(jobs: int, runs: int = 3, workdir: Path | None = None) -> list[Timing]:
    source = paths.repo_root()
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="traderadmin-bench-", dir=workdir) as scratch:
        clone = Path(scratch) / "clone"
        cmd.run(["git", "clone", "--quiet", "--no-local", source, clone], step="git clone")
        try:
            say("▶ cold release: a fresh clone, an empty Go build cache")
            cold_cache = {"GOCACHE": str(Path(scratch) / "go-build")}
            seconds, output = _invoke(clone, env_overrides=cold_cache)
            timings.append(Timing(COLD, seconds, ran_steps(output), note="empty GOCACHE"))
            say("▶ no-op release")
            noops = [_invoke(clone)[0] for _ in range(runs)]
            spread = f"min {min(noops):.1f}s, max {max(noops):.1f}s, {runs} runs"
            timings.append(Timing("no-op release", statistics.median(noops), note=spread))
            say("▶ one orchestrator file changed")
            timings.append(
                _changed_release(clone, ORCHESTRATOR_FILE, "# bench\n", ORCHESTRATOR_CHANGED)
            )
            say("▶ one front-end file changed")
            timings.append(
                # A rule, not a comment: Vite drops comments, and an unchanged bundle rebuilds
                # nothing after the desktop step.
                _changed_release(clone, FRONTEND_FILE, ":root { --bench: 1; }\n", FRONTEND_CHANGED)
            )
            timings += _new_commits(clone, jobs, runs)
        finally:
            state.discard_all(clone / "dist")
    return timings


def table(timings: list[Timing]) -> str:
    rows = [("figure", "seconds", "steps run", "note")]
    for t in timings:
        rows.append((t.name, f"{t.seconds:.1f}", ", ".join(t.ran) or "-", t.note))
    return progress.table(rows, rule=True)


def ratios(timings: list[Timing]) -> dict[str, float]:
    by_name = {t.name: t.seconds for t in timings}
    first = by_name[COLD]
    sequential = next(t.seconds for t in timings if t.name == "new commit, --jobs 1")
    parallel = [
        t.seconds for t in timings if t.name.startswith("new commit") and "--jobs 1" not in t.name
    ]
    return {
        "noop_over_first": round(by_name["no-op release"] / first, 3),
        "parallel_over_sequential": round(parallel[0] / sequential, 3) if parallel else 0.0,
    }


@dataclass(frozen=True)
class Check:
    name: str
    found: str
    target: str
    ok: bool


def _reruns_check(timing: Timing, expected: tuple[str, ...] | None) -> Check:
    """The plan names exactly the expected steps (and the sums), and the run ran what it named."""
    planned = [name for name in timing.planned if name != "checksums"]
    ok = "checksums" in timing.planned and sorted(timing.ran) == sorted(planned)
    if expected is not None:
        ok = ok and sorted(planned) == sorted(expected)
    wanted = ", ".join(expected) if expected else "what the plan named"
    found = f"planned {', '.join(timing.planned)}; ran {', '.join(timing.ran) or 'nothing'}"
    return Check(f"{timing.name}: reruns", found, f"{wanted}, checksums", ok)


def checks(timings: list[Timing]) -> list[Check]:
    by_name = {t.name: t for t in timings}
    noop = by_name["no-op release"].seconds
    share = ratios(timings)
    found = [
        Check("no-op release", f"{noop:.1f} s", f"<= {NOOP_SECONDS:.0f} s", noop <= NOOP_SECONDS),
        Check(
            "no-op / cold release",
            f"{share['noop_over_first']:.1%}",
            f"<= {NOOP_SHARE:.0%}",
            share["noop_over_first"] <= NOOP_SHARE,
        ),
        Check(
            "new commit, parallel / --jobs 1",
            f"{share['parallel_over_sequential']:.2f}",
            f"<= {PARALLEL_SHARE:.2f}",
            0 < share["parallel_over_sequential"] <= PARALLEL_SHARE,
        ),
    ]
    if ORCHESTRATOR_CHANGED in by_name:
        found.append(_reruns_check(by_name[ORCHESTRATOR_CHANGED], ORCHESTRATOR_RERUNS))
    if FRONTEND_CHANGED in by_name:
        found.append(_reruns_check(by_name[FRONTEND_CHANGED], None))
    return found


def checks_table(found: list[Check]) -> str:
    rows = [("target", "found", "wanted", "verdict")]
    rows += [(c.name, c.found, c.target, "ok" if c.ok else "OVER TARGET") for c in found]
    return progress.table(rows, rule=True)


def write_report(timings: list[Timing]) -> Path:
    """reports/bench.json; the timings also go into reports/history.jsonl (the release
    report's cold and no-op trends)."""
    history.append(history.bench_release_entry({t.name: t.seconds for t in timings}))
    report = {
        "timings": [asdict(t) for t in timings],
        "ratios": ratios(timings),
        "checks": [asdict(c) for c in checks(timings)],
    }
    return atomic.write_text(
        paths.reports_dir() / "bench.json", json.dumps(report, indent=2) + "\n"
    )
