"""Software bills of materials in CycloneDX JSON, one per shipped thing.

- the Go backend and the desktop app: `cyclonedx-gomod mod` (their modules, from go.mod/go.sum);
- the orchestrator and its pinned dependencies: `cyclonedx-py requirements` on the lock file;
- each container image: read from the saved archive (what really ships) by image_sbom.py, from
  the dpkg, Python and Go records the build put into it.

The generators are installed on first use into ~/.cache/traderadmin (go install / a private
virtualenv from PyPI) and run offline afterwards: gomod reads the module cache, cyclonedx-py
the lock file.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata as package_metadata
from pathlib import Path

from build_scripts.core import atomic, cmd, locks, paths
from build_scripts.core.artifacts import Artifact, Kind
from build_scripts.core.metadata import Release
from build_scripts.images import specs
from build_scripts.release import image_sbom

GOMOD = ("cyclonedx-gomod", "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod", "v1.10.0")
# Bump when image_sbom.py changes what it writes: the image SBOM steps' fingerprint holds it.
IMAGE_SBOM_FORMAT = "1"
CYCLONEDX_BOM_VERSION = "7.5.0"
GO_MODULES = {"backend": "backend", "desktop": "desktop"}


def sbom_dir(release: Release) -> Path:
    return release.dist_dir / "sbom"


def go_sbom_paths(release: Release) -> list[Path]:
    return [sbom_dir(release) / f"{name}.cdx.json" for name in GO_MODULES]


def python_sbom_path(release: Release) -> Path:
    return sbom_dir(release) / "orchestrator.cdx.json"


def image_sbom_path(release: Release, component: str) -> Path:
    return sbom_dir(release) / f"image-{component}.cdx.json"


def ensure_go_tool(name: str, module: str, version: str) -> Path:
    """`go install module@version` into the engine's bin dir, once per version."""
    program = paths.bin_dir() / name
    stamp = paths.cache_dir() / "tools" / f"{name}-{version}.installed"
    # Steps that need the same tool may run side by side: without the lock a fresh machine
    # compiled it twice at once (seen with syft: two `go install` of minutes on two cores).
    with locks.waiting_lock(stamp.with_suffix(".lock"), f"another install of {name}"):
        if program.is_file() and stamp.is_file():
            return program
        cmd.run(
            ["go", "install", f"{module}@{version}"],
            step=f"install {name}",
            env={"GOBIN": str(paths.bin_dir()), "CGO_ENABLED": "0"},
            timeout=3600,
            hint="the Go module proxy must be reachable the first time",
        )
        atomic.write_text(stamp, f"{program}\n")
    return program


def ensure_cyclonedx_py() -> Path:
    """cyclonedx-bom in its own virtualenv (it pins libraries the engine must not share)."""
    venv = paths.cache_dir() / "tools" / f"cyclonedx-bom-{CYCLONEDX_BOM_VERSION}"
    program = venv / "bin" / "cyclonedx-py"
    with locks.waiting_lock(venv.with_suffix(".lock"), "another install of cyclonedx-py"):
        if program.is_file():
            return program
        cmd.run([sys.executable, "-m", "venv", "--clear", venv], step="install cyclonedx-py")
        cmd.run(
            [
                venv / "bin" / "python",
                "-m",
                "pip",
                "install",
                "-q",
                f"cyclonedx-bom=={CYCLONEDX_BOM_VERSION}",
            ],
            step="install cyclonedx-py",
            hint="PyPI must be reachable the first time",
        )
    return program


def go_sboms(release: Release) -> list[Artifact]:
    program = ensure_go_tool(*GOMOD)
    made = []
    for (name, folder), destination in zip(GO_MODULES.items(), go_sbom_paths(release), strict=True):
        with atomic.atomic_path(destination) as tmp:
            cmd.run(
                [
                    program,
                    "mod",
                    "-json",
                    "-licenses=false",
                    "-output",
                    tmp,
                    paths.repo_root() / folder,
                ],
                step=f"sbom {name}",
                env={
                    "GOFLAGS": "-mod=readonly",
                    "SOURCE_DATE_EPOCH": str(release.source_date_epoch),
                },
            )
        made.append(Artifact(destination, f"CycloneDX: Go modules of {name}", Kind.SBOM, name))
    return made


def python_sbom(release: Release) -> list[Artifact]:
    program = ensure_cyclonedx_py()
    orchestrator = paths.repo_root() / "orchestrator"
    destination = python_sbom_path(release)
    with atomic.atomic_path(destination) as tmp:
        cmd.run(
            [
                program,
                "requirements",
                "--pyproject",
                orchestrator / "pyproject.toml",
                "--of",
                "JSON",
                "--output-reproducible",
                "-o",
                tmp,
                orchestrator / "requirements.lock",
            ],
            step="sbom orchestrator",
        )
    note = "CycloneDX: orchestrator and its pinned dependencies"
    return [Artifact(destination, note, Kind.SBOM, "orchestrator")]


def image_sboms(release: Release, archives: dict[str, Path]) -> list[Artifact]:
    made = []
    for component, archive in archives.items():
        destination = image_sbom_path(release, component)
        bom = image_sbom.image_bom(
            archive,
            image=specs.image_name(release, component),
            version=release.version_text,
            source_date_epoch=release.source_date_epoch,
            tool_version=package_metadata.version("traderadmin-release"),
        )
        atomic.write_text(destination, json.dumps(bom, indent=2, sort_keys=True) + "\n")
        note = f"CycloneDX: image {component} ({len(bom['components'])} parts)"
        made.append(Artifact(destination, note, Kind.SBOM, f"image {component}"))
    return made
