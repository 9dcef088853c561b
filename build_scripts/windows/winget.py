"""The winget manifests of a release: dist/<version>/winget/, a version, an installer and a
default-locale manifest (the multi-file form winget-pkgs takes and `winget install --manifest`
reads), pointing at the MSI and the NSIS installer by the download URL of release.toml and the
SHA-256 of the files in the release folder. Rendered from templates/winget/*.yaml.j2 and
validated offline against the schemas vendored in winget_schemas/ (see its SOURCE).
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jsonschema
import yaml

from build_scripts.core import atomic
from build_scripts.core.artifacts import Artifact, Kind, sha256_of
from build_scripts.core.errors import VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.windows import distribution, installer, msi

SCHEMA_VERSION = "1.28.0"
SCHEMAS = Path(__file__).parent / "winget_schemas" / SCHEMA_VERSION
TEMPLATES = Path(__file__).parent / "templates" / "winget"
RELEASE_READS = (
    "build_scripts/windows/templates/winget",
    "build_scripts/windows/winget_schemas",
)
LOCALE = "en-US"
KINDS = ("version", "installer", "defaultLocale")
FOLDER = "winget"
# The NSIS installer per scope, and its exit codes winget can explain (README's table).
NSIS_SCOPES = (("machine", "/ALLUSERS"), ("user", "/CURRENTUSER"))
NSIS_RETURN_CODES = (
    (10, "systemNotSupported"),
    (11, "systemNotSupported"),
    (12, "packageInUseByApplication"),
    (16, "missingDependency"),
    (20, "blockedByPolicy"),
)


def package_identifier(release: Release) -> str:
    """Publisher.Package, as winget-pkgs names packages: TraderAdminProject.TraderAdmin."""
    return f"{re.sub(r'[^A-Za-z0-9]', '', release.publisher)}.{release.product}"


def manifest_paths(release: Release, root: Path | None = None) -> dict[str, Path]:
    folder = (root if root is not None else release.dist_dir) / FOLDER
    identifier = package_identifier(release)
    return {
        "version": folder / f"{identifier}.yaml",
        "installer": folder / f"{identifier}.installer.yaml",
        "defaultLocale": folder / f"{identifier}.locale.{LOCALE}.yaml",
    }


@dataclass(frozen=True)
class Installers:
    """The two files the manifests name, as they are in the release folder."""

    msi: Path
    nsis: Path


def render_manifests(
    release: Release, files: Installers, settings: distribution.Distribution
) -> dict[str, str]:
    """Manifest kind -> YAML text."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    found = msi.properties(files.msi)
    values = {
        "schema_version": SCHEMA_VERSION,
        "identifier": package_identifier(release),
        "version": release.version_text,
        "locale": LOCALE,
        "product": release.product,
        "publisher": release.publisher,
        "homepage": release.homepage,
        "copyright": release.copyright,
        "description": release.description,
        "license": "MIT",
        "moniker": release.product.lower(),
        "release_date": datetime.datetime.fromtimestamp(release.source_date_epoch, datetime.UTC)
        .date()
        .isoformat(),
        "msi": {
            "url": settings.url_of(release, files.msi.name),
            "sha256": sha256_of(files.msi),
            "product_code": found["ProductCode"],
            "upgrade_code": found["UpgradeCode"],
            "display_version": found["ProductVersion"],
        },
        "nsis": {
            "url": settings.url_of(release, files.nsis.name),
            "sha256": sha256_of(files.nsis),
            "scopes": NSIS_SCOPES,
            "return_codes": NSIS_RETURN_CODES,
            "uninstall_key": release.windows_uninstall_key,
        },
    }
    return {kind: environment.get_template(f"{kind}.yaml.j2").render(**values) for kind in KINDS}


def schema(kind: str) -> dict:
    return json.loads((SCHEMAS / f"manifest.{kind}.{SCHEMA_VERSION}.json").read_text("utf-8"))


def validation_problems(kind: str, text: str) -> list[str]:
    """Every way the manifest breaks its schema (empty when it is valid)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    validator = jsonschema.Draft7Validator(schema(kind))
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    ]


def write_manifests(
    release: Release,
    files: Installers,
    *,
    root: Path | None = None,
    settings: distribution.Distribution | None = None,
) -> list[Artifact]:
    """Render, validate and write the three manifests; VerificationFailed before writing any
    when one breaks its schema."""
    settings = settings or distribution.load()
    texts = render_manifests(release, files, settings)
    problems = [
        f"{kind}: {p}" for kind, text in texts.items() for p in validation_problems(kind, text)
    ]
    if problems:
        raise VerificationFailed(
            f"the winget manifests break schema {SCHEMA_VERSION}: " + "; ".join(problems[:5])
        )
    paths = manifest_paths(release, root)
    artifacts = []
    for kind, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, texts[kind])
        artifacts.append(
            Artifact(path, f"winget {kind} manifest, schema {SCHEMA_VERSION}", Kind.WINGET, kind)
        )
    return artifacts


def installers_of(release: Release, root: Path | None = None) -> Installers:
    return Installers(msi.msi_path(release, root), installer.installer_path(release, root))
