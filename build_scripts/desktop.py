"""Production builds of the desktop app with Wails, and reading back what they produced.

`build` copies desktop/ into a temporary directory, stamps the release there (wails.json's
`info` block and the Windows version resource) and runs `wails build` once per platform, so the
working tree is never modified. The Windows build is cross-compiled on Linux; macOS builds need
a Mac. Each binary is verified before it is renamed into dist/<version>/desktop/<os>-<arch>/:
the Windows version resource read back from the file, the Linux binary's `--version`, and the
size budget. `smoke_test_linux` opens the real window under Xvfb and saves a screenshot.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform as host
import re
import shutil
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from build_scripts import atomic, bootstrap, cmd, desktop_macos, paths, signing, wine
from build_scripts.errors import ConfigError, ReleaseError, UnsupportedPlatform, VerificationFailed
from build_scripts.metadata import Release
from build_scripts.progress import say
from build_scripts.signing import SigningConfig
from build_scripts.summary import Artifact

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
MB = 1_000_000
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


def ldflags(release: Release) -> str:
    """Stripped (-s -w), reproducible (empty build id), stamped with version and commit."""
    return f"-s -w -buildid= -X main.version={release.version_text} -X main.commit={release.commit}"


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


def wails_build(staged: Path, platform: str, release: Release, *, first: bool) -> Path:
    """Run `wails build` in the stage; returns the binary it wrote under build/bin."""
    argv = [
        "wails",
        "build",
        "-platform",
        platform,
        "-clean",
        "-trimpath",
        "-m",  # no `go mod tidy`: go.mod/go.sum are the source of truth
        "-nocolour",
        "-ldflags",
        ldflags(release),
    ]
    if not first:
        # The front end and its Go bindings do not depend on the platform: built once.
        argv += ["-s", "-skipbindings"]
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


def build(
    release: Release,
    platforms: list[str],
    *,
    root: Path | None = None,
    signing_config: SigningConfig | None = None,
    max_mb: float = EXE_BUDGET_MB,
    source: Path | None = None,
) -> list[Artifact]:
    """Build, verify and (when configured) sign each platform; one Artifact per binary."""
    artifacts = []
    # A clean checkout has no front-end packages yet; bootstrap's own check makes this a no-op
    # when package-lock.json has not changed since the last `npm ci`.
    bootstrap.ensure_frontend_packages((source or desktop_dir()) / "frontend")
    with tempfile.TemporaryDirectory(prefix="traderadmin-desktop-") as scratch:
        staged = stage_sources(release, Path(scratch) / "desktop", source)
        say(f"Building the desktop app {release.version_text} from a copy in {staged}")
        for index, platform in enumerate(platforms):
            if platform.startswith("darwin/"):  # an .app bundle and its zip: desktop_macos.py
                artifacts.append(
                    desktop_macos.build_app(
                        staged,
                        platform,
                        release,
                        ldflags=ldflags(release),
                        first=index == 0,
                        root=root,
                        signing=desktop_macos.MacSigning.from_env(),
                    )
                )
                continue
            built = wails_build(staged, platform, release, first=index == 0)
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
    return Artifact(destination, note)


def check_budget(path: Path, max_mb: float, what: str) -> str:
    """'10.5 MB of 15 MB budget', or VerificationFailed when the file is over its budget."""
    size_mb = path.stat().st_size / MB
    if size_mb > max_mb:
        raise VerificationFailed(
            f"{what} is {size_mb:.1f} MB, over its {max_mb:g} MB budget",
            "find what grew (frontend/dist, Go dependencies); raise the budget in invoke.yaml "
            "only with a reason",
        )
    return f"{size_mb:.1f} MB of {max_mb:g} MB budget"


# --- Reading a Windows executable -----------------------------------------------------------------

RT_ICON, RT_GROUP_ICON, RT_VERSION = 3, 14, 16


@dataclass(frozen=True)
class VersionInfo:
    """A PE file's version resource: the numeric versions and the string table."""

    file_version: str
    product_version: str
    strings: dict[str, str]


@dataclass(frozen=True)
class PeFile:
    data: bytes
    machine: int
    subsystem: int
    sections: list[tuple[int, int, int, int]]  # rva, virtual size, file offset, raw size
    directories: list[tuple[int, int]]

    def offset(self, rva: int) -> int:
        for start, vsize, raw_offset, raw_size in self.sections:
            if start <= rva < start + max(vsize, raw_size):
                return raw_offset + rva - start
        raise VerificationFailed(f"RVA {rva:#x} lies in no section")


def read_pe(path: Path) -> PeFile:
    data = path.read_bytes()
    if data[:2] != b"MZ":
        raise VerificationFailed(f"{path.name} is not a Windows executable (no MZ header)")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe : pe + 4] != b"PE\0\0":
        raise VerificationFailed(f"{path.name} is not a PE file")
    machine, count = struct.unpack_from("<HH", data, pe + 4)
    optional_size = struct.unpack_from("<H", data, pe + 20)[0]
    optional = pe + 24
    magic = struct.unpack_from("<H", data, optional)[0]
    subsystem = struct.unpack_from("<H", data, optional + 68)[0]
    directory_start = optional + (112 if magic == 0x20B else 96)
    directory_count = struct.unpack_from("<I", data, directory_start - 4)[0]
    directories = [
        struct.unpack_from("<II", data, directory_start + 8 * i) for i in range(directory_count)
    ]
    sections = []
    for i in range(count):
        header = optional + optional_size + 40 * i
        vsize, rva, raw_size, raw_offset = struct.unpack_from("<IIII", data, header + 8)
        sections.append((rva, vsize, raw_offset, raw_size))
    return PeFile(data, machine, subsystem, sections, directories)


def pe_resources(pe: PeFile) -> dict[tuple[int, int | str], bytes]:
    """(type, name) -> data of the first language of every resource."""
    if len(pe.directories) < 3 or not pe.directories[2][0]:
        return {}
    base = pe.offset(pe.directories[2][0])
    data = pe.data

    def entries(offset: int) -> list[tuple[int | str, int]]:
        named, numbered = struct.unpack_from("<HH", data, offset + 12)
        found = []
        for i in range(named + numbered):
            name, target = struct.unpack_from("<II", data, offset + 16 + 8 * i)
            if name & 0x80000000:
                at = base + (name & 0x7FFFFFFF)
                length = struct.unpack_from("<H", data, at)[0]
                key: int | str = data[at + 2 : at + 2 + 2 * length].decode("utf-16-le")
            else:
                key = name
            found.append((key, target))
        return found

    resources: dict[tuple[int, int | str], bytes] = {}
    for kind, kind_target in entries(base):
        for name, name_target in entries(base + (kind_target & 0x7FFFFFFF)):
            languages = entries(base + (name_target & 0x7FFFFFFF))
            if not languages or not isinstance(kind, int):
                continue
            leaf = base + languages[0][1]
            rva, size = struct.unpack_from("<II", data, leaf)
            start = pe.offset(rva)
            resources[(kind, name)] = data[start : start + size]
    return resources


def read_version_info(path: Path) -> VersionInfo:
    """The version resource of a PE file, parsed from its bytes (VS_VERSIONINFO)."""
    resources = pe_resources(read_pe(path))
    blob = next((v for (kind, _), v in resources.items() if kind == RT_VERSION), None)
    if blob is None:
        raise VerificationFailed(f"{path.name} has no version resource")
    root = _version_block(blob, 0)
    if len(root.value) < 52 or struct.unpack_from("<I", root.value, 0)[0] != 0xFEEF04BD:
        raise VerificationFailed(f"{path.name}: the version resource has no VS_FIXEDFILEINFO")
    file_ms, file_ls, product_ms, product_ls = struct.unpack_from("<IIII", root.value, 8)
    strings: dict[str, str] = {}
    for child in root.children:
        if child.key == "StringFileInfo":
            for table in child.children:
                for entry in table.children:
                    strings[entry.key] = entry.value.decode("utf-16-le").rstrip("\0")
    return VersionInfo(_four(file_ms, file_ls), _four(product_ms, product_ls), strings)


def _four(ms: int, ls: int) -> str:
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


@dataclass(frozen=True)
class _Block:
    key: str
    value: bytes
    children: list[_Block]
    end: int


def _version_block(data: bytes, offset: int) -> _Block:
    length, value_length, kind = struct.unpack_from("<HHH", data, offset)
    end = min(offset + length, len(data))
    key_end = offset + 6
    while data[key_end : key_end + 2] != b"\0\0":
        key_end += 2
    key = data[offset + 6 : key_end].decode("utf-16-le")
    position = _align(key_end + 2)
    # Text values count UTF-16 characters, binary ones bytes.
    size = value_length * 2 if kind == 1 else value_length
    value = data[position : min(position + size, end)]
    position = _align(position + size)
    children = []
    while position + 6 <= end:
        child = _version_block(data, position)
        if child.end <= position:
            break
        children.append(child)
        position = _align(child.end)
    return _Block(key, value, children, end)


def _align(offset: int) -> int:
    return (offset + 3) & ~3


def extract_icon(path: Path) -> bytes:
    """The executable's main icon as an .ico file (the installer uses the app's own icon)."""
    resources = pe_resources(read_pe(path))
    groups = sorted(
        ((name, blob) for (kind, name), blob in resources.items() if kind == RT_GROUP_ICON),
        key=lambda item: str(item[0]),
    )
    if not groups:
        raise VerificationFailed(f"{path.name} has no icon resource")
    group = groups[0][1]
    count = struct.unpack_from("<H", group, 4)[0]
    entries, images = [], []
    for i in range(count):
        width, height, colours, _, planes, bits, _, icon_id = struct.unpack_from(
            "<BBBBHHIH", group, 6 + 14 * i
        )
        image = resources.get((RT_ICON, icon_id))
        if image is None:
            raise VerificationFailed(f"{path.name}: icon image {icon_id} is missing")
        entries.append((width, height, colours, planes, bits, image))
    offset = 6 + 16 * len(entries)
    header = struct.pack("<HHH", 0, 1, len(entries))
    for width, height, colours, planes, bits, image in entries:
        header += struct.pack(
            "<BBBBHHII", width, height, colours, 0, planes, bits, len(image), offset
        )
        offset += len(image)
        images.append(image)
    return header + b"".join(images)


def verify_windows_exe(path: Path, release: Release) -> VersionInfo:
    """A 64-bit GUI executable whose version resource is this release, with an icon."""
    pe = read_pe(path)
    problems = []
    if pe.machine != 0x8664:
        problems.append(f"machine {pe.machine:#x}, not x86-64")
    if pe.subsystem != 2:
        problems.append(f"subsystem {pe.subsystem}, not Windows GUI (2)")
    info = read_version_info(path)
    expected = {
        "ProductName": release.product,
        "ProductVersion": release.version_text,
        "FileVersion": release.version_text,
        "CompanyName": release.publisher,
        "LegalCopyright": release.copyright,
    }
    for key, value in expected.items():
        if info.strings.get(key) != value:
            problems.append(f"{key} is {info.strings.get(key)!r}, expected {value!r}")
    if info.file_version != release.windows_version:
        problems.append(f"file version {info.file_version}, expected {release.windows_version}")
    if not any(kind == RT_GROUP_ICON for kind, _ in pe_resources(pe)):
        problems.append("no icon")
    if problems:
        raise VerificationFailed(f"{path.name}: " + "; ".join(problems))
    return info


def verify_linux_binary(path: Path, release: Release) -> str:
    """Run `<binary> --version`; it must name this release. Returns what it printed."""
    output = cmd.output_of([path.resolve(), "--version"], step="desktop --version", timeout=60)
    if release.version_text not in output.split():
        raise VerificationFailed(
            f"{path.name} --version printed {output!r}, expected {release.version_text}"
        )
    return output


# --- Running the builds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SmokeResult:
    version_output: str
    window_title: str
    window_size: tuple[int, int]
    screenshot: Path
    colours: int


def smoke_test_linux(
    binary: Path,
    release: Release,
    screenshot: Path,
    *,
    display: str | None = None,
    timeout: float = 90,
) -> SmokeResult:
    """Start the Linux app under Xvfb, wait for its window to render, save a screenshot (PNG).

    The app runs with an empty config folder, so what it shows does not depend on the machine.
    """
    version_output = verify_linux_binary(binary, release)
    with contextlib.ExitStack() as stack:
        display = display or stack.enter_context(wine.virtual_display())
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="traderadmin-ui-")))
        state = paths.state_dir() / "desktop-smoke"
        pid = cmd.start_background(
            [binary.resolve()],
            name=release.product,
            log_path=state / "app.log",
            pid_path=state / "app.pid",
            env={
                "DISPLAY": display,
                "XDG_CONFIG_HOME": str(scratch / "config"),
                "TRADERADMIN_CONFIG": None,
                # Xvfb has no GL: WebKit's compositing mode would draw nothing.
                "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
            },
        )
        stack.callback(_stop, pid)
        window, title, size = _wait_for_window(display, release.product, pid, timeout)
        colours = _wait_until_rendered(display, window, scratch, pid, timeout)
        if not wine.is_running(pid):
            raise VerificationFailed(f"{release.product} exited after opening its window")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(screenshot) as tmp:
            cmd.run(
                ["import", "-display", display, "-window", window, f"png:{tmp}"],
                step="screenshot",
                quiet=True,
            )
    say(f"✓ window {title!r} {size[0]}x{size[1]}, {colours} colours; screenshot {screenshot}")
    return SmokeResult(version_output, title, size, screenshot, colours)


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while wine.is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


_WINDOW_LINE = re.compile(r'^\s*(0x[0-9a-f]+) "([^"]*)": \(.*\)\s+(\d+)x(\d+)\+')


def _wait_for_window(
    display: str, title: str, pid: int, timeout: float
) -> tuple[str, str, tuple[int, int]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not wine.is_running(pid):
            raise VerificationFailed(
                f"{title} exited before opening a window",
                f"see {paths.state_dir() / 'desktop-smoke' / 'app.log'}",
            )
        tree = cmd.run(
            ["xwininfo", "-display", display, "-root", "-tree"],
            step="xwininfo",
            capture=True,
            quiet=True,
            check=False,
        ).output
        for line in tree.splitlines():
            match = _WINDOW_LINE.match(line)
            if match and match.group(2) == title:
                width, height = int(match.group(3)), int(match.group(4))
                if width >= 200 and height >= 200:
                    return match.group(1), title, (width, height)
        time.sleep(0.5)
    raise VerificationFailed(f"no {title} window appeared within {timeout:.0f}s")


def _wait_until_rendered(
    display: str, window: str, scratch: Path, pid: int, timeout: float, enough: int = 64
) -> int:
    """Wait until the window shows content (anti-aliased text has many colours), not a blank."""
    deadline = time.monotonic() + timeout
    colours = 0
    sample = scratch / "sample.ppm"
    while time.monotonic() < deadline and wine.is_running(pid):
        cmd.run(
            ["import", "-display", display, "-window", window, f"ppm:{sample}"],
            step="screenshot",
            quiet=True,
            check=False,
        )
        if sample.exists():
            colours = _distinct_colours(sample.read_bytes())
            if colours >= enough:
                return colours
        time.sleep(1)
    raise VerificationFailed(
        f"the window stayed blank ({colours} colours) for {timeout:.0f}s",
        "WebKit may have failed to render; see the app log under ~/.cache/traderadmin/state",
    )


def _distinct_colours(ppm: bytes) -> int:
    """Distinct colours of a binary PPM (P6) image, sampled on every 3rd pixel."""
    fields = ppm.split(maxsplit=4)
    if len(fields) < 5 or fields[0] != b"P6":
        return 0
    width, height = int(fields[1]), int(fields[2])
    pixels = fields[4]
    step = 9
    return len({pixels[i : i + 3] for i in range(0, min(len(pixels), width * height * 3), step)})


def run_selftest(
    prefix: wine.Prefix, exe: str, report: str, *, shortcut: str | None = None
) -> dict:
    """Run `<exe> --selftest <report>` in a Wine prefix and return the parsed report.

    With a shortcut (.lnk, a Windows path), the app is started through it the way Explorer
    does (`start`), with the arguments appended: that is launching it from the shortcut.
    """
    report_path = prefix.unix_path(report)
    report_path.unlink(missing_ok=True)
    if shortcut:
        prefix.run(["start", shortcut, "--selftest", report], step="selftest via shortcut")
        # `start` with a shortcut returns before the program ends.
        deadline = time.monotonic() + 120
        while not report_path.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        prefix.wait()
    else:
        prefix.run([exe, "--selftest", report], step="selftest")
    if not report_path.exists():
        raise VerificationFailed(f"{exe} --selftest wrote no report at {report}")
    return json.loads(report_path.read_text(encoding="utf-8"))
