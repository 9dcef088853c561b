"""A local image registry: the CNCF distribution registry, built from source with `go install`.

No registry can be reached from the build machines, yet `images.push` must be tested against a
real one, and an air-gapped site may want one of its own. The registry is a single Go binary,
installed into the engine's bin dir; it runs on 127.0.0.1, which Docker treats as an insecure
(plain HTTP) registry without any daemon configuration.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import yaml

from build_scripts.core import atomic, cmd, daemon, on_first_use, paths, tools
from build_scripts.core.progress import say

httpx = on_first_use.module("httpx")

VERSION = tools.REGISTRY_VERSION
MODULE = tools.REGISTRY_MODULE
# v3 exports OpenTelemetry traces by default; there is no collector here.
ENVIRONMENT = {"OTEL_TRACES_EXPORTER": "none"}


def ensure_installed() -> bool:
    """`go install` the registry into the bin dir unless it is found; True if it was installed
    (the shape of bootstrap's ensure_* steps)."""
    tool = tools.by_name("registry")
    if tool and tools.find(tool):
        return False
    paths.bin_dir().mkdir(parents=True, exist_ok=True)
    cmd.run(
        ["go", "install", f"{MODULE}@{VERSION}"],
        step="registry install",
        env={"GOBIN": str(paths.bin_dir()), "CGO_ENABLED": "0"},
    )
    return True


def install() -> str:
    """The registry program: found on PATH / in the bin dir, or `go install`ed there once."""
    ensure_installed()
    return tools.require("registry")


def config_text(address: str, storage: Path) -> str:
    config = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": address},
    }
    return yaml.safe_dump(config, sort_keys=False)


def free_address(host: str = "127.0.0.1") -> str:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return f"{host}:{probe.getsockname()[1]}"


def answers(address: str) -> bool:
    try:
        return httpx.get(f"http://{address}/v2/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(frozen=True)
class LocalRegistry:
    address: str
    pid: int
    storage: Path
    log: Path


def _write_config(address: str, storage: Path) -> Path:
    storage.mkdir(parents=True, exist_ok=True)
    return atomic.write_text(storage.parent / "config.yml", config_text(address, storage))


def start(storage: Path, address: str | None = None, timeout: float = 30) -> LocalRegistry:
    """Start a registry in the background; its config, log and pid go to storage's parent."""
    program = install()
    address = address or free_address()
    config = _write_config(address, storage)
    # Log and pid beside the config and the storage: one directory holds this registry.
    log, pid_path = storage.parent / "registry.log", storage.parent / "registry.pid"
    pid = daemon.start_and_wait(
        [program, "serve", config],
        name="registry",
        answers=lambda: answers(address),
        log_path=log,
        pid_path=pid_path,
        timeout=timeout,
        interval=0.3,
        env=ENVIRONMENT,
    )
    say(f"registry answering at {address} (storage {storage})")
    return LocalRegistry(address, pid, storage, log)


def stop(handle: LocalRegistry) -> None:
    """Stop the registry we started, by its pid."""
    daemon.terminate(handle.pid, "registry", grace=10)


def serve(address: str, storage: Path) -> None:
    """Run a registry in the foreground until Ctrl-C."""
    program = install()
    config = _write_config(address, storage)
    say(f"registry on {address}, storage {storage}")
    say(f"push to it with: invoke images.push --registry {address}")
    cmd.run([program, "serve", config], step="registry", env=ENVIRONMENT)
