"""Speed and size figures against their targets, measured on this machine.

Times are whole `invoke …` processes, run the way a developer runs them, median of a few
runs. Sizes are read from the release in dist/<version>/ and from Docker. Nothing here is a
test: `invoke bench` prints the figures and says which are over their target.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from build_scripts.core import artifacts, atomic, cmd, paths, progress
from build_scripts.core.components import image_reference
from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.desktop import build as desktop
from build_scripts.images import specs
from build_scripts.release import history
from build_scripts.windows import installer


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None
    unit: str
    target: float
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        return "ok" if self.value <= self.target else "OVER TARGET"


def invoke_seconds(args: list[str], runs: int) -> tuple[list[float], str]:
    """Wall seconds of `invoke ARGS` as a whole process, `runs` times; and the last output."""
    times, output = [], ""
    for _ in range(runs):
        started = time.monotonic()
        done = cmd.run(
            [sys.executable, "-m", "invoke", *args],
            step="bench",
            cwd=paths.repo_root(),
            capture=True,
            quiet=True,
            check=False,
        )
        times.append(time.monotonic() - started)
        output = done.output
        if done.returncode != 0:
            # One line, the command's own error line (its last), not a traceback.
            lines = [line for line in output.splitlines() if line.strip()]
            raise ReleaseError(
                f"bench: invoke {' '.join(args)} failed: {lines[-1] if lines else 'no output'}",
                f"run `invoke {' '.join(args)}` on its own to see why, then bench again",
            )
    return times, output


def _median_figure(name: str, args: list[str], runs: int, target: float) -> Figure:
    times, _ = invoke_seconds(args, runs)
    spread = f"min {min(times):.1f}s, max {max(times):.1f}s, {runs} runs"
    return Figure(name, statistics.median(times), "s", target, spread)


def warm_bootstrap(release: Release, runs: int) -> Figure:
    return _median_figure("bootstrap on a ready machine", ["bootstrap"], runs, 15)


def unchanged_images_build(release: Release, runs: int) -> Figure:
    invoke_seconds(["images.build"], 1)  # make sure the images exist first
    return _median_figure("images.build, nothing changed", ["images.build"], runs, 10)


def warm_cluster_up(release: Release, runs: int) -> Figure:
    """cluster.down, then cluster.up with the binaries cached; the node-Ready time it reports."""
    readies = []
    for _ in range(runs):
        invoke_seconds(["cluster.down"], 1)
        _, output = invoke_seconds(["cluster.up"], 1)
        match = re.search(r"node Ready after ([\d.]+)s", output)
        if not match:
            raise RuntimeError(f"cluster.up did not report the node Ready:\n{output[-1500:]}")
        readies.append(float(match.group(1)))
    return Figure(
        "warm cluster.up until the node is Ready",
        statistics.median(readies),
        "s",
        60,
        f"{runs} runs",
    )


def _size(path, name: str, target: float) -> Figure:
    if not path.exists():
        return Figure(name, None, "MB", target, f"{path} not built: invoke release")
    return Figure(name, path.stat().st_size / artifacts.MB, "MB", target)


def artifact_sizes(release: Release) -> list[Figure]:
    figures = [
        _size(
            desktop.binary_path(release, "windows/amd64"), "TraderAdmin.exe", desktop.EXE_BUDGET_MB
        ),
        _size(
            installer.installer_path(release), release.installer_name, installer.INSTALLER_BUDGET_MB
        ),
    ]
    from python_on_whales import DockerException, docker

    for name in specs.IMAGES:
        item = specs.component(name)
        reference = image_reference(release, name)
        try:
            size = docker.image.inspect(reference).size / artifacts.MB
            figures.append(Figure(f"image {name}", size, "MB", item.budget_mb))
        except DockerException:
            figures.append(
                Figure(
                    f"image {name}",
                    None,
                    "MB",
                    item.budget_mb,
                    f"{reference} not built: invoke images.build",
                )
            )
    return figures


def unchanged_deploy(release: Release, runs: int) -> Figure:
    """`invoke deploy` of the release already running on the local cluster."""
    invoke_seconds(["deploy"], 1)  # the release is deployed and healthy first
    return _median_figure("deploy of an unchanged release", ["deploy"], runs, 20)


def fresh_deploy(release: Release, runs: int) -> Figure:
    """`invoke deploy` into an empty namespace until every Deployment is rolled out."""
    times = []
    for _ in range(runs):
        invoke_seconds(["deploy.undeploy", "--delete-data"], 1)
        seconds, _ = invoke_seconds(["deploy"], 1)
        times.append(seconds[0])
    spread = f"min {min(times):.1f}s, max {max(times):.1f}s, {runs} runs"
    return Figure("fresh deploy to all-Ready", statistics.median(times), "s", 60, spread)


TIMINGS: dict[str, Callable[[Release, int], Figure]] = {
    "bootstrap": warm_bootstrap,
    "images": unchanged_images_build,
    "cluster": warm_cluster_up,
    "deploy": unchanged_deploy,
    "fresh-deploy": fresh_deploy,
}


def write_report(figures: list[Figure]) -> Path:
    """reports/bench-figures.json: each figure with its target and verdict (bench.release
    writes reports/bench.json); the measured ones also go into reports/history.jsonl."""
    report = [{**asdict(f), "verdict": f.verdict} for f in figures]
    history.append(history.bench_entry(report))
    return atomic.write_text(
        paths.reports_dir() / "bench-figures.json", json.dumps(report, indent=2) + "\n"
    )


def table(figures: list[Figure]) -> str:
    rows = [("figure", "measured", "target", "verdict", "note")]
    for f in figures:
        measured = "-" if f.value is None else f"{f.value:.1f} {f.unit}"
        rows.append((f.name, measured, f"≤ {f.target:g} {f.unit}", f.verdict, f.note))
    return progress.table(rows, rule=True)


def run(release: Release, timings: list[str], runs: int) -> list[Figure]:
    figures = artifact_sizes(release)
    for name in timings:
        say(f"▶ timing {name} ({runs} runs)")
        figures.append(TIMINGS[name](release, runs))
    return figures
