"""What the release graph reads about the standard steps (steps.py), never what they run:
their parameters (identity, signing, the task's options), where a step's files go, and what
an image step left in Docker. Kept apart so steps.py holds the wiring the steps run (whose
source is part of their fingerprint, code_inputs.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from build_scripts.core.artifacts import sha256_of
from build_scripts.core.metadata import Release
from build_scripts.desktop import build as desktop
from build_scripts.desktop import macos
from build_scripts.images import build as images
from build_scripts.images import specs
from build_scripts.release.options import BuildOptions
from build_scripts.windows import webview2
from build_scripts.windows.signing import ENV_CERT, ENV_KEY, ENV_TIMESTAMP_URL


def bootstrapper(options: BuildOptions) -> Path | None:
    """The WebView2 bootstrapper: the task's flag, else the environment, else the config."""
    return webview2.configured_bootstrapper(
        options.webview2_bootstrapper, options.webview2_configured
    )


def content(path: Path | None) -> str:
    """A file given by the user, by content: another file reruns the step."""
    if path is None:
        return "none"
    return sha256_of(path) if path.is_file() else f"missing {path}"


def installer_params(options: BuildOptions) -> Callable[[Release], dict[str, object]]:
    def params(release: Release) -> dict[str, object]:
        found: dict[str, object] = {
            **identity(release),
            "uninstall_key": release.windows_uninstall_key,
            "signing": signing(),
            "webview2_bootstrapper": content(bootstrapper(options)),
            "budget_mb": options.installer_max_mb,
        }
        # The default script is an input of its own (windows/installer.py's RELEASE_READS),
        # and the default exe an output of desktop-windows: only the user's are parameters.
        if options.installer_script:
            found["script"] = content(Path(options.installer_script))
        if options.app_exe:
            found["app_exe"] = content(Path(options.app_exe))
        return found

    return params


def image_settings(options: BuildOptions) -> specs.Settings:
    return specs.Settings(
        builder=options.image_builder,
        bases=dict(options.image_bases),
        budgets_mb=dict(options.image_budgets_mb),
        mirror=options.image_mirror,
        source_url=options.image_source_url,
    )


def image_in_docker(name: str) -> Callable[[Release, dict], str]:
    """The image step's outputs outside the folder: its tags in Docker, on the same bases."""

    def check(release: Release, facts: dict) -> str:
        made = facts.get("images", {}).get(name, {})
        return images.changed_in_docker(release, name, made.get("id", ""), made.get("bases", {}))

    return check


def signing() -> str:
    """Who signs (certificate path and timestamp server), never a secret."""
    parts = [os.environ.get(k, "").strip() for k in (ENV_CERT, ENV_KEY, ENV_TIMESTAMP_URL)]
    return "|".join(parts) if any(parts) else "unsigned"


def identity(release: Release) -> dict[str, object]:
    return {
        "version": release.version_text,
        "commit": release.commit,
        "product": release.product,
        "publisher": release.publisher,
        "copyright": release.copyright,
        "homepage": release.homepage,
        "source_date_epoch": release.source_date_epoch,
    }


def desktop_step_name(platform: str) -> str:
    """desktop-linux, desktop-windows (the default platforms); desktop-<os>-<arch> for the
    others, which are steps only when a task asks for them (`desktop.build --platform`)."""
    goos, arch = platform.split("/")
    return f"desktop-{goos}" if platform in desktop.DEFAULT_PLATFORMS else f"desktop-{goos}-{arch}"


def desktop_outputs(platform: str) -> Callable[[Release], list[Path]]:
    if platform.startswith("darwin/"):
        return lambda r: [macos.app_path(r, platform), macos.zip_path(r, platform)]
    return lambda r: [desktop.binary_path(r, platform)]
