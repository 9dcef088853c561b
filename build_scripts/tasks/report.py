"""report: the release report page of an existing release."""

from __future__ import annotations

from invoke import Collection

from build_scripts.core import metadata
from build_scripts.core.errors import ConfigError, ReleaseError
from build_scripts.core.progress import say
from build_scripts.release import report as release_report
from build_scripts.release import steps as release_steps
from build_scripts.tasks._base import release_task


@release_task(
    default=True,
    help={"version": "the release to report on (default: the version this checkout builds)"},
)
def report(c, version=None):
    """Write reports/release-<version>.html: the run's timeline, artifacts, trends, SBOM."""
    current = metadata.current_release(version or c.config.release.version)
    if not current.dist_dir.is_dir():
        raise ConfigError(
            f"no release folder {current.dist_dir}",
            f"build it first: invoke release --version {current.version_text}",
        )
    try:
        path = release_report.write_report(current, release_steps.standard_steps())
    except OSError as error:
        raise ReleaseError(
            f"cannot write {release_report.report_path(current)}: {error.strerror or error}",
            "make reports/ writable, or set TRADERADMIN_REPORTS to a folder that is",
        ) from None
    say(f"report: {release_report.shown_path(path)}")


ns = Collection(report)
