"""The standard release steps: the release graph as data.

Each step names what it needs, what it reads (sources, tools, parameters) and what it writes;
`invoke release --only STEP` runs a step and its prerequisites. The functions live in their
concern's wing; this file only wires them together. The engine code a step runs is derived,
not listed (code_inputs.py): every module its function reaches and the data files those declare
in RELEASE_READS are among its sources, so a change to how something is built rebuilds it.
Steps list only the product's own sources (backend/, desktop/, a Dockerfile, …).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from build_scripts.bundle import names as bundle_names
from build_scripts.core import artifacts
from build_scripts.core.artifacts import Artifact, sha256_of
from build_scripts.core.metadata import Release, python_version
from build_scripts.desktop import build as desktop
from build_scripts.images import build as images
from build_scripts.images import specs, transfer
from build_scripts.kube import manifests
from build_scripts.release import bundle_step, code_inputs, sbom, state, windows_steps
from build_scripts.release.graph import Step
from build_scripts.release.inputs import Inputs
from build_scripts.services import build as services
from build_scripts.windows import installer, webview2
from build_scripts.windows.signing import ENV_CERT, ENV_KEY, ENV_TIMESTAMP_URL, SigningConfig

TESTS = ("*_test.go", "*/tests/*", "*/testdata/*")


def _backend(release: Release) -> list[Artifact]:
    return [Artifact(services.build_backend(release), "static linux/amd64")]


def _orchestrator(release: Release) -> list[Artifact]:
    wheelhouse = services.build_orchestrator_wheelhouse(release)
    return [Artifact(services.orchestrator_wheel(wheelhouse), "wheel (+ pinned deps)")]


def frontend_path(release: Release) -> Path:
    """The built front end: an intermediate, kept beside the step records, not in dist/."""
    return state.state_dir(release.dist_dir) / "frontend"


def _frontend(release: Release) -> list[Artifact]:
    desktop.build_frontend(release, frontend_path(release))
    return []


def _desktop(platform: str) -> Callable[[Release], list[Artifact]]:
    def produce(release: Release) -> list[Artifact]:
        return desktop.build(
            release,
            [platform],
            signing_config=SigningConfig.from_env(),
            frontend=frontend_path(release),
        )

    return produce


def _installer(release: Release) -> list[Artifact]:
    return [
        installer.build_installer(
            release,
            app_exe=desktop.binary_path(release, "windows/amd64"),
            signing_config=SigningConfig.from_env(),
            webview2_bootstrapper=webview2.configured_bootstrapper(),
        )
    ]


def _bootstrapper_identity() -> str:
    """The embedded WebView2 bootstrapper by content: another file reruns the installer step."""
    bootstrapper = webview2.configured_bootstrapper()
    return sha256_of(bootstrapper) if bootstrapper else "none"


def _image(name: str) -> Callable[[Release], list[Artifact]]:
    def produce(release: Release) -> list[Artifact]:
        # The inputs come from the backend or orchestrator step this step needs.
        with images.exclusive():
            # The --version check runs once, on the saved (normalized) image.
            (built,) = images.build_images(release, [name], specs.Settings(), smoke=False)
            (archive,) = transfer.save_images(release, [name])
        size = f"{built.size / artifacts.MB:.1f} MB"
        return [Artifact(archive, f"docker load -i; {built.reference}, {size}")]

    return produce


def image_id(release: Release, name: str) -> str:
    """The image id (config digest) inside the saved archive; '' if there is none."""
    ids = sorted(transfer.saved_image_ids(transfer.archive_path(release, name)))
    return ids[0] if len(ids) == 1 else ""


def _image_facts(name: str) -> Callable[[Release], dict]:
    def facts(release: Release) -> dict:
        tags = list(specs.image_tags(release, name))
        return {"images": {name: {"tags": tags, "id": image_id(release, name)}}}

    return facts


def _image_sbom(name: str) -> Callable[[Release], list[Artifact]]:
    def produce(release: Release) -> list[Artifact]:
        return sbom.image_sboms(release, {name: transfer.archive_path(release, name)})

    return produce


def _image_ids(release: Release) -> dict[str, str]:
    return {name: image_id(release, name) for name in specs.COMPONENTS}


def _manifests(release: Release) -> list[Artifact]:
    ids = _image_ids(release)
    return [
        Artifact(
            manifests.write(release, environment, image_ids=ids),
            f"kubectl apply -f; {environment}",
        )
        for environment in manifests.environments()
    ]


def _signing() -> str:
    """Who signs (certificate path and timestamp server), never a secret."""
    import os

    parts = [os.environ.get(k, "").strip() for k in (ENV_CERT, ENV_KEY, ENV_TIMESTAMP_URL)]
    return "|".join(parts) if any(parts) else "unsigned"


def _identity(release: Release) -> dict[str, object]:
    return {
        "version": release.version_text,
        "commit": release.commit,
        "product": release.product,
        "publisher": release.publisher,
        "copyright": release.copyright,
        "homepage": release.homepage,
        "source_date_epoch": release.source_date_epoch,
    }


def _image_step(name: str) -> Step:
    return Step(
        f"image-{name}",
        f"{name} container image (hermetic, offline base, reproducible archive)",
        _image(name),
        needs=(name,),
        inputs=Inputs(
            sources=(f"docker/{name}.Dockerfile",),
            tools=("docker",),
            params=lambda r: {**_identity(r), "image_prefix": r.image_prefix},
        ),
        outputs=lambda r: [transfer.archive_path(r, name)],
        facts=_image_facts(name),
        resource="docker build",
    )


def _image_sbom_step(name: str) -> Step:
    return Step(
        f"sbom-image-{name}",
        f"CycloneDX SBOM of the {name} image (from its dpkg, Python and Go records)",
        _image_sbom(name),
        needs=(f"image-{name}",),
        inputs=Inputs(
            params=lambda r: {"format": sbom.IMAGE_SBOM_FORMAT},
        ),
        outputs=lambda r: [sbom.image_sbom_path(r, name)],
    )


def _desktop_step(platform: str) -> Step:
    goos = platform.split("/")[0]
    return Step(
        f"desktop-{goos}",
        f"desktop app for {platform} (wails build, the shared front end embedded)",
        _desktop(platform),
        needs=("frontend",),
        inputs=Inputs(
            sources=("desktop",),
            exclude=(*TESTS, "desktop/tools/*", "desktop/frontend/*"),
            tools=("go", "wails"),
            params=lambda r: {
                **_identity(r),
                "ldflags": desktop.ldflags(r),
                "platform": platform,
                "signing": _signing() if goos == "windows" else "unsigned",
            },
        ),
        outputs=lambda r: [desktop.binary_path(r, platform)],
    )


# Not followed when deriving code inputs: the graph itself (the bundle lists the step names).
NOT_CODE = frozenset({"standard_steps"})


def with_code_inputs(step: Step) -> Step:
    """The step with the engine code its function runs among its inputs (code_inputs.py): every
    module it reaches and the data files those declare, and the source of steps.py's helpers it
    runs as the parameter `wiring`."""
    sources = code_inputs.code_sources(step.produce, __name__, skip=NOT_CODE)
    wiring = code_inputs.wiring_digest(step.produce, __name__, skip=NOT_CODE)
    params = step.inputs.params

    def with_wiring(release: Release) -> dict[str, object]:
        return {**(params(release) if params else {}), "wiring": wiring}

    inputs = dataclasses.replace(
        step.inputs,
        sources=(*step.inputs.sources, *sources),
        params=with_wiring if wiring else params,
    )
    return dataclasses.replace(step, inputs=inputs)


def standard_steps() -> list[Step]:
    return [with_code_inputs(step) for step in _declared_steps()]


def _declared_steps() -> list[Step]:
    return [
        Step(
            "backend",
            "static Go backend binary",
            _backend,
            inputs=Inputs(
                sources=("backend",),
                exclude=TESTS,
                tools=("go",),
                params=lambda r: {"ldflags": services.backend_ldflags(r), "target": "linux/amd64"},
            ),
            outputs=lambda r: [services.backend_binary_path(r)],
        ),
        Step(
            "orchestrator",
            "orchestrator wheel and its pinned dependencies",
            _orchestrator,
            inputs=Inputs(
                sources=("orchestrator",),
                exclude=TESTS,
                tools=("python", "pip"),
                params=lambda r: {
                    "version": python_version(r),
                    "source_date_epoch": r.source_date_epoch,
                },
            ),
            outputs=lambda r: [services.wheelhouse_path(r)],
        ),
        *(_image_step(name) for name in specs.COMPONENTS),
        Step(
            "manifests",
            "Kubernetes manifests for each deploy environment (image ids annotated)",
            _manifests,
            needs=tuple(f"image-{name}" for name in specs.COMPONENTS),
            inputs=Inputs(
                params=lambda r: {
                    "image_prefix": r.image_prefix,
                    "tag": r.image_tag,
                    "image_ids": ",".join(f"{k}={v}" for k, v in _image_ids(r).items()),
                },
            ),
            outputs=lambda r: [
                manifests.manifests_path(r, env) for env in manifests.environments()
            ],
        ),
        Step(
            "frontend",
            "desktop front end for every platform (Go bindings, Vite bundle)",
            _frontend,
            inputs=Inputs(
                sources=("desktop",),
                exclude=(*TESTS, "desktop/tools/*", "desktop/build/*", "desktop/README.md"),
                tools=("go", "wails", "node", "npm"),
            ),
            outputs=lambda r: [frontend_path(r)],
        ),
        *(_desktop_step(platform) for platform in desktop.DEFAULT_PLATFORMS),
        Step(
            "installer",
            "Windows installer (NSIS)",
            _installer,
            needs=("desktop-windows",),
            inputs=Inputs(
                tools=("makensis",),
                params=lambda r: {
                    **_identity(r),
                    "uninstall_key": r.windows_uninstall_key,
                    "signing": _signing(),
                    "webview2_bootstrapper": _bootstrapper_identity(),
                },
            ),
            outputs=lambda r: [installer.installer_path(r)],
        ),
        *windows_steps.steps(_identity, _signing),
        Step(
            "sbom-go",
            "CycloneDX SBOMs of the Go backend and desktop app (cyclonedx-gomod)",
            sbom.go_sboms,
            inputs=Inputs(
                sources=(
                    "backend/go.mod",
                    "backend/go.sum",
                    "desktop/go.mod",
                    "desktop/go.sum",
                ),
                tools=("go",),
                params=lambda r: {"generator": sbom.GOMOD[2]},
            ),
            outputs=sbom.go_sbom_paths,
        ),
        Step(
            "sbom-orchestrator",
            "CycloneDX SBOM of the orchestrator and its pinned dependencies (cyclonedx-py)",
            sbom.python_sbom,
            inputs=Inputs(
                sources=(
                    "orchestrator/pyproject.toml",
                    "orchestrator/requirements.lock",
                ),
                params=lambda r: {"generator": sbom.CYCLONEDX_BOM_VERSION},
            ),
            outputs=lambda r: [sbom.python_sbom_path(r)],
        ),
        *(_image_sbom_step(name) for name in specs.COMPONENTS),
        Step(
            "bundle",
            "air-gapped bundle: installers, desktop, OCI images, pinned manifests, SBOMs, signed",
            lambda r: bundle_step.make(r, [s.name for s in standard_steps()]),
            needs=(
                "desktop-linux",
                "desktop-windows",
                "installer",
                "msi",
                "winget",
                "deployment",
                *(f"image-{name}" for name in specs.COMPONENTS),
                "sbom-go",
                "sbom-orchestrator",
                *(f"sbom-image-{name}" for name in specs.COMPONENTS),
            ),
            inputs=Inputs(
                tools=("skopeo", "gpg"),
                params=lambda r: {**_identity(r), "signing": bundle_step.signing()},
            ),
            outputs=lambda r: [bundle_names.bundle_path(r)],
            facts=bundle_step.facts,
            # A second copy of every image (about 40 MB): made when asked for (`invoke bundle`,
            # `invoke release --bundle`), so a changed source rebuilds only what it feeds.
            by_default=False,
        ),
    ]
