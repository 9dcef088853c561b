"""Installs every system tool the release needs on Debian 12, idempotently.

A second run on a ready machine only looks: dpkg for the apt packages, the Wails CLI's own
version, a checksum stamp of package-lock.json for the front-end packages, and the Docker
socket. Nothing is downloaded or started then.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from build_scripts.core import cmd, docker_engine, paths, tools
from build_scripts.core.progress import say, step

FRONTEND_STAMP = ".traderadmin-lock.sha256"


@dataclass
class BootstrapReport:
    installed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)

    def add(self, what: str, changed: bool) -> None:
        (self.installed if changed else self.already).append(what)


def missing_apt_packages(packages: tuple[str, ...] | list[str]) -> list[str]:
    probe = cmd.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        step="apt",
        capture=True,
        quiet=True,
        check=False,
    )
    installed = {
        line.split()[0].split(":")[0]
        for line in probe.output.splitlines()
        if line.endswith(" installed")
    }
    return [p for p in packages if p not in installed]


def install_apt_packages(packages: list[str]) -> None:
    if os.geteuid() != 0:
        from build_scripts.core.errors import ReleaseError

        raise ReleaseError(
            f"apt packages missing: {' '.join(packages)}",
            f"run as root, or: sudo apt-get install {' '.join(packages)}",
        )
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    cmd.run(["apt-get", "update", "-q"], step="apt", env=env)
    cmd.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        step="apt",
        env=env,
    )


def wails_installed_version() -> str | None:
    wails = tools.find(tools.by_name("wails"))
    if not wails:
        return None
    probe = cmd.run([wails, "version"], step="wails", capture=True, quiet=True, check=False)
    return probe.output.strip().split()[0] if probe.returncode == 0 and probe.output else None


def ensure_wails(version: str = tools.WAILS_VERSION) -> bool:
    """Install the pinned Wails CLI into the engine's bin dir. True if it installed.

    `go install …/wails@v2.9.2` no longer compiles with Go >= 1.25 (its golang.org/x/tools is
    too old), so the CLI is built from desktop/tools/go.mod, which keeps Wails at v2.9.2 and
    raises only x/tools.
    """
    if wails_installed_version() == version:
        return False
    paths.bin_dir().mkdir(parents=True, exist_ok=True)
    cmd.run(
        ["go", "install", tools.WAILS_MODULE],
        step="wails",
        cwd=paths.repo_root() / "desktop" / "tools",
        env={"GOBIN": str(paths.bin_dir()), "CGO_ENABLED": "1"},
    )
    return True


def ensure_frontend_packages(frontend: Path) -> bool:
    """`npm ci` when node_modules does not match package-lock.json. True if it ran."""
    lock = frontend / "package-lock.json"
    if not lock.exists():
        return False
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = frontend / "node_modules" / FRONTEND_STAMP
    if stamp.exists() and stamp.read_text().strip() == digest:
        return False
    cmd.run(["npm", "ci", "--no-audit", "--no-fund"], step="npm ci", cwd=frontend)
    stamp.write_text(digest + "\n")
    return True


def bootstrap(*, apt: bool = True, docker: bool = True) -> BootstrapReport:
    report = BootstrapReport()
    if apt:
        with step("apt packages"):
            missing = missing_apt_packages(tools.APT_PACKAGES)
            if missing:
                install_apt_packages(missing)
            report.add("apt: " + (" ".join(missing) if missing else "all present"), bool(missing))
    with step(f"Wails CLI {tools.WAILS_VERSION}"):
        report.add(f"wails {tools.WAILS_VERSION}", ensure_wails())
    frontend = paths.repo_root() / "desktop" / "frontend"
    if frontend.exists():
        with step("front-end packages"):
            report.add("npm ci (desktop/frontend)", ensure_frontend_packages(frontend))
    if docker:
        with step("Docker engine"):
            outcome = docker_engine.ensure_running()
            report.add(f"dockerd {outcome}", outcome != "already running")
    for line in report.installed:
        say(f"  changed: {line}")
    if not report.installed:
        say("  nothing to do: the machine is ready")
    return report
