"""release: the whole job, from a bare machine to artifacts with a summary table."""

from __future__ import annotations

import os
from pathlib import Path

from invoke import Collection

from build_scripts.core import bootstrap as bootstrapping
from build_scripts.core import metadata
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.core.progress import say, warn
from build_scripts.release import graph, pipeline, reproducible, summary
from build_scripts.release import report as release_report
from build_scripts.release import steps as release_steps
from build_scripts.tasks._base import release_task
from build_scripts.updates import keys as update_keys
from build_scripts.windows import webview2


@release_task(
    default=True,
    help={
        "version": "override the release version (SemVer, e.g. 1.2.0)",
        "only": "run only this step and what it needs (repeatable); see --list-steps",
        "bootstrap": "install/start the toolchain first when a step has work (default: yes)",
        "list-steps": "print the release steps and exit",
        "dry-run": "print the plan (what would run and why) and run nothing",
        "force": "run every selected step even if it is up to date",
        "jobs": "how many steps may run at the same time (default: release.jobs, 2)",
        "bundle": "also make the air-gapped bundle (or set release.bundle: true; "
        "`invoke bundle` makes only it)",
        "update-key": f"minisign secret key that signs the update feed (default: "
        f"${update_keys.ENV_KEY}); without one the feed is unsigned and apps refuse it",
    },
    iterable=["only"],
)
def release(
    c,
    version=None,
    only=None,
    bootstrap=True,
    list_steps=False,
    dry_run=False,
    force=False,
    jobs=None,
    bundle=False,
    update_key=None,
):
    """Build everything a user installs or deploys, then print artifacts, sizes and SHA-256."""
    steps = release_steps.standard_steps()
    if list_steps:
        for item in steps:
            needs = f" (needs {', '.join(item.needs)})" if item.needs else ""
            when = "" if item.by_default else " [on request]"
            print(f"{item.name:24} {item.description}{needs}{when}")
        return
    jobs = int(jobs if jobs is not None else c.config.release.jobs)
    if jobs < 1:
        raise ConfigError(f"--jobs {jobs}: must be 1 or more")
    if bundle or c.config.release.bundle:
        only = [*(only or [s.name for s in steps if s.by_default]), "bundle"]
    # The version and release.toml are checked before anything runs: bad input writes nothing.
    current = metadata.current_release(version or c.config.release.version)
    key = update_keys.from_env(update_key)  # a bad key file fails here, before any step runs
    if key is not None:
        # Steps run in worker processes: they find the key where the environment says.
        os.environ[update_keys.ENV_KEY] = str(key.secret_file)
    if not dry_run and any(item.name == "installer" for item in graph.plan(steps, only or None)):
        webview2.configured_bootstrapper()  # a wrong path fails now, not after the builds
    try:
        result = pipeline.run_release(
            current,
            steps,
            only=only or None,
            force=force,
            jobs=jobs,
            dry_run=dry_run,
            bootstrap=bootstrapping.bootstrap if bootstrap else None,
        )
    except pipeline.StepFailed:
        _write_report(current, steps)  # it names the steps that did not complete
        raise
    if result is None:
        return
    say("")
    say(summary.table(result.entries, current.dist_dir))
    ran = [n for n, s in result.outcome.status.items() if s == "ran"]
    say(
        f"\n{current.product} {current.version_text}: {len(result.entries)} artifact(s) in "
        f"{current.dist_dir}; ran: {', '.join(ran) or 'nothing (all up to date)'}"
    )
    _write_report(current, steps)


def _write_report(current, steps) -> None:
    """The release report page, and its link line; a page that cannot be written (a full disk,
    reports/ not writable) is a warning, not a failed release."""
    try:
        path = release_report.write_report(current, steps)
    except OSError as error:
        warn(f"the release report was not written: {error}")
        return
    say(f"report: {release_report.shown_path(path)}")


@release_task(
    name="verify-reproducible",
    help={"workdir": "where the two clones go (default: the system temporary folder)"},
)
def verify_reproducible(c, workdir=None):
    """Release the committed HEAD twice from two fresh clones; compare SHA-256 of the artifacts."""
    current = metadata.current_release(c.config.release.version)
    if current.commit == "unknown":
        raise ConfigError("verify-reproducible needs a git checkout with a commit")
    rows = reproducible.verify(current, Path(workdir) if workdir else None)
    print(reproducible.table(rows))
    differing = [row.label for row in rows if not row.same]
    if differing:
        raise VerificationFailed(
            f"not reproducible: {', '.join(differing)}",
            "compare the two builds with diffoscope to find the bytes that differ",
        )


ns = Collection(release, verify_reproducible)
ns.configure({"release": {"version": None, "jobs": 2, "bundle": False}})
