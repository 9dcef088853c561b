"""How the Windows packages are identified and published: the `[windows]` table of release.toml
(the MSI's UpgradeCode, the download URL template the winget manifests name)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import paths
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release

RELEASE_READS = ("release.toml",)
GUID = re.compile(r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}")


@dataclass(frozen=True)
class Distribution:
    msi_upgrade_code: str  # {XXXXXXXX-…}, upper case
    download_url: str  # a template with {version} and {file}

    def url_of(self, release: Release, file_name: str) -> str:
        return self.download_url.format(version=release.version_text, file=file_name)


def load(path: Path | None = None) -> Distribution:
    source = path or paths.repo_root() / "release.toml"
    try:
        table = tomllib.loads(source.read_text(encoding="utf-8")).get("windows")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [windows] is missing", "restore it from git")
    code = table.get("msi_upgrade_code")
    if not isinstance(code, str) or not GUID.fullmatch(code):
        raise ConfigError(
            f"{source}: [windows] msi_upgrade_code = {code!r} is not an upper-case {{GUID}}",
            "restore the released value from git: it must never change",
        )
    url = table.get("download_url")
    if not isinstance(url, str) or not url.startswith("https://") or "{file}" not in url:
        raise ConfigError(
            f"{source}: [windows] download_url = {url!r} is not an https:// template with {{file}}",
            'e.g. download_url = "https://downloads.example.com/app/{version}/{file}"',
        )
    return Distribution(code, url)
