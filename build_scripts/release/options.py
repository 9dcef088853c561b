"""What the tasks' flags and the invoke config change about how the release steps build.

`invoke images.build --builder classic`, `desktop.build`'s size budget, `installer.build
--script FILE`: each is an input of the steps it changes (a parameter of their fingerprint, in
steps.py), so a flag that changes what is built reruns the step, and `invoke release` after it
reruns it again with its own options. The options travel to the step's worker process as JSON
(scheduler.py writes them beside the release), so the worker builds exactly the steps the
task planned. Every field has a default: the defaults are what a plain `invoke release` uses.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from build_scripts.desktop.build import DEFAULT_PLATFORMS, EXE_BUDGET_MB
from build_scripts.windows.installer import INSTALLER_BUDGET_MB


@dataclass(frozen=True)
class BuildOptions:
    # images.*: as images/specs.Settings (the builder, the bases by kind, the budgets, the
    # Debian mirror of the local bases, org.opencontainers.image.source).
    image_builder: str = "auto"
    image_bases: dict[str, str] = field(default_factory=dict)
    image_budgets_mb: dict[str, float] = field(default_factory=dict)
    image_mirror: str | None = None
    image_source_url: str | None = None
    # desktop.*: platforms beyond the default ones get steps of their own (on request).
    desktop_platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    desktop_max_mb: float = EXE_BUDGET_MB
    # installer.*: another NSIS script; the WebView2 bootstrapper of the flag and of the config
    # (windows/webview2.py: the flag, then $TRADERADMIN_WEBVIEW2_BOOTSTRAPPER, then the
    # config); an exe of the user's own instead of the one the desktop-windows step builds.
    # Paths are absolute: the workers run in the repository, the task anywhere.
    installer_script: str | None = None
    installer_max_mb: float = INSTALLER_BUDGET_MB
    webview2_bootstrapper: str | None = None
    webview2_configured: str | None = None
    app_exe: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildOptions:
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if "desktop_platforms" in values:
            values["desktop_platforms"] = tuple(values["desktop_platforms"])
        return cls(**values)
