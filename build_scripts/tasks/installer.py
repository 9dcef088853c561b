"""installer: the Windows installer (NSIS), and its check inside a Wine prefix."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from invoke import Collection

from build_scripts.core import metadata, x11
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say
from build_scripts.release import on_request
from build_scripts.tasks._base import release_task
from build_scripts.tasks._options import absolute, build_options
from build_scripts.windows import installer, installer_check, webview2


def _optional_path(value) -> Path | None:
    return Path(value).expanduser().resolve() if value else None


@release_task(
    help={
        "version": "override the release version (SemVer, e.g. 1.2.0)",
        "script": "the NSIS script (default: build_scripts/windows_installer.nsi)",
        "webview2-bootstrapper": "a MicrosoftEdgeWebview2Setup.exe to embed; the installer runs "
        "it when the WebView2 Runtime is missing (default: $TRADERADMIN_WEBVIEW2_BOOTSTRAPPER, "
        "then installer.webview2_bootstrapper)",
        "app-exe": "the TraderAdmin.exe to pack (default: the one desktop.build made)",
    }
)
def build(c, version=None, script=None, webview2_bootstrapper=None, app_exe=None):
    """Build the Windows installer dist/<version>/TraderAdmin_Setup_v<version>.exe (makensis)."""
    release = metadata.current_release(version or c.config.release.version)
    options = build_options(
        c,
        installer_script=absolute(script),
        webview2_bootstrapper=absolute(webview2_bootstrapper),
        app_exe=absolute(app_exe),
    )
    # A wrong bootstrapper path fails now, not after the desktop build.
    webview2.configured_bootstrapper(options.webview2_bootstrapper, options.webview2_configured)
    (entry,) = on_request.build_steps(
        release, ["installer"], options, jobs=int(c.config.release.jobs)
    )
    say(f"{entry.path} ({entry.note})")


@release_task(
    help={
        "version": "the release whose installer to check (default: this checkout's version)",
        "installer-file": "check this installer file instead",
    }
)
def check(c, version=None, installer_file=None):
    """Install silently in a fresh Wine prefix (Windows 10), check it, run the app, uninstall."""
    release = metadata.current_release(version or c.config.release.version)
    path = _optional_path(installer_file) or installer.installer_path(release)
    if not path.is_file():
        raise ReleaseError(f"{path} does not exist", "build it first: invoke installer.build")
    with contextlib.ExitStack() as stack:
        display = os.environ.get("DISPLAY") or stack.enter_context(x11.virtual_display())
        report = installer_check.check_in_wine(path, release, display=display)
    versions = sorted({r["version"] for r in report.selftests.values()})
    say(
        f"✓ {path.name}: installed into {report.install_dir}; files, shortcuts and registration "
        f"checked; started through {len(report.selftests)} shortcuts (self-test reports "
        f"{', '.join(versions)}); uninstalled without leftovers"
    )


ns = Collection(build, check)
ns.configure(
    {
        "installer": {
            "script": None,
            "webview2_bootstrapper": None,
            "max_mb": installer.INSTALLER_BUDGET_MB,
        }
    }
)
