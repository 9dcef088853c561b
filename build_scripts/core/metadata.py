"""Release metadata: product identity from release.toml and the version of this build.

The version is SemVer. In order of precedence: an explicit override (`--version`, or
`release.version` in invoke config), a vX.Y.Z tag on HEAD, else a snapshot of the next version
named in release.toml: X.Y.Z-dev.g<short commit>. Everything that carries a version reads it
from the Release object built here.
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import paths
from build_scripts.core.errors import ConfigError, InvalidVersion, ReleaseError

# semver.org's regular expression (numeric identifiers without leading zeros).
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text


def parse_version(text: str) -> Version:
    """Parse SemVer (a leading 'v' is accepted) or raise InvalidVersion."""
    candidate = text.strip()
    candidate = candidate[1:] if candidate[:1] in ("v", "V") else candidate
    match = SEMVER.match(candidate)
    if not match:
        raise InvalidVersion(
            f"invalid version {text!r}: not SemVer",
            "use MAJOR.MINOR.PATCH with an optional -prerelease, e.g. 1.2.0 or 1.2.0-rc.1",
        )
    major, minor, patch, pre, build = match.groups()
    for part in (major, minor, patch):
        if int(part) > 65535:
            raise InvalidVersion(
                f"invalid version {text!r}: {part} is larger than 65535",
                "Windows version resources hold 16-bit numbers; choose a smaller number",
            )
    return Version(int(major), int(minor), int(patch), pre or "", build or "")


@dataclass(frozen=True)
class Release:
    product: str
    publisher: str
    description: str
    copyright: str
    homepage: str
    app_id: str
    image_prefix: str
    windows_uninstall_key: str
    version: Version
    commit: str
    source_date_epoch: int
    # release.toml [updates]: the feed the desktop app checks unless config.toml names another,
    # and the oldest version clients may stay on (older ones update without the rollout gate).
    update_feed_url: str = ""
    update_minimum_version: str = "0.0.0"

    @property
    def version_text(self) -> str:
        return str(self.version)

    @property
    def is_snapshot(self) -> bool:
        return bool(self.version.prerelease)

    @property
    def windows_version(self) -> str:
        """The four numbers of a Windows version resource / VIProductVersion."""
        v = self.version
        return f"{v.major}.{v.minor}.{v.patch}.0"

    @property
    def image_tag(self) -> str:
        """The version as a container image tag ('+' is not allowed there)."""
        return self.version_text.replace("+", "_")

    @property
    def installer_name(self) -> str:
        return f"{self.product}_Setup_v{self.version_text}.exe"

    @property
    def dist_dir(self) -> Path:
        return paths.dist_dir(self.version_text)


PRODUCT_KEYS = (
    "name",
    "publisher",
    "description",
    "copyright",
    "homepage",
    "app_id",
    "image_prefix",
    "windows_uninstall_key",
)
# What each value flows into, and the characters that survive there.
RULES = {
    # File names (TraderAdmin.exe, the installer), desktop entries, the NSIS install folder.
    "name": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}(?<!\.)"),
        "a file name: letters, digits, '.', '_' and '-', starting with a letter or digit",
    ),
    # The repository part of an image reference: lower-case path components.
    "image_prefix": (
        re.compile(
            r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
        ),
        "an image repository prefix: lower-case letters, digits, '.', '_', '-', '/' between parts",
    ),
    # A key name under HKLM\...\Uninstall: no backslash, and a file name too (the uninstaller).
    "windows_uninstall_key": (
        re.compile(r"[A-Za-z0-9{][A-Za-z0-9._{}-]{0,127}"),
        "a registry key and file name: letters, digits, '.', '_', '-', '{', '}'",
    ),
    "app_id": (
        re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)+"),
        "a reverse-DNS id such as org.example.App",
    ),
}


def validate_product(product: object, source: Path) -> dict:
    """[product] with every key, each a non-empty string fit for where it goes."""
    if not isinstance(product, dict):
        raise ConfigError(f"{source}: [product] is missing", "restore it from git")
    for key in PRODUCT_KEYS:
        value = product.get(key)
        if value is None:
            raise ConfigError(
                f"{source}: [product] has no {key}", f'add it, e.g. {key} = "…" (see git history)'
            )
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{source}: [product] {key} must be a non-empty string")
        if any(ord(ch) < 32 for ch in value):
            raise ConfigError(f"{source}: [product] {key} contains a control character")
        rule = RULES.get(key)
        if rule and not rule[0].fullmatch(value):
            raise ConfigError(f"{source}: [product] {key} = {value!r} is not {rule[1]}")
    return product


def load_product(path: Path | None = None) -> dict:
    source = path or paths.repo_root() / "release.toml"
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{source} is missing", "restore it from git") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    product = validate_product(data.get("product"), source)
    version = data.get("version")
    if not isinstance(version, dict) or not isinstance(version.get("next"), str):
        raise ConfigError(f"{source}: [version] has no next", 'add: [version] next = "X.Y.Z"')
    parse_version(version["next"])
    return {**product, "next": version["next"], **load_updates(data.get("updates", {}), source)}


# The feed URL is built into the app with -ldflags -X: one token, no quotes or spaces.
FEED_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/-]*)?/")


def load_updates(updates: object, source: Path) -> dict:
    """[updates] feed_url (an http(s) URL ending in '/') and minimum_version (SemVer); both
    optional: without a feed URL the app has no default feed (config.toml's update_feed)."""
    if not isinstance(updates, dict):
        raise ConfigError(f"{source}: [updates] must be a table")
    feed_url = updates.get("feed_url", "")
    if not isinstance(feed_url, str) or (feed_url and not FEED_URL.fullmatch(feed_url)):
        raise ConfigError(
            f"{source}: [updates] feed_url = {feed_url!r} is not an http(s) URL ending in '/'",
            'e.g. feed_url = "https://updates.example.org/traderadmin/"',
        )
    minimum = updates.get("minimum_version", "0.0.0")
    if not isinstance(minimum, str):
        raise ConfigError(f"{source}: [updates] minimum_version must be a string")
    parse_version(minimum)
    return {"update_feed_url": feed_url, "update_minimum_version": minimum}


def _git(args: list[str], repo: Path) -> str | None:
    from build_scripts.core import cmd

    try:
        result = cmd.run(
            ["git", *args], step="version", cwd=repo, capture=True, quiet=True, check=False
        )
    except ReleaseError:
        return None
    return result.output.strip() if result.returncode == 0 else None


def resolve_version(repo: Path, next_version: str, override: str | None = None) -> Version:
    if override:
        return parse_version(override)
    tags = (_git(["tag", "--points-at", "HEAD", "--list", "v*"], repo) or "").split()
    tagged = sorted(
        (v for v in (_try_parse(t) for t in tags) if v is not None),
        key=lambda v: (v.major, v.minor, v.patch, v.prerelease == "", v.prerelease),
    )
    if tagged:
        return tagged[-1]
    base = parse_version(next_version)
    commit = _git(["rev-parse", "--short=8", "HEAD"], repo)
    suffix = f"dev.g{commit}" if commit else "dev"
    return Version(base.major, base.minor, base.patch, suffix)


def _try_parse(tag: str) -> Version | None:
    try:
        return parse_version(tag)
    except InvalidVersion:
        return None


def current_release(override: str | None = None, repo: Path | None = None) -> Release:
    """The release being built. Validates the override before anything else happens."""
    repo = repo or paths.repo_root()
    if override is not None and not str(override).strip():
        raise InvalidVersion("invalid version '': empty", "pass e.g. --version 1.2.0")
    product = load_product(repo / "release.toml")
    version = resolve_version(repo, product["next"], override)
    commit = _git(["rev-parse", "HEAD"], repo) or "unknown"
    epoch_text = _git(["log", "-1", "--format=%ct"], repo)
    epoch = int(epoch_text) if epoch_text and epoch_text.isdigit() else int(time.time())
    return Release(
        product=product["name"],
        publisher=product["publisher"],
        description=product["description"],
        copyright=product["copyright"],
        homepage=product["homepage"],
        app_id=product["app_id"],
        image_prefix=product["image_prefix"],
        windows_uninstall_key=product["windows_uninstall_key"],
        version=version,
        commit=commit,
        source_date_epoch=epoch,
        update_feed_url=product["update_feed_url"],
        update_minimum_version=product["update_minimum_version"],
    )


def python_version(release: Release) -> str:
    """The release version as PEP 440 (wheels cannot carry SemVer pre-release syntax).

    1.2.0 -> 1.2.0; 1.2.0-rc.1 -> 1.2.0rc1; 1.2.0-dev.gabc -> 1.2.0.dev0+gabc;
    1.2.0-x.1 -> 1.2.0.dev0+x.1.
    """
    v = release.version
    base = f"{v.major}.{v.minor}.{v.patch}"
    pre = v.prerelease
    if not pre:
        return base
    match = re.fullmatch(r"(a|alpha|b|beta|rc)\.?(\d+)", pre)
    if match:
        kind = {"alpha": "a", "beta": "b"}.get(match.group(1), match.group(1))
        return f"{base}{kind}{match.group(2)}"
    parts = [part for part in re.split(r"[^0-9A-Za-z]+", pre) if part]
    local = ".".join(parts[1:] if parts[:1] == ["dev"] else parts)
    return f"{base}.dev0+{local}" if local else f"{base}.dev0"
