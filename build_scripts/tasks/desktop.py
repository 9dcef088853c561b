"""desktop: production builds of the Wails app, and a look at the Linux build running."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from build_scripts.core import metadata, paths
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say
from build_scripts.desktop import build as desktop
from build_scripts.desktop import smoke as desktop_smoke
from build_scripts.release import folder, summary
from build_scripts.tasks._base import release_task
from build_scripts.updates import keys as update_keys
from build_scripts.windows.signing import SigningConfig


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
    with folder.written_outside_the_graph(release):
        artifacts = desktop.build(
            release,
            platforms,
            signing_config=SigningConfig.from_env(),
            max_mb=float(c.config.desktop.max_exe_mb),
            # The update feed's key, as the release builds it ($TRADERADMIN_UPDATE_KEY).
            update_public_key=update_keys.public_key_or_empty(),
        )
    say("")
    say(summary.table(artifacts, release.dist_dir))


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
