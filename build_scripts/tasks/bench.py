"""bench: speed and size figures against their targets."""

from __future__ import annotations

import json

from invoke import Collection, Exit

from build_scripts.core import metadata
from build_scripts.core.errors import ConfigError
from build_scripts.release import bench as benchmarks
from build_scripts.release import bench_graph
from build_scripts.tasks._base import release_task


@release_task(
    default=True,
    help={
        "timing": "which timings to run (repeatable): bootstrap, images, cluster, deploy, "
        "fresh-deploy; default: all",
        "runs": "runs per timing (the median is shown)",
        "version": "the release whose artifacts are measured (default: this checkout's)",
    },
    iterable=["timing"],
)
def run(c, timing=None, runs=3, version=None):
    """Measure sizes and times (bootstrap, image build, cluster.up, unchanged and fresh deploy)."""
    chosen = timing or list(benchmarks.TIMINGS)
    unknown = [t for t in chosen if t not in benchmarks.TIMINGS]
    if unknown:
        raise ConfigError(
            f"unknown timing(s): {', '.join(unknown)}",
            f"choose from: {', '.join(benchmarks.TIMINGS)}",
        )
    release = metadata.current_release(version or c.config.release.version)
    figures = benchmarks.run(release, chosen, int(runs))
    print(benchmarks.table(figures))
    print(f"written: {benchmarks.write_report(figures)}")
    over = [f.name for f in figures if f.verdict == "OVER TARGET"]
    if over:
        raise Exit(f"error: over target: {', '.join(over)}", code=1)


@release_task(
    name="release",
    help={
        "jobs": "the parallel figure's --jobs (default: release.jobs)",
        "runs": "runs of the no-op release (the median is shown)",
    },
)
def release_graph(c, jobs=None, runs=3):
    """Time the release graph in a scratch clone: first, no-op, one changed file, --jobs 1 vs N."""
    timings = bench_graph.measure(int(jobs or c.config.release.jobs), int(runs))
    print(bench_graph.table(timings))
    print(json.dumps(bench_graph.ratios(timings)))
    found = bench_graph.checks(timings)
    print(bench_graph.checks_table(found))
    print(f"written: {bench_graph.write_report(timings)}")
    over = [check.name for check in found if not check.ok]
    if over:
        raise Exit(f"error: over target: {', '.join(over)}", code=1)


ns = Collection(run, release_graph)
