"""Version order and channels of the update feed.

The order is SemVer 2.0 precedence, as the desktop app compares versions: a pre-release is
lower than its final (0.7.0-dev.gX < 0.7.0-rc.1 < 0.7.0), numeric identifiers compare as
numbers, build metadata is ignored. `packaging` orders PEP 440 versions, which differ on
exactly these pre-release rules, so the `semver` package decides.
"""

from __future__ import annotations

from collections.abc import Iterable

import semver

from build_scripts.core.errors import InvalidVersion

STABLE, BETA = "stable", "beta"
CHANNELS = (STABLE, BETA)


def parse(text: str) -> semver.Version:
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        raise InvalidVersion(
            f"invalid version {text!r}: not SemVer", "use MAJOR.MINOR.PATCH[-pre.release]"
        ) from None


def sort_key(text: str) -> semver.Version:
    return parse(text)


def newest(versions: Iterable[str]) -> str | None:
    found = sorted(versions, key=sort_key)
    return found[-1] if found else None


def channels_for(version: str) -> tuple[str, ...]:
    """A pre-release goes to beta only; a final one to stable and beta."""
    return (BETA,) if parse(version).prerelease else CHANNELS


def belongs_to(version: str, channel: str) -> bool:
    return channel in channels_for(version)
