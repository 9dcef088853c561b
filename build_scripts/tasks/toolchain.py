"""bootstrap, doctor and version: the machine and the release identity."""

from __future__ import annotations

from invoke import Collection, Exit

from build_scripts.core import bootstrap as bootstrapping
from build_scripts.core import doctor as diagnosing
from build_scripts.core import metadata
from build_scripts.tasks._base import release_task


@release_task(
    help={
        "apt": "install missing apt packages (default: yes)",
        "docker": "start dockerd when no daemon answers (default: yes)",
    }
)
def bootstrap(c, apt=True, docker=True):
    """Install every tool the release needs (apt, Wails CLI, npm packages) and start dockerd."""
    bootstrapping.bootstrap(apt=apt, docker=docker)


@release_task(help={"tool": "check only these tools (repeatable)"}, iterable=["tool"])
def doctor(c, tool=None):
    """Show every external tool: found or missing, version, path, and how to install it."""
    rows = diagnosing.diagnose(tool or None)
    print(diagnosing.doctor_table(rows))
    missing = [r for r in rows if not r.found and not r.tool.built_by]
    if missing:
        for row in missing:
            print(f"missing: {row.tool.name} — install it with: {row.tool.install}")
        raise Exit(
            f"error: {len(missing)} tool(s) missing: "
            f"{', '.join(r.tool.name for r in missing)} — run: invoke bootstrap",
            code=3,
        )


@release_task(help={"version": "override the version (SemVer)"})
def version(c, version=None):
    """Print the release version this checkout builds (tag, release.toml or override)."""
    release = metadata.current_release(version or c.config.release.version)
    print(release.version_text)


ns = Collection(bootstrap, doctor, version)
