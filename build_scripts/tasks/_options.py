"""The build options (release/options.py) from the invoke config, for every task that builds
through the release graph: `invoke release` and `invoke images.build` build with the same ones
unless a flag says otherwise, so neither undoes what the other made."""

from __future__ import annotations

from pathlib import Path

from build_scripts.release.options import BuildOptions


def absolute(value) -> str | None:
    """A path the user gave (flag or config), absolute: the steps run in the repository."""
    return str(Path(value).expanduser().resolve()) if value else None


def build_options(c, **flags) -> BuildOptions:
    """The options of the config; the flags given (not None) win."""
    images, desktop, installer = c.config.images, c.config.desktop, c.config.installer
    values = {
        "image_builder": images.builder,
        "image_bases": {kind: ref for kind, ref in dict(images.base).items() if ref},
        "image_budgets_mb": {k: float(v) for k, v in dict(images.budgets_mb).items()},
        "image_mirror": images.mirror,
        "image_source_url": images.source_url,
        "desktop_max_mb": float(desktop.max_exe_mb),
        "installer_script": absolute(installer.script),
        "installer_max_mb": float(installer.max_mb),
        "webview2_configured": absolute(installer.webview2_bootstrapper),
    }
    values.update({key: value for key, value in flags.items() if value is not None})
    return BuildOptions(**values)
