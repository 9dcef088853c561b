"""The standard release steps: the release graph as data.

Each step names what it needs, what it reads (sources, tools, parameters) and what it writes;
`invoke release --only STEP` runs a step and its prerequisites. The functions live in their
concern's wing; this file only wires them together. A step's sources include the engine code
that builds it, so a change to how something is built rebuilds it.
"""

from __future__ import annotations

from build_scripts.bundle import make as bundle
from build_scripts.bundle import names as bundle_names
from build_scripts.bundle import signing as bundle_signing
from build_scripts.core import artifacts, paths
from build_scripts.core.artifacts import Artifact, sha256_of
from build_scripts.core.components import image_name
from build_scripts.core.metadata import Release, python_version
from build_scripts.desktop import build as desktop
from build_scripts.images import build as images
from build_scripts.images import specs, transfer
from build_scripts.kube import manifests
from build_scripts.release import folder, provenance, sbom, state
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


def _bootstrapper_identity() -> str:
    """The embedded WebView2 bootstrapper by content: another file reruns the installer step."""
    bootstrapper = webview2.configured_bootstrapper()
    return sha256_of(bootstrapper) if bootstrapper else "none"


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


def _image_facts(release: Release) -> dict:
    """The image ids (config digests) inside the saved archives, with their tags."""
    found = {}
    for name in specs.COMPONENTS:
        ids = sorted(transfer.saved_image_ids(transfer.archive_path(release, name)))
        found[name] = {"tags": list(specs.image_tags(release, name)), "id": ids[0] if ids else ""}
    return {"images": found}


def _image_sboms(release: Release) -> list[Artifact]:
    archives = {name: transfer.archive_path(release, name) for name in specs.COMPONENTS}
    return sbom.image_sboms(release, archives)


def _manifests(release: Release) -> list[Artifact]:
    return [
        Artifact(manifests.write(release, environment), f"kubectl apply -f; {environment}")
        for environment in manifests.environments()
    ]


def _bundle_plan(release: Release) -> bundle.Plan:
    """The release's files that go into the bundle, and its images' saved archives."""
    files = {release.installer_name: installer.installer_path(release)}
    for platform in desktop.DEFAULT_PLATFORMS:
        path = desktop.binary_path(release, platform)
        files[path.relative_to(release.dist_dir).as_posix()] = path
    for path in sorted(sbom.sbom_dir(release).glob(f"*{folder.SBOM_SUFFIX}")):
        files[path.relative_to(release.dist_dir).as_posix()] = path
    images_in = [
        bundle.Image(
            name, image_name(release, name), release.image_tag, transfer.archive_path(release, name)
        )
        for name in specs.COMPONENTS
    ]
    return bundle.Plan(files, images_in, manifests.environments())


def _recorded_tools(release: Release) -> dict[str, str]:
    """The tool versions the steps before the bundle recorded (for its provenance)."""
    found = {}
    for step in standard_steps():
        record = state.load_record(release.dist_dir, step.name)
        for key, value in (record.inputs if record else {}).items():
            if key.startswith("tool:"):
                found[key.removeprefix("tool:")] = value
    return found


def _bundle(release: Release) -> list[Artifact]:
    tools = _recorded_tools(release)
    dirty = folder.is_dirty(paths.repo_root())
    return [
        bundle.make_bundle(
            release,
            _bundle_plan(release),
            signer=bundle_signing.Signer.from_env(),
            provenance=lambda subjects: provenance.statement(release, subjects, tools, dirty=dirty),
        )
    ]


def _bundle_signing() -> str:
    """Which key signs the bundle (its file and content digest), never the key itself."""
    signer = bundle_signing.Signer.from_env()
    return f"{signer.key_file}|{sha256_of(signer.key_file)}" if signer else "unsigned"


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


def standard_steps() -> list[Step]:
    return [
        Step(
            "backend",
            "static Go backend binary",
            _backend,
            inputs=Inputs(
                sources=("backend", "build_scripts/services/build.py"),
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
                sources=("orchestrator", "build_scripts/services/build.py"),
                exclude=TESTS,
                tools=("python", "pip"),
                params=lambda r: {
                    "version": python_version(r),
                    "source_date_epoch": r.source_date_epoch,
                },
            ),
            outputs=lambda r: [services.wheelhouse_path(r)],
        ),
        Step(
            "images",
            "backend and orchestrator container images (hermetic, offline bases)",
            _images,
            needs=("backend", "orchestrator"),
            inputs=Inputs(
                sources=("docker", "build_scripts/images", "build_scripts/core/components.py"),
                tools=("docker",),
                params=lambda r: {**_identity(r), "image_prefix": r.image_prefix},
            ),
            outputs=lambda r: [transfer.archive_path(r, name) for name in specs.COMPONENTS],
            facts=_image_facts,
        ),
        Step(
            "manifests",
            "Kubernetes manifests for each deploy environment",
            _manifests,
            inputs=Inputs(
                sources=(
                    "deploy",
                    "build_scripts/kube/manifests.py",
                    "build_scripts/core/components.py",
                ),
                params=lambda r: {"image_prefix": r.image_prefix, "tag": r.image_tag},
            ),
            outputs=lambda r: [
                manifests.manifests_path(r, env) for env in manifests.environments()
            ],
        ),
        Step(
            "desktop",
            "desktop app for Linux and Windows (wails build)",
            _desktop,
            inputs=Inputs(
                sources=("desktop", "build_scripts/desktop", "build_scripts/windows"),
                exclude=(*TESTS, "desktop/tools/*", "build_scripts/windows/installer.py"),
                tools=("go", "wails", "node", "npm"),
                params=lambda r: {
                    **_identity(r),
                    "ldflags": desktop.ldflags(r),
                    "platforms": ",".join(desktop.DEFAULT_PLATFORMS),
                    "signing": _signing(),
                },
            ),
            outputs=lambda r: [desktop.binary_path(r, p) for p in desktop.DEFAULT_PLATFORMS],
        ),
        Step(
            "installer",
            "Windows installer (NSIS)",
            _installer,
            needs=("desktop",),
            inputs=Inputs(
                sources=(
                    "LICENSE.txt",
                    "README.md",
                    "desktop/config.toml.example",
                    "build_scripts/windows_installer.nsi",
                    "build_scripts/windows",
                ),
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
                    "build_scripts/release/sbom.py",
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
                    "build_scripts/release/sbom.py",
                ),
                params=lambda r: {"generator": sbom.CYCLONEDX_BOM_VERSION},
            ),
            outputs=lambda r: [sbom.python_sbom_path(r)],
        ),
        Step(
            "sbom-images",
            "CycloneDX SBOMs of the container images (syft)",
            _image_sboms,
            needs=("images",),
            inputs=Inputs(
                sources=("build_scripts/release/sbom.py",),
                params=lambda r: {"generator": sbom.SYFT[2]},
            ),
            outputs=lambda r: [sbom.image_sbom_path(r, name) for name in specs.COMPONENTS],
        ),
        Step(
            "bundle",
            "air-gapped bundle: installer, desktop, OCI images, pinned manifests, SBOMs, signed",
            _bundle,
            needs=("desktop", "installer", "images", "sbom-go", "sbom-orchestrator", "sbom-images"),
            inputs=Inputs(
                sources=(
                    "build_scripts/bundle",
                    "deploy",
                    "build_scripts/kube/manifests.py",
                    "build_scripts/release/provenance.py",
                ),
                tools=("skopeo", "gpg"),
                params=lambda r: {**_identity(r), "signing": _bundle_signing()},
            ),
            outputs=lambda r: [bundle_names.bundle_path(r)],
            facts=bundle.facts,
        ),
    ]
