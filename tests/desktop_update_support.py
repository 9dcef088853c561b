"""Real desktop builds and a signed update feed for the update tests (tests/test_desktop_update.py,
features/desktop-updates.feature): versions built once per session with a test key built in,
a feed folder in the shape of the update-feed contract signed with Debian's `minisign`, served
on 127.0.0.1."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import metadata
from build_scripts.desktop import build as desktop

V1, V2, V3 = "0.9.0-test.1", "0.9.0-test.2", "0.9.0-test.3"
# V3 is built to fail its first start: the test knob of internal/update (never set in releases).
FAILING = {V3}
PLATFORM = "linux-x86_64"
FAIL_KNOB = "-X traderadmin/desktop/internal/update.failStartForTest=1"


@dataclass(frozen=True)
class UpdateKey:
    public: Path
    secret: Path

    @property
    def line(self) -> str:
        """The base64 line built into the app (the public key file's second line)."""
        return self.public.read_text().splitlines()[1].strip()


def make_key(folder: Path) -> UpdateKey:
    """A minisign key pair without a password (`minisign -G -W`)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = UpdateKey(folder / "traderadmin-update.pub", folder / "traderadmin-update.key")
    subprocess.run(
        ["minisign", "-G", "-W", "-f", "-p", key.public, "-s", key.secret],
        check=True,
        capture_output=True,
    )
    return key


def build_versions(root: Path, key: UpdateKey) -> dict[str, Path]:
    """V1, V2 and the failing V3 as real Linux desktop binaries, the front end built once;
    niced, since the machine is shared."""
    with contextlib.suppress(OSError):
        os.nice(10)
    frontend = desktop.build_frontend(metadata.current_release(V1), root / "frontend")
    binaries = {}
    for version in (V1, V2, V3):
        extra = [f"-X traderadmin/desktop/internal/update.PublicKey={key.line}"]
        if version in FAILING:
            extra.append(FAIL_KNOB)
        [artifact] = desktop.build(
            metadata.current_release(version),
            ["linux/amd64"],
            root=root / version,
            frontend=frontend,
            extra_ldflags=extra,
        )
        binaries[version] = artifact.path
    return binaries


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_digest(folder: Path) -> str:
    """Names and contents of everything under folder: "nothing changed" is this being equal."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


class Feed:
    """A feed folder as `invoke updates.publish` lays it out (update-feed contract)."""

    def __init__(self, root: Path, key: UpdateKey) -> None:
        self.root, self.key = root, key
        root.mkdir(parents=True, exist_ok=True)

    def sign(self, path: Path, comment: str) -> Path:
        subprocess.run(
            ["minisign", "-S", "-s", self.key.secret, "-m", path, "-t", comment],
            check=True,
            capture_output=True,
        )
        return path.with_name(path.name + ".minisig")

    def add_version(self, version: str, binary: Path) -> None:
        """V/TraderAdmin-V-linux-amd64 (+ .minisig) and V/release.json (+ .minisig)."""
        folder = self.root / version
        folder.mkdir(exist_ok=True)
        target = folder / f"TraderAdmin-{version}-linux-amd64"
        shutil.copy2(binary, target)
        self.sign(target, f"traderadmin {target.name} {version}")
        self.write_manifest(f"{version}/release.json", version, channel="release")

    def manifest(self, version: str, **fields) -> dict:
        target = self.root / version / f"TraderAdmin-{version}-linux-amd64"
        return {
            "schema": 1,
            "product": "TraderAdmin",
            "channel": "beta",
            "version": version,
            "notes": f"## {version}\n- test release",
            "pub_date": "2026-12-06T10:00:00Z",
            "rollout": 100,
            "minimum_version": "0.0.0",
            "withdrawn": [],
            "platforms": {
                PLATFORM: {
                    "url": f"{version}/{target.name}",
                    "size": target.stat().st_size,
                    "sha256": sha256(target),
                    "signature": target.with_name(target.name + ".minisig").read_text(),
                }
            },
            **fields,
        }

    def write_manifest(self, name: str, version: str, **fields) -> Path:
        path = self.root / name
        path.write_text(json.dumps(self.manifest(version, **fields), indent=2) + "\n")
        self.sign(path, f"traderadmin {fields.get('channel', 'beta')} {version}")
        return path

    def offer(self, version: str, **fields) -> Path:
        """beta.json (+ .minisig): the channel the test versions (pre-releases) read."""
        return self.write_manifest("beta.json", version, **fields)


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """Serve folder on 127.0.0.1 (a free port) from a thread; yields the feed URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def install(binary: Path, folder: Path, feed_url: str) -> tuple[Path, Path]:
    """Copy binary into folder as TraderAdmin with a config.toml pointing at the feed (and at a
    closed backend port); returns (installed binary, config.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    installed = folder / "TraderAdmin"
    shutil.copy2(binary, installed)
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
