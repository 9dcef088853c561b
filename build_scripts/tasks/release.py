"""release: the whole job, from a bare machine to artifacts with a summary table."""

from __future__ import annotations

from invoke import Collection

from build_scripts.core import bootstrap as bootstrapping
from build_scripts.core import metadata
from build_scripts.core.progress import say
from build_scripts.release import graph as releasing
from build_scripts.release import steps as release_steps
from build_scripts.release import summary
from build_scripts.tasks._base import release_task
from build_scripts.windows import webview2


@release_task(
    default=True,
    help={
        "version": "override the release version (SemVer, e.g. 1.2.0)",
        "only": "run only this step and what it needs (repeatable); see --list-steps",
        "bootstrap": "install/start the toolchain first (default: yes)",
        "list-steps": "print the release steps and exit",
    },
    iterable=["only"],
)
def release(c, version=None, only=None, bootstrap=True, list_steps=False):
    """Build everything a user installs or deploys, then print artifacts, sizes and SHA-256."""
    steps = release_steps.standard_steps()
    if list_steps:
        for item in steps:
            needs = f" (needs {', '.join(item.needs)})" if item.needs else ""
            print(f"{item.name:12} {item.description}{needs}")
        return
    # The version is checked before anything runs, so bad input writes nothing.
    current = metadata.current_release(version or c.config.release.version)
    ordered = releasing.plan(steps, only or None)
    if any(item.name == "installer" for item in ordered):
        webview2.configured_bootstrapper()  # a wrong path fails now, not after the builds
    if bootstrap:
        bootstrapping.bootstrap()
    artifacts = releasing.run(current, ordered)
    say("")
    if artifacts:
        say(summary.table(artifacts, current.dist_dir))
        say(
            f"\n{current.product} {current.version_text}: {len(artifacts)} artifact(s) in "
            f"{current.dist_dir}"
        )
    else:
        say("no artifacts: no release step produced anything")


ns = Collection(release)
ns.configure({"release": {"version": None}})
