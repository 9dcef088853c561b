"""Running the release graph: read the state, decide, then act, `jobs` steps at a time.

A step starts when every step it needs is complete and a job slot is free; a step whose
inputs and outputs match its record is `up to date` and does not start. Each running step is a
worker process (worker.py) in its own process group; its output lines are prefixed with the
step's name, and a live line says what runs. When a step fails, the steps that need it do not
start; steps already running, and unrelated ones, carry on. Ctrl-C (or SIGTERM) stops every
running step the same way: each gets SIGINT, which kills its command and removes its
temporary files; nothing is recorded for them, so the next run redoes exactly those.

Each step's times are kept for the release report's timeline (seconds after the run began):
when every step it needs was done (ready), when it started and ended; started minus ready is
the time it waited for a job slot or for its resource.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import build_scripts
from build_scripts.core import cmd, paths
from build_scripts.core.metadata import Release
from build_scripts.core.progress import format_seconds
from build_scripts.release import folder, graph, state, worker
from build_scripts.release.digests import DigestCache

DONE = ("ran", "up to date")
ENGINE_ROOT = Path(build_scripts.__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 30


class Console:
    """Prefixed lines on stdout and, on a terminal, a live line of what is running."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self.shown = False
        self.last_names: tuple[str, ...] = ()
        self.last_time = 0.0

    def line(self, text: str) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Remove the live line before others print."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def running(self, started: dict[str, float]) -> None:
        now = time.monotonic()
        names = tuple(started)
        text = "… running: " + ", ".join(
            f"{name} {format_seconds(now - at)}" for name, at in started.items()
        )
        if self.live and names:
            self.stream.write("\r\x1b[K" + text[:150])
            self.stream.flush()
            self.shown = True
        elif names and (names != self.last_names or now - self.last_time > 30):
            self.line(text)
            self.last_time = now
        self.last_names = names


@dataclass
class _Running:
    process: subprocess.Popen
    decision: graph.Decision
    result_file: Path
    started: float
    tail: deque = field(default_factory=lambda: deque(maxlen=20))


@dataclass
class StepTiming:
    """Seconds after the run began; None where the step never got that far."""

    ready: float | None = None
    start: float | None = None
    end: float | None = None
    # The input that made it run (the decision's reason); '' for a step that did not run.
    why: str = ""


@dataclass
class Outcome:
    status: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    timing: dict[str, StepTiming] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [n for n, s in self.status.items() if s == "failed"]

    @property
    def complete(self) -> bool:
        return all(s in DONE for s in self.status.values())


def _read(name: str, process: subprocess.Popen, events: queue.Queue) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        events.put(("line", name, raw.decode(errors="replace").rstrip("\n")))
    events.put(("exit", name, process.wait()))


def critical_first(ordered: list[graph.Step], dist_dir: Path) -> list[str]:
    """Step names, those heading the longest chain of work first (by the durations recorded in
    the last runs of this folder, else of any folder; 10 s for a step never run), so a free job
    slot goes to what the end waits on: on two cores, the chain to the installer and the one to
    the orchestrator's image start before the short steps."""
    typical = state.typical_seconds()
    seconds = {}
    for step in ordered:
        record = state.load_record(dist_dir, step.name)
        recorded = record.seconds if record and record.seconds else 0.0
        seconds[step.name] = recorded or typical.get(step.name) or 10.0
    dependants = {s.name: [d.name for d in ordered if s.name in d.needs] for s in ordered}
    chain: dict[str, float] = {}
    for step in reversed(ordered):  # dependants come after their prerequisites in `ordered`
        later = [chain[d] for d in dependants[step.name]]
        chain[step.name] = seconds[step.name] + max(later, default=0.0)
    position = {s.name: i for i, s in enumerate(ordered)}
    return sorted(chain, key=lambda name: (-chain[name], position[name]))


class Scheduler:
    def __init__(
        self,
        release: Release,
        ordered: list[graph.Step],
        cache: DigestCache,
        *,
        jobs: int,
        force: bool,
        factory: str,
        lock_fd: int,
        console: Console,
        began: float | None = None,
        forced: frozenset[str] = frozenset(),
        options: str | None = None,
    ) -> None:
        self.release, self.cache, self.jobs, self.force = release, cache, max(1, jobs), force
        self.factory, self.lock_fd, self.console = factory, lock_fd, console
        # Steps to run even when up to date (`images.build --force`: the images, not the
        # backend binary they need); `force` stands for every step.
        self.forced = forced
        self.by_name = {s.name: s for s in ordered}
        self.pending = critical_first(ordered, release.dist_dir)
        self.decisions: dict[str, graph.Decision] = {}
        self.running: dict[str, _Running] = {}
        self.events: queue.Queue = queue.Queue()
        self.outcome = Outcome()
        # time.monotonic() of the run's start: the zero of the step times.
        self.began = began if began is not None else time.monotonic()
        self.withdrawn = False
        scratch = tempfile.mkdtemp(prefix="run-", dir=state.state_dir(release.dist_dir))
        self.scratch = Path(scratch)
        (self.scratch / "release.json").write_text(worker.release_to_json(release))
        # The task's build options (options.py), for the workers to build the same steps.
        self.options_file = self.scratch / "options.json" if options is not None else None
        if self.options_file is not None:
            self.options_file.write_text(options or "")

    def run(self) -> Outcome:
        try:
            while True:
                self._start_ready()
                if not self.running:
                    break
                with contextlib.suppress(queue.Empty):
                    self._handle(self.events.get(timeout=1.0))
                self.console.running({n: r.started for n, r in self.running.items()})
        except KeyboardInterrupt:
            self._stop_all()
            raise
        finally:
            self.console.clear()
            for path in self.scratch.iterdir():
                path.unlink(missing_ok=True)
            self.scratch.rmdir()
        return self.outcome

    # --- deciding and starting -------------------------------------------------------------

    def _start_ready(self) -> None:
        for name in list(self.pending):
            step = self.by_name[name]
            needs = {need: self.outcome.status.get(need) for need in step.needs}
            broken = [n for n, s in needs.items() if s is not None and s not in DONE]
            if broken:
                why = f"needs {', '.join(broken)}, which did not complete"
                self._settle(name, "not started", why)
                self.console.line(f"✗ {name}: not started ({self.outcome.reasons[name]})")
                continue
            if any(s is None for s in needs.values()):
                continue
            timing = self.outcome.timing.setdefault(name, StepTiming(ready=self._clock()))
            if name not in self.decisions:
                self.decisions[name] = graph.decide(
                    step,
                    self.release,
                    self.cache,
                    self.by_name,
                    force=self.force or name in self.forced,
                )
            decision = self.decisions[name]
            if not decision.run:
                timing.start = timing.end = self._clock()
                self._settle(name, "up to date", "up to date")
                self.console.line(f"✓ {name}: up to date")
            elif len(self.running) < self.jobs and not self._resource_busy(step):
                self._launch(decision)

    def _clock(self) -> float:
        return round(time.monotonic() - self.began, 2)

    def _resource_busy(self, step: graph.Step) -> bool:
        return bool(step.resource) and any(
            r.decision.step.resource == step.resource for r in self.running.values()
        )

    def _settle(self, name: str, status: str, reason: str) -> None:
        self.pending.remove(name)
        self.outcome.status[name] = status
        self.outcome.reasons[name] = reason

    def _launch(self, decision: graph.Decision) -> None:
        name = decision.step.name
        if not self.withdrawn:
            folder.withdraw(self.release)
            self.withdrawn = True
        self.pending.remove(name)
        result_file = self.scratch / f"{name}.result.json"
        # The worker imports this very engine, whatever `pip install -e` points at.
        python_path = os.pathsep.join(
            p for p in (str(ENGINE_ROOT), os.environ.get("PYTHONPATH", "")) if p
        )
        argv = [sys.executable, "-m", "build_scripts.release.worker", self.factory, name]
        argv += [str(self.scratch / "release.json"), str(result_file)]
        if self.options_file is not None:
            argv.append(str(self.options_file))
        process = cmd.spawn(
            argv,
            cwd=paths.repo_root(),
            env={"PYTHONUNBUFFERED": "1", "PYTHONPATH": python_path},
            pass_fds=(self.lock_fd,),
        )
        self.running[name] = _Running(process, decision, result_file, time.monotonic())
        timing = self.outcome.timing.setdefault(name, StepTiming(ready=self._clock()))
        timing.start, timing.why = self._clock(), decision.reason
        self.console.line(f"▶ {name}: {decision.step.description} (runs: {decision.reason})")
        threading.Thread(target=_read, args=(name, process, self.events), daemon=True).start()

    # --- what the workers report -------------------------------------------------------------

    def _handle(self, event: tuple) -> None:
        kind, name, value = event
        current = self.running[name]
        if kind == "line":
            current.tail.append(value)
            self.console.line(f"[{name}] {value}")
            return
        del self.running[name]
        seconds = time.monotonic() - current.started
        self.outcome.timing[name].end = self._clock()
        if value == 0 and not current.result_file.is_file():
            current.tail.append("error: the worker exited 0 without reporting its artifacts")
            value = 1
        if value == 0:
            made = json.loads(current.result_file.read_text())
            notes = {
                Path(a["path"]).relative_to(self.release.dist_dir).as_posix(): a["note"]
                for a in made
                if Path(a["path"]).is_relative_to(self.release.dist_dir)
            }
            record = graph.completed_record(
                current.decision.step,
                self.release,
                self.cache,
                current.decision.inputs,
                notes,
                seconds,
                artifacts=made,
            )
            state.save_record(self.release.dist_dir, record)
            state.remember_seconds(name, seconds)
            self.outcome.status[name] = "ran"
            self.outcome.reasons[name] = current.decision.reason
            self.console.line(f"✓ {name} {format_seconds(seconds)}")
        else:
            errors = [line for line in current.tail if line.startswith("error: ")]
            last = (errors or list(current.tail) or ["(no output)"])[-1]
            self.outcome.status[name] = "failed"
            self.outcome.reasons[name] = f"exit {value}: {last.removeprefix('error: ')}"
            self.console.line(f"✗ {name} failed after {format_seconds(seconds)} (exit {value})")

    def _stop_all(self) -> None:
        """SIGINT to every running step's process group, SIGKILL after a grace period."""
        for name, current in self.running.items():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(current.process.pid, signal.SIGINT)
            self.outcome.status[name] = "interrupted"
            self.outcome.timing[name].end = self._clock()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for current in self.running.values():
            try:
                current.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(current.process.pid, signal.SIGKILL)
                current.process.wait()
        if self.running:
            self.console.line(
                f"✗ interrupted: stopped {', '.join(self.running)}; their earlier outputs stay, "
                "nothing is recorded for them and SHA256SUMS is not written"
            )
        self.running.clear()


@contextlib.contextmanager
def sigterm_as_interrupt():
    """`kill PID` stops a release the way Ctrl-C does."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
