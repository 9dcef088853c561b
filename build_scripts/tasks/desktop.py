"""desktop: production builds of the Wails app, and a look at the Linux build running."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from build_scripts.core import metadata, paths
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say
from build_scripts.desktop import build as desktop
from build_scripts.desktop import smoke as desktop_smoke
from build_scripts.release import on_request, step_inputs, summary
from build_scripts.tasks._base import release_task
from build_scripts.tasks._options import build_options


@release_task(
    help={
        "platform": "os/arch to build, repeatable or comma-separated: linux/amd64,windows/amd64 "
        "(default: desktop.platforms)",
        "version": "override the release version (SemVer, e.g. 1.2.0)",
    },
    iterable=["platform"],
)
def build(c, platform=None, version=None):
    """Build the desktop app (wails build, production) into dist/<version>/desktop/."""
    release = metadata.current_release(version or c.config.release.version)
    platforms = desktop.parse_platforms(platform or c.config.desktop.platforms)
    # The release graph's desktop steps (and the front end they embed); a platform beyond the
    # default ones becomes a step of its own (release/steps.py).
    options = build_options(c, desktop_platforms=(*desktop.DEFAULT_PLATFORMS, *platforms))
    names = [step_inputs.desktop_step_name(p) for p in platforms]
    entries = on_request.build_steps(release, names, options, jobs=int(c.config.release.jobs))
    say("")
    say(summary.table(entries, release.dist_dir))


@release_task(
    help={
        "version": "the release whose Linux build to run (default: this checkout's version)",
        "screenshot": "where to save the PNG "
        "(default: reports/screenshots/desktop-linux-<version>.png)",
    }
)
def smoke(c, version=None, screenshot=None):
    """Run the Linux build: check --version, open its window under Xvfb, save a screenshot."""
    release = metadata.current_release(version or c.config.release.version)
    binary = desktop.binary_path(release, "linux/amd64")
    if not binary.is_file():
        raise ReleaseError(
            f"{binary} does not exist",
            f"build it first: invoke desktop.build --platform linux/amd64 "
            f"--version {release.version_text}",
        )
    target = (
        Path(screenshot)
        if screenshot
        else paths.reports_dir() / "screenshots" / f"desktop-linux-{release.version_text}.png"
    )
    result = desktop_smoke.smoke_test_linux(binary, release, target.resolve())
    say(result.version_output)
    say(f"screenshot: {result.screenshot}")


ns = Collection(build, smoke)
ns.configure(
    {
        "desktop": {
            "platforms": list(desktop.DEFAULT_PLATFORMS),
            "max_exe_mb": desktop.EXE_BUDGET_MB,
        }
    }
)
