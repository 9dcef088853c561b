"""The standard release steps: the release graph as data.

Each step names what it needs, what it reads (sources, tools, parameters) and what it writes;
`invoke release --only STEP` runs a step and its prerequisites. The functions live in their
concern's wing; this file only wires them together. The engine code a step runs is derived,
not listed (code_inputs.py): every module its function reaches and the data files those declare
in RELEASE_READS are among its sources, so a change to how something is built rebuilds it.
Steps list only the product's own sources (backend/, desktop/, a Dockerfile, …).

The tasks that build one artifact (`images.build`, `desktop.build`, `installer.build`) run
these same steps, made with the options their flags give (options.py); a flag that changes
what a step builds is a parameter of that step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from build_scripts.bundle import names as bundle_names
from build_scripts.core import artifacts
from build_scripts.core.artifacts import Artifact, Kind, select
from build_scripts.core.metadata import Release, python_version
from build_scripts.desktop import build as desktop
from build_scripts.images import build as images
from build_scripts.images import specs, transfer
from build_scripts.kube import manifests
from build_scripts.release import (
    bundle_step,
    code_inputs,
    made,
    sbom,
    state,
    step_inputs,
    update_feed_step,
    windows_steps,
)
from build_scripts.release.graph import Step
from build_scripts.release.inputs import Inputs
from build_scripts.release.options import BuildOptions
from build_scripts.services import build as services
from build_scripts.ship.environment import environments, load_values
from build_scripts.updates import keys as update_keys
from build_scripts.windows import installer, webview2
from build_scripts.windows.signing import SigningConfig

TESTS = ("*_test.go", "*/tests/*", "*/testdata/*")


def _backend(release: Release) -> list[Artifact]:
    binary = services.build_backend(release)
    return [Artifact(binary, "static linux/amd64", Kind.BINARY, "backend")]


def _orchestrator(release: Release) -> list[Artifact]:
    wheel = services.orchestrator_wheel(services.build_orchestrator_wheelhouse(release))
    return [Artifact(wheel, "wheel (+ pinned deps)", Kind.WHEEL, "orchestrator")]


def frontend_path(release: Release) -> Path:
    """The built front end: an intermediate, kept beside the step records, not in dist/."""
    return state.state_dir(release.dist_dir) / "frontend"


def _frontend(release: Release) -> list[Artifact]:
    desktop.build_frontend(release, frontend_path(release))
    return []


def _desktop(platform: str, options: BuildOptions) -> Callable[[Release], list[Artifact]]:
    def produce(release: Release) -> list[Artifact]:
        return desktop.build(
            release,
            [platform],
            signing_config=SigningConfig.from_env(),
            max_mb=options.desktop_max_mb,
            frontend=frontend_path(release),
            update_public_key=update_keys.public_key_or_empty(),
        )

    return produce


def _optional(path: str | None) -> Path | None:
    return Path(path) if path else None


def _app_exe(release: Release, options: BuildOptions) -> Path:
    """The exe the installer packs: the user's own (`installer.build --app-exe`), else the
    one the desktop-windows step built."""
    if options.app_exe:
        return Path(options.app_exe)
    return made.one(release, ["desktop-windows"], Kind.BINARY, "windows/amd64").path


def _installer(options: BuildOptions) -> Callable[[Release], list[Artifact]]:
    def produce(release: Release) -> list[Artifact]:
        return [
            installer.build_installer(
                release,
                app_exe=_app_exe(release, options),
                script=_optional(options.installer_script),
                signing_config=SigningConfig.from_env(),
                webview2_bootstrapper=webview2.configured_bootstrapper(
                    options.webview2_bootstrapper, options.webview2_configured
                ),
                max_mb=options.installer_max_mb,
            )
        ]

    return produce


def _image(name: str, settings: specs.Settings) -> Callable[[Release], list[Artifact]]:
    def produce(release: Release) -> list[Artifact]:
        # The inputs come from the backend or orchestrator step this step needs.
        with images.exclusive():
            # The --version check runs once, on the saved (normalized) image.
            (built,) = images.build_images(release, [name], settings, smoke=False)
            (archive,) = transfer.save_images(release, [name])
        size = f"{built.size / artifacts.MB:.1f} MB"
        note = f"docker load -i; {built.reference}, {size}"
        return [Artifact(archive, note, Kind.IMAGE_ARCHIVE, name)]

    return produce


def archive_id(archive: Path) -> str:
    """The image id (config digest) inside a saved archive; '' if there is none."""
    ids = sorted(transfer.saved_image_ids(archive))
    return ids[0] if len(ids) == 1 else ""


def image_id(release: Release, name: str) -> str:
    """The image id in the archive the image step writes (its own output)."""
    return archive_id(transfer.archive_path(release, name))


def _image_facts(name: str, settings: specs.Settings) -> Callable[[Release], dict]:
    def facts(release: Release) -> dict:
        tags = list(specs.image_tags(release, name))
        bases = images.base_image_ids(release, name, settings)
        return {"images": {name: {"tags": tags, "id": image_id(release, name), "bases": bases}}}

    return facts


def _image_sbom(name: str) -> Callable[[Release], list[Artifact]]:
    def produce(release: Release) -> list[Artifact]:
        archive = made.one(release, [f"image-{name}"], Kind.IMAGE_ARCHIVE, name)
        return sbom.image_sboms(release, {name: archive.path})

    return produce


IMAGE_STEPS = tuple(f"image-{name}" for name in specs.IMAGES)


def _image_ids(release: Release) -> dict[str, str]:
    """Component -> the id of the image its step saved ('' before it has)."""
    archives = select(made.made_by(release, IMAGE_STEPS), Kind.IMAGE_ARCHIVE)
    return {name: "" for name in specs.IMAGES} | {a.of: archive_id(a.path) for a in archives}


def _manifests(release: Release) -> list[Artifact]:
    ids = _image_ids(release)
    return [
        Artifact(
            manifests.write_rendered(release, env, load_values(env), image_ids=ids).path,
            f"kubectl apply -f; {env}",
            Kind.MANIFEST,
            env,
        )
        for env in environments()
    ]


def _image_step(name: str, options: BuildOptions) -> Step:
    settings = step_inputs.image_settings(options)
    chosen = {
        "builder": settings.builder,
        "bases": ",".join(f"{k}={v}" for k, v in sorted(settings.bases.items())) or "local",
        "source_url": settings.source_url or "homepage",
        "budget_mb": settings.budget(specs.component(name)),
    }
    return Step(
        f"image-{name}",
        f"{name} container image (hermetic, offline base, reproducible archive)",
        _image(name, settings),
        needs=(name,),
        inputs=Inputs(
            sources=(f"docker/{name}.Dockerfile",),
            tools=("docker",),
            params=lambda r: {**step_inputs.identity(r), "image_prefix": r.image_prefix, **chosen},
        ),
        outputs=lambda r: [transfer.archive_path(r, name)],
        facts=_image_facts(name, settings),
        resource="docker build",
        outside=step_inputs.image_in_docker(name),
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


def _desktop_step(platform: str, options: BuildOptions) -> Step:
    goos = platform.split("/")[0]
    return Step(
        step_inputs.desktop_step_name(platform),
        f"desktop app for {platform} (wails build, the shared front end embedded)",
        _desktop(platform, options),
        needs=("frontend",),
        inputs=Inputs(
            sources=("desktop",),
            exclude=(*TESTS, "desktop/tools/*", "desktop/frontend/*"),
            tools=("go", "wails"),
            params=lambda r: {
                **step_inputs.identity(r),
                # The update key's public half is in the flags: a new key rebuilds the app.
                "ldflags": desktop.ldflags(r, update_keys.public_key_or_empty()),
                "platform": platform,
                "signing": step_inputs.signing() if goos == "windows" else "unsigned",
                "budget_mb": options.desktop_max_mb,
            },
        ),
        outputs=step_inputs.desktop_outputs(platform),
        by_default=platform in desktop.DEFAULT_PLATFORMS,
    )


# What the bundle packs: it selects their artifacts by kind (bundle_step.py).
BUNDLED = (
    "desktop-linux",
    "desktop-windows",
    "installer",
    "msi",
    "winget",
    "deployment",
    *IMAGE_STEPS,
    "sbom-go",
    "sbom-orchestrator",
    *(f"sbom-image-{name}" for name in specs.IMAGES),
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


def standard_steps(options: BuildOptions | None = None) -> list[Step]:
    """The release graph; options: what a task's flags and the config change (the defaults
    are a plain `invoke release`'s)."""
    return [with_code_inputs(step) for step in _declared_steps(options or BuildOptions())]


def _declared_steps(options: BuildOptions) -> list[Step]:
    extra_platforms = [p for p in options.desktop_platforms if p not in desktop.DEFAULT_PLATFORMS]
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
        *(_image_step(name, options) for name in specs.IMAGES),
        Step(
            "manifests",
            "Kubernetes manifests for each deploy environment (image ids annotated)",
            _manifests,
            needs=tuple(f"image-{name}" for name in specs.IMAGES),
            inputs=Inputs(
                params=lambda r: {
                    "image_prefix": r.image_prefix,
                    "tag": r.image_tag,
                    "image_ids": ",".join(f"{k}={v}" for k, v in _image_ids(r).items()),
                },
            ),
            outputs=lambda r: [manifests.manifests_path(r, env) for env in environments()],
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
        *(_desktop_step(p, options) for p in (*desktop.DEFAULT_PLATFORMS, *extra_platforms)),
        Step(
            "installer",
            "Windows installer (NSIS)",
            _installer(options),
            # An exe of the user's own (`installer.build --app-exe`) needs no desktop build.
            needs=() if options.app_exe else ("desktop-windows",),
            inputs=Inputs(tools=("makensis",), params=step_inputs.installer_params(options)),
            outputs=lambda r: [installer.installer_path(r)],
        ),
        *windows_steps.steps(),
        update_feed_step.step(),
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
        *(_image_sbom_step(name) for name in specs.IMAGES),
        Step(
            "bundle",
            "air-gapped bundle: installers, desktop, OCI images, pinned manifests, SBOMs, signed",
            lambda r: bundle_step.make(r, [s.name for s in standard_steps()], BUNDLED),
            needs=BUNDLED,
            inputs=Inputs(
                tools=("skopeo", "gpg"),
                params=lambda r: {**step_inputs.identity(r), "signing": bundle_step.signing()},
            ),
            outputs=lambda r: [bundle_names.bundle_path(r)],
            facts=bundle_step.facts,
            # A second copy of every image (about 40 MB): made when asked for (`invoke bundle`,
            # `invoke release --bundle`), so a changed source rebuilds only what it feeds.
            by_default=False,
        ),
    ]
