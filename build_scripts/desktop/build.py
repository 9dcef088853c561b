"""Production builds of the desktop app with Wails, and reading back what they produced.

`build` copies desktop/ into a temporary directory, stamps the release there (wails.json's
`info` block and the Windows version resource) and runs `wails build` once per platform, so the
working tree is never modified. The Windows build is cross-compiled on Linux; macOS builds need
a Mac. Each binary is verified before it is renamed into dist/<version>/desktop/<os>-<arch>/:
the Windows version resource read back from the file, the Linux binary's `--version`, and the
size budget. `smoke_test_linux` opens the real window under Xvfb and saves a screenshot.
"""

from __future__ import annotations

import json
import platform as host
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from build_scripts.core import atomic, bootstrap, cmd, paths
from build_scripts.core.artifacts import Artifact, Kind, check_budget
from build_scripts.core.errors import (
    ConfigError,
    ReleaseError,
    UnsupportedPlatform,
    VerificationFailed,
)
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.desktop import frontend as frontend_parts
from build_scripts.desktop import macos, wails
from build_scripts.desktop.smoke import verify_linux_binary
from build_scripts.windows import signing
from build_scripts.windows.pe import verify_windows_exe
from build_scripts.windows.signing import SigningConfig

DEFAULT_PLATFORMS = ("linux/amd64", "windows/amd64")
# What `wails build -platform` accepts and this engine knows how to name.
KNOWN_PLATFORMS = (
    "linux/amd64",
    "linux/arm64",
    "windows/amd64",
    "windows/arm64",
    "darwin/amd64",
    "darwin/arm64",
    "darwin/universal",
)
EXE_BUDGET_MB = 15.0
# Bindings generation, npm and the Go build of a cold cache take minutes on 2 cores.
BUILD_TIMEOUT = 1800


def desktop_dir() -> Path:
    return paths.repo_root() / "desktop"


def binary_name(release: Release, platform: str) -> str:
    return f"{release.product}.exe" if platform.startswith("windows/") else release.product


def binary_path(release: Release, platform: str, root: Path | None = None) -> Path:
    """dist/<version>/desktop/<os>-<arch>/<binary> (or the same below another root)."""
    base = root if root is not None else release.dist_dir
    return base / "desktop" / platform.replace("/", "-") / binary_name(release, platform)


def parse_platforms(values: Iterable[str], host_os: str | None = None) -> list[str]:
    """The requested platforms, validated; `a,b` and repeated flags both work."""
    host_os = host_os or sys.platform
    wanted: list[str] = []
    for value in values:
        for item in str(value).split(","):
            item = item.strip().lower()
            if item and item not in wanted:
                wanted.append(item)
    if not wanted:
        raise ConfigError("no platform given", f"choose from: {', '.join(KNOWN_PLATFORMS)}")
    for item in wanted:
        if item not in KNOWN_PLATFORMS:
            raise ConfigError(
                f"unknown platform {item!r}", f"choose from: {', '.join(KNOWN_PLATFORMS)}"
            )
        goos, goarch = item.split("/")
        if goos == "darwin" and host_os != "darwin":
            raise UnsupportedPlatform(
                f"{item}: macOS builds must run on macOS (Wails needs Xcode and the macOS SDK)",
                f"run `invoke desktop.build --platform {item}` on a Mac",
            )
        if goos == "linux" and goarch != _host_arch():
            raise UnsupportedPlatform(
                f"{item}: the Linux build links GTK/WebKit with cgo and is built natively",
                f"run it on a linux/{goarch} machine",
            )
    return wanted


def _host_arch() -> str:
    machine = host.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


# The Go package that checks the update feed (desktop/internal/update); -X on a variable that
# does not exist is ignored by the Go linker, so the flags are safe before the package is.
UPDATE_PACKAGE = "traderadmin/desktop/internal/update"


def ldflags(release: Release, update_public_key: str = "", extra: Sequence[str] = ()) -> str:
    """Stripped (-s -w), reproducible (empty build id), stamped with version and commit, the
    update feed's public key (minisign, base64; '' builds an app that refuses every feed) and
    its default URL (release.toml [updates] feed_url). extra: more `-X name=value` settings
    (the update tests' fail-at-start knob)."""
    stamp = f"-X main.version={release.version_text} -X main.commit={release.commit}"
    update = (
        f"-X {UPDATE_PACKAGE}.PublicKey={update_public_key}"
        f" -X {UPDATE_PACKAGE}.DefaultFeedURL={release.update_feed_url}"
    )
    return " ".join(["-s -w -buildid=", stamp, update, *extra])


def windows_version_info(release: Release) -> dict:
    """The Windows version resource, in the format Wails reads from build/windows/info.json."""
    return {
        "fixed": {
            "file_version": release.windows_version,
            "product_version": release.windows_version,
        },
        "info": {
            "0409": {
                "ProductName": release.product,
                "ProductVersion": release.version_text,
                "FileVersion": release.version_text,
                "FileDescription": release.product,
                "CompanyName": release.publisher,
                "LegalCopyright": release.copyright,
                "InternalName": release.product,
                "OriginalFilename": f"{release.product}.exe",
                "Comments": f"commit {release.commit}",
            }
        },
    }


# Build output and installed packages of the working tree: never copied into the stage.
_NOT_STAGED = {
    "build/bin",
    "frontend/node_modules",
    "frontend/dist",
    "frontend/package.json.md5",
}


def stage_sources(release: Release, destination: Path, source: Path | None = None) -> Path:
    """A copy of desktop/ at destination with the release stamped in; returns destination."""
    source = source or desktop_dir()
    if not (source / "wails.json").is_file():
        raise ReleaseError(f"{source}/wails.json is missing", "is desktop/ checked out?")
    modules = source / "frontend" / "node_modules"
    if not modules.is_dir():
        raise ReleaseError(
            "the desktop front-end packages are not installed",
            "run: invoke bootstrap (it runs npm ci in desktop/frontend)",
        )

    def ignore(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).relative_to(source)
        return {name for name in names if (relative / name).as_posix() in _NOT_STAGED}

    shutil.copytree(source, destination, ignore=ignore, symlinks=True)
    # The packages bootstrap installed are reused, not reinstalled: Wails' frontend:install
    # (npm ci) would need the network and, through the link, empty the working tree's copy.
    (destination / "frontend" / "node_modules").symlink_to(modules, target_is_directory=True)

    project_file = destination / "wails.json"
    project = json.loads(project_file.read_text(encoding="utf-8"))
    project["frontend:install"] = ""
    project["info"] = {
        **project.get("info", {}),
        "companyName": release.publisher,
        "productName": release.product,
        "productVersion": release.version_text,
        "copyright": release.copyright,
    }
    project_file.write_text(json.dumps(project, indent=2) + "\n", encoding="utf-8")
    windows = destination / "build" / "windows"
    windows.mkdir(parents=True, exist_ok=True)
    (windows / "info.json").write_text(
        json.dumps(windows_version_info(release), indent=2) + "\n", encoding="utf-8"
    )
    return destination


def wails_build(
    staged: Path, platform: str, release: Release, *, first: bool, flags: str | None = None
) -> Path:
    """Run `wails build` in the stage; returns the binary it wrote under build/bin.

    flags: the -ldflags text (default: ldflags(release), an app without an update key)."""
    argv = wails.wails_argv(platform, flags if flags is not None else ldflags(release), first=first)
    goos = platform.split("/")[0]
    env = {"CGO_ENABLED": "1" if goos == "linux" else "0", "GOFLAGS": "-mod=readonly"}
    cmd.run(
        argv,
        step=f"wails {platform}",
        cwd=staged,
        env=env,
        timeout=BUILD_TIMEOUT,
        hint="run `invoke doctor` to check the toolchain (Go, Node, Wails, GTK/WebKit)",
    )
    built = staged / "build" / "bin" / binary_name(release, platform)
    if not built.is_file():
        raise VerificationFailed(f"wails build {platform} reported success but wrote no {built}")
    return built


def build_frontend(release: Release, destination: Path, source: Path | None = None) -> Path:
    """The Go bindings and the Vite bundle, for every platform's build (desktop/frontend.py)."""
    bootstrap.ensure_frontend_packages((source or desktop_dir()) / "frontend")
    with tempfile.TemporaryDirectory(prefix="traderadmin-frontend-") as scratch:
        staged = stage_sources(release, Path(scratch) / "desktop", source)
        return frontend_parts.bundle(staged, destination)


def build(
    release: Release,
    platforms: list[str],
    *,
    root: Path | None = None,
    signing_config: SigningConfig | None = None,
    max_mb: float = EXE_BUDGET_MB,
    source: Path | None = None,
    frontend: Path | None = None,
    update_public_key: str = "",
    extra_ldflags: Sequence[str] = (),
) -> list[Artifact]:
    """Build, verify and (when configured) sign each platform; one Artifact per binary.

    frontend: a front end build_frontend made; every platform embeds it (else the first
    platform's `wails build` makes it). update_public_key: the update feed's key built in.
    extra_ldflags: more `-X` settings for every platform (tests: the fail-at-start knob).
    """
    flags = ldflags(release, update_public_key, extra_ldflags)
    artifacts = []
    # A clean checkout has no front-end packages yet; bootstrap's own check makes this a no-op
    # when package-lock.json has not changed since the last `npm ci`.
    bootstrap.ensure_frontend_packages((source or desktop_dir()) / "frontend")
    with tempfile.TemporaryDirectory(prefix="traderadmin-desktop-") as scratch:
        staged = stage_sources(release, Path(scratch) / "desktop", source)
        if frontend is not None:
            frontend_parts.install(frontend, staged)
        say(f"Building the desktop app {release.version_text} from a copy in {staged}")
        for index, platform in enumerate(platforms, start=1 if frontend else 0):
            if platform.startswith("darwin/"):  # an .app bundle and its zip: macos.py
                artifacts.append(
                    macos.build_app(
                        staged,
                        platform,
                        release,
                        ldflags=flags,
                        first=index == 0,
                        root=root,
                        signing=macos.MacSigning.from_env(),
                    )
                )
                continue
            built = wails_build(staged, platform, release, first=index == 0, flags=flags)
            artifacts.append(
                publish_binary(
                    built,
                    binary_path(release, platform, root),
                    platform,
                    release,
                    signing_config=signing_config,
                    max_mb=max_mb,
                )
            )
    return artifacts


def publish_binary(
    built: Path,
    destination: Path,
    platform: str,
    release: Release,
    *,
    signing_config: SigningConfig | None,
    max_mb: float,
) -> Artifact:
    """Verify, sign and size-check a built binary, then rename it into place."""
    windows = platform.startswith("windows/")
    with atomic.atomic_path(destination) as tmp:
        shutil.copy2(built, tmp)
        if windows:
            verify_windows_exe(tmp, release)
            if signing_config:
                signing.sign_file(
                    tmp, signing_config, description=release.product, url=release.homepage
                )
        elif platform == f"linux/{_host_arch()}":
            verify_linux_binary(tmp, release)
        budget = check_budget(tmp, max_mb, destination.name)
    signed = signing.note(signing_config) if windows else ""
    note = ", ".join(part for part in (platform, signed, budget) if part)
    say(f"✓ {destination} ({note})")
    return Artifact(destination, note, Kind.BINARY, platform)
