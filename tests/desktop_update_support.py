"""Real desktop builds and a signed update feed for the update tests (tests/test_desktop_update.py,
features/desktop-updates.feature): versions built once per session with a test key built in,
each version's feed written by the release's own `update-feed` functions and published into a
feed folder with `updates.publish`'s, served on 127.0.0.1 by `updates.serve`'s."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import metadata
from build_scripts.core.artifacts import sha256_of
from build_scripts.desktop import build as desktop
from build_scripts.updates import feed as release_feed
from build_scripts.updates import keys, publish, serve
from build_scripts.updates.keys import UpdateKey

V1, V2, V3 = "0.9.0-test.1", "0.9.0-test.2", "0.9.0-test.3"
# V3 is built to fail its first start: the test knob of internal/update (never set in releases).
FAILING = {V3}
FAIL_KNOB = "-X traderadmin/desktop/internal/update.failStartForTest=1"
CHANNEL = "beta"  # the test versions are pre-releases
PUBLISHED = "2026-12-06T10:00:00Z"


@dataclass(frozen=True)
class Version:
    binary: Path
    updates: Path  # dist/<version>/updates/ as the release's update-feed step writes it


def make_key(folder: Path) -> UpdateKey:
    """A minisign key pair without a password (`invoke updates.keygen`'s function)."""
    return keys.make_key_pair(folder)


def build_versions(root: Path, key: UpdateKey) -> dict[str, Version]:
    """V1, V2 and the failing V3 as real Linux desktop binaries (the front end built once) and
    each one's signed release feed; niced, since the machine is shared."""
    with contextlib.suppress(OSError):
        os.nice(10)
    frontend = desktop.build_frontend(metadata.current_release(V1), root / "frontend")
    built = {}
    for version in (V1, V2, V3):
        [artifact] = desktop.build(
            metadata.current_release(version),
            ["linux/amd64"],
            root=root / version,
            frontend=frontend,
            update_public_key=key.public_key,
            extra_ldflags=[FAIL_KNOB] if version in FAILING else [],
        )
        dist = root / version / "dist"
        name = release_feed.linux_file_name("TraderAdmin", version)
        release_feed.write_release_feed(
            dist,
            product="TraderAdmin",
            version=version,
            published=PUBLISHED,
            notes=f"## {version}\n- test release\n",
            files=[release_feed.FeedFile("linux-x86_64", artifact.path, name)],
            key=key,
        )
        built[version] = Version(artifact.path, release_feed.feed_dir(dist))
    return built


sha256 = sha256_of  # the engine's one file digest


def folder_digest(folder: Path) -> str:
    """Names and contents of everything under folder: "nothing changed" is this being equal."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


class Feed:
    """A feed folder operated as an operator does: publish, rollout, withdraw (updates.*)."""

    def __init__(self, root: Path, key: UpdateKey, versions: dict[str, Version]) -> None:
        self.root, self.key, self.versions = root, key, versions
        root.mkdir(parents=True, exist_ok=True)

    def publish(self, *versions: str) -> None:
        for version in versions:
            publish.publish(self.root, self.versions[version].updates, self.key)

    def rollout(self, percentage: int) -> None:
        publish.set_rollout(self.root, CHANNEL, percentage, self.key)

    def withdraw(self, version: str) -> None:
        publish.withdraw(self.root, version, self.key)

    @property
    def manifest(self) -> Path:
        return publish.channel_path(self.root, CHANNEL)

    def file_of(self, version: str) -> Path:
        return self.root / version / release_feed.linux_file_name("TraderAdmin", version)


def served(folder: Path):
    """Serve folder on 127.0.0.1 (a free port) from a thread; yields the feed URL."""
    return serve.serving(folder)


def install(version: Version, folder: Path, feed_url: str) -> tuple[Path, Path]:
    """Copy binary into folder as TraderAdmin with a config.toml pointing at the feed (and at a
    closed backend port); returns (installed binary, config.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    installed = folder / "TraderAdmin"
    shutil.copy2(version.binary, installed)
    config = folder / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'backend_url = "http://127.0.0.1:9"\nupdate_feed = "{feed_url}"\n')
    return installed, config


def app_env(display: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRADERADMIN_CONFIG"}
    env.pop("DISPLAY", None)
    if display:
        env["DISPLAY"] = display
    # Xvfb has no GL: WebKit's compositing mode would draw nothing (desktop/smoke.py).
    env["WEBKIT_DISABLE_COMPOSITING_MODE"] = "1"
    return env


def run_app(
    installed: Path, config: Path, *args: str, display: str | None, timeout: float = 180
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [installed, "--config", config, *args],
        env=app_env(display),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
