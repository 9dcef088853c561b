"""installer: the Windows installer (NSIS), and its check inside a Wine prefix."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from invoke import Collection

from build_scripts.core import metadata, x11
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say
from build_scripts.desktop import build as desktop
from build_scripts.release import folder
from build_scripts.tasks._base import release_task
from build_scripts.windows import installer, installer_check, webview2
from build_scripts.windows.signing import SigningConfig


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
    with folder.written_outside_the_graph(release):
        artifact = installer.build_installer(
            release,
            app_exe=_optional_path(app_exe) or desktop.binary_path(release, "windows/amd64"),
            script=_optional_path(script or c.config.installer.script),
            webview2_bootstrapper=webview2.configured_bootstrapper(
                webview2_bootstrapper, c.config.installer.webview2_bootstrapper
            ),
            signing_config=SigningConfig.from_env(),
            max_mb=float(c.config.installer.max_mb),
        )
    say(f"{artifact.path} ({artifact.note})")


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
