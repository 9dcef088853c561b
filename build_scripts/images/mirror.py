"""Which Debian mirror debootstrap uses: the host's own APT sources (one-line and deb822 format)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core.errors import ConfigError

WEB_SCHEMES = ("http", "https", "file")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


def parse_sources_list(text: str) -> list[AptSource]:
    """One-line apt sources: `deb [options] URI SUITE COMPONENT...`."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        options: dict[str, str] = {}
        if rest.startswith("["):
            inside, _, rest = rest[1:].partition("]")
            for option in inside.split():
                key, _, value = option.partition("=")
                options[key.lower()] = value
        parts = rest.split()
        if len(parts) >= 2:
            found.append(
                AptSource(parts[0], (parts[1],), tuple(parts[2:]), options.get("signed-by"))
            )
    return found


def parse_deb822_sources(text: str) -> list[AptSource]:
    """deb822 apt sources (*.sources): paragraphs of `Field: value` with continuation lines."""
    found = []
    for paragraph in _paragraphs(text):
        if "deb" not in paragraph.get("types", "").split():
            continue
        if paragraph.get("enabled", "yes").strip().lower() == "no":
            continue
        signed_by = paragraph.get("signed-by", "").strip()
        # Signed-By may hold the key itself; only a path helps debootstrap.
        keyring = signed_by if signed_by.startswith("/") and "\n" not in signed_by else None
        for uri in paragraph.get("uris", "").split():
            found.append(
                AptSource(
                    uri,
                    tuple(paragraph.get("suites", "").split()),
                    tuple(paragraph.get("components", "").split()),
                    keyring,
                )
            )
    return found


def _paragraphs(text: str) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    last = None
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields
            fields, last = {}, None
        elif raw[0] in " \t" and last:
            fields[last] += "\n" + raw.strip()
        elif ":" in raw:
            key, _, value = raw.partition(":")
            last = key.strip().lower()
            fields[last] = value.strip()


def host_sources(apt_dir: Path = Path("/etc/apt")) -> list[AptSource]:
    sources: list[AptSource] = []
    one_line = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if path.is_file():
            sources += parse_sources_list(path.read_text(errors="replace"))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        sources += parse_deb822_sources(path.read_text(errors="replace"))
    return sources


def choose_mirror(sources: Iterable[AptSource], suite: str) -> AptSource | None:
    """The first source that carries `suite` itself (not -updates/-security) with main."""
    for source in sources:
        scheme = source.uri.split(":", 1)[0]
        if suite in source.suites and "main" in source.components and scheme in WEB_SCHEMES:
            return source
    return None


def resolve_mirror(
    suite: str, configured: str | None, apt_dir: Path = Path("/etc/apt")
) -> AptSource:
    if configured:
        return AptSource(configured, (suite,), ("main",))
    chosen = choose_mirror(host_sources(apt_dir), suite)
    if chosen is None:
        raise ConfigError(
            f"no Debian mirror for {suite} main in {apt_dir}/sources.list*",
            "pass one: invoke images.bases --mirror http://deb.debian.org/debian "
            "(or set images.mirror in invoke.yaml)",
        )
    return chosen
