"""Which WebView2 bootstrapper (Microsoft's MicrosoftEdgeWebview2Setup.exe) an installer embeds.

Release builds embed it only when asked: TRADERADMIN_WEBVIEW2_BOOTSTRAPPER (for every build,
`invoke release` included), or for `invoke installer.build` its --webview2-bootstrapper option or
the installer.webview2_bootstrapper setting. Without one, a silent install on a machine without
the runtime stops with exit code 16, so the release summary says which kind it built.
"""

from __future__ import annotations

import os
from pathlib import Path

from build_scripts.core.errors import ConfigError

ENV_BOOTSTRAPPER = "TRADERADMIN_WEBVIEW2_BOOTSTRAPPER"


def configured_bootstrapper(
    explicit: str | os.PathLike | None = None, configured: str | os.PathLike | None = None
) -> Path | None:
    """The bootstrapper to embed: an explicit option, else the variable, else the setting."""
    value = explicit or os.environ.get(ENV_BOOTSTRAPPER) or configured
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        source = "--webview2-bootstrapper" if explicit else ENV_BOOTSTRAPPER
        if not explicit and not os.environ.get(ENV_BOOTSTRAPPER):
            source = "installer.webview2_bootstrapper"
        raise ConfigError(
            f"{source} names {path}, which does not exist",
            "download MicrosoftEdgeWebview2Setup.exe from Microsoft or unset it",
        )
    return path


def note(bootstrapper: Path | None) -> str:
    """How the release summary describes the installer's WebView2 handling."""
    return "WebView2 bootstrapper embedded" if bootstrapper else "no WebView2 bootstrapper"
