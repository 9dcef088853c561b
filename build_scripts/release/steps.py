"""The standard release steps: the release graph as data.

Each step names what it needs; `invoke release --only STEP` runs a step and its prerequisites.
The functions live in their concern's module; this file only wires them together.
"""

from __future__ import annotations

from build_scripts.core import artifacts
from build_scripts.core.artifacts import Artifact
from build_scripts.core.metadata import Release
from build_scripts.desktop import build as desktop
from build_scripts.images import build as images
from build_scripts.images import specs, transfer
from build_scripts.kube import manifests
from build_scripts.release.graph import Step
from build_scripts.services import build as services
from build_scripts.windows import installer, webview2
from build_scripts.windows.signing import SigningConfig


def _backend(release: Release) -> list[Artifact]:
    return [Artifact(services.build_backend(release), "static linux/amd64")]


def _orchestrator(release: Release) -> list[Artifact]:
    wheelhouse = services.build_orchestrator_wheelhouse(release)
    return [Artifact(services.orchestrator_wheel(wheelhouse), "wheel (+ pinned deps)")]


def _desktop(release: Release) -> list[Artifact]:
    return desktop.build(
        release, list(desktop.DEFAULT_PLATFORMS), signing_config=SigningConfig.from_env()
    )


def _installer(release: Release) -> list[Artifact]:
    return [
        installer.build_installer(
            release,
            app_exe=desktop.binary_path(release, "windows/amd64"),
            signing_config=SigningConfig.from_env(),
            webview2_bootstrapper=webview2.configured_bootstrapper(),
        )
    ]


def _images(release: Release) -> list[Artifact]:
    # The inputs come from the backend and orchestrator steps this step needs.
    built = images.build_images(release, specs.COMPONENTS, specs.Settings())
    archives = transfer.save_images(release, specs.COMPONENTS)
    return [
        Artifact(
            archive, f"docker load -i; {result.reference}, {result.size / artifacts.MB:.1f} MB"
        )
        for archive, result in zip(archives, built, strict=True)
    ]


def _manifests(release: Release) -> list[Artifact]:
    return [
        Artifact(manifests.write(release, environment), f"kubectl apply -f; {environment}")
        for environment in manifests.environments()
    ]


def standard_steps() -> list[Step]:
    return [
        Step("backend", "static Go backend binary", _backend),
        Step("orchestrator", "orchestrator wheel and its pinned dependencies", _orchestrator),
        Step(
            "images",
            "backend and orchestrator container images (hermetic, offline bases)",
            _images,
            needs=("backend", "orchestrator"),
        ),
        Step("manifests", "Kubernetes manifests for each deploy environment", _manifests),
        Step("desktop", "desktop app for Linux and Windows (wails build)", _desktop),
        Step("installer", "Windows installer (NSIS)", _installer, ("desktop",)),
    ]
