"""The update manifest: release.json and <channel>.json, one shape, checked against the JSON
schema kept beside this module (manifest.schema.json) before it is written or read.

The text is JSON with the keys in the contract's order and a final newline, the same bytes for
the same inputs (the manifest is signed, and the release is reproducible).
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from build_scripts.core.errors import VerificationFailed

RELEASE_READS = ("build_scripts/updates/manifest.schema.json",)
SCHEMA_FILE = Path(__file__).with_name("manifest.schema.json")
SCHEMA_VERSION = 1
RELEASE_CHANNEL = "release"  # release.json: the version's own manifest, whatever its channels
PLATFORMS = ("linux-x86_64", "windows-x86_64")


@dataclass(frozen=True)
class PlatformFile:
    """One platform's file as the manifest lists it."""

    platform: str
    url: str  # relative to the feed root: <version>/<name>
    size: int
    sha256: str
    signature: str  # the .minisig text; '' unsigned

    def as_json(self) -> dict:
        return {
            "url": self.url,
            "size": self.size,
            "sha256": self.sha256,
            "signature": self.signature,
        }


def pub_date(source_date_epoch: int) -> str:
    moment = datetime.datetime.fromtimestamp(source_date_epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(
    *,
    product: str,
    channel: str,
    version: str,
    notes: str,
    published: str,
    files: list[PlatformFile],
    signed: bool,
    rollout: int = 100,
    minimum_version: str = "0.0.0",
    withdrawn: tuple[str, ...] = (),
) -> dict:
    return {
        "schema": SCHEMA_VERSION,
        "product": product,
        "channel": channel,
        "version": version,
        "notes": notes,
        "pub_date": published,
        "rollout": rollout,
        "minimum_version": minimum_version,
        "withdrawn": list(withdrawn),
        "signed": signed,
        "platforms": {f.platform: f.as_json() for f in sorted(files, key=lambda f: f.platform)},
    }


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def problems(manifest: object) -> list[str]:
    """What is wrong with manifest by the schema, one line each ('' path: the top)."""
    validator = jsonschema.Draft202012Validator(schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]


def check(manifest: object, where: str) -> dict:
    found = problems(manifest)
    if found:
        raise VerificationFailed(f"{where} is not a valid update manifest: {found[0]}")
    assert isinstance(manifest, dict)
    return manifest


def render(manifest: dict) -> str:
    check(manifest, f"the {manifest.get('channel')} manifest of {manifest.get('version')}")
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerificationFailed(f"{path} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise VerificationFailed(f"{path} is not JSON: {error}") from None
    return check(data, str(path))
