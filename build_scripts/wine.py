"""A Windows test environment on Linux: Wine prefixes, a virtual display, and reading back what a
Windows program left behind (registry values, shortcuts).

The installer tests, the behave scenarios and `invoke installer.check` share these helpers. Wine
quirks are handled here, once:

- Debian installs wine64 outside PATH; the tool catalogue finds it (tools.py).
- A fresh Wine 8 prefix reports Windows 7; `create_prefix` sets Windows 10.
- Wine 8 has no bcryptprimitives.dll, which every Go >= 1.22 program loads at start; the prefix
  gets a stand-in (see `go_runtime_shim`).
- Wine returns 0 even when a program could not run at all (a 32-bit installer without
  wine32); callers check files and registry, never only the exit code.
- Programs keep running after wine64 returns (the NSIS uninstaller relaunches itself from a
  temporary copy): `Prefix.wait` waits for every process of the prefix (`wineserver -w`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from build_scripts import cmd, paths
from build_scripts.errors import ReleaseError, VerificationFailed
from build_scripts.progress import say

# Quiet, and no prompts to download Gecko or Mono, no menu entries written on the host.
WINE_ENV = {
    "WINEDEBUG": "-all",
    "WINEARCH": "win64",
    "WINEDLLOVERRIDES": "mscoree=d;mshtml=d;winemenubuilder.exe=d",
}

SCREEN = "1280x1024x24"


# --- Virtual display ------------------------------------------------------------------------------


@contextlib.contextmanager
def virtual_display(screen: str = SCREEN) -> Iterator[str]:
    """Start an Xvfb server on a free display number; yield its DISPLAY value; stop it.

    Wine programs and the Linux app need an X server even when no one looks at it. One server
    serves every command of a test, so windows and Wine's desktop process outlive single calls
    (xvfb-run would stop the server after each command).
    """
    number = _free_display_number()
    state = paths.state_dir() / "xvfb"
    pid_path = state / f"display-{number}.pid"
    pid = cmd.start_background(
        ["Xvfb", f":{number}", "-screen", "0", screen, "-nolisten", "tcp"],
        name=f"Xvfb :{number}",
        log_path=state / f"display-{number}.log",
        pid_path=pid_path,
    )
    try:
        socket = Path(f"/tmp/.X11-unix/X{number}")
        deadline = time.monotonic() + 30
        while not socket.exists():
            if time.monotonic() > deadline or not is_running(pid):
                raise ReleaseError(
                    f"Xvfb :{number} did not start", f"see its log: {state}/display-{number}.log"
                )
            time.sleep(0.1)
        yield f":{number}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        pid_path.unlink(missing_ok=True)


def _free_display_number(start: int = 90) -> int:
    for number in range(start, start + 100):
        if not (
            Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise ReleaseError("no free X display number between :90 and :189")


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


# --- Prefixes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prefix:
    """One Wine prefix (a simulated Windows installation) and the display its programs use."""

    path: Path
    display: str | None = None

    @property
    def drive_c(self) -> Path:
        return self.path / "drive_c"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str | None]:
        env: dict[str, str | None] = {**WINE_ENV, "WINEPREFIX": str(self.path)}
        if self.display:
            env["DISPLAY"] = self.display
        return {**env, **(extra or {})}

    def run(
        self,
        args: list[str],
        *,
        step: str = "wine",
        check: bool = True,
        timeout: float = 300,
        quiet: bool = False,
        env: dict[str, str] | None = None,
    ) -> cmd.Completed:
        """Run a Windows program (a path inside the prefix, a host path, or a builtin)."""
        return cmd.run(
            ["wine64", *args],
            step=step,
            env=self.env(env),
            capture=True,
            check=check,
            timeout=timeout,
            quiet=quiet,
        )

    def start(self, args: list[str], *, name: str, env: dict[str, str] | None = None) -> int:
        """Start a Windows program in the background; returns the pid of its wine process."""
        state = paths.state_dir() / "wine"
        return cmd.start_background(
            ["wine64", *args],
            name=name,
            log_path=state / f"{name}.log",
            pid_path=state / f"{name}.pid",
            env=self.env(env),
        )

    def wait(self, timeout: float = 180) -> None:
        """Wait until every program of the prefix has exited and the registry is saved."""
        cmd.run(["wineserver", "-w"], step="wine", env=self.env(), timeout=timeout, quiet=True)

    def shutdown(self) -> None:
        """Stop every program of this prefix (and only this prefix)."""
        cmd.run(["wineserver", "-k"], step="wine", env=self.env(), check=False, quiet=True)
        with contextlib.suppress(ReleaseError):
            self.wait(timeout=30)

    def unix_path(self, windows_path: str) -> Path:
        """C:\\Program Files\\X -> <prefix>/drive_c/Program Files/X."""
        path = PureWindowsPath(windows_path)
        if path.drive.upper() != "C:":
            raise ValueError(f"{windows_path} is not on drive C:")
        return self.drive_c.joinpath(*path.parts[1:])

    def set_windows_version(self, version: str) -> None:
        """winecfg -v win7 / win10 / win11: the version programs see."""
        self.run(["winecfg", "-v", version], step="wine", quiet=True)

    def windows_version(self) -> str:
        """The version string of `ver`, e.g. '10.0.18362'."""
        output = self.run(["cmd", "/c", "ver"], step="wine", quiet=True).output
        match = re.search(r"(\d+\.\d+\.\d+)", output)
        return match.group(1) if match else output.strip()

    def reg_query(self, key: str) -> dict[str, str | int] | None:
        """The values of a registry key (DWORDs as int), or None when the key does not exist."""
        result = self.run(["reg", "query", key], step="wine", check=False, quiet=True)
        if result.returncode != 0:
            return None
        return parse_reg_query(result.output)

    def processes(self, image_name: str) -> list[int]:
        """Host pids of the prefix's running programs whose executable is named image_name."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if f"WINEPREFIX={self.path}".encode() not in environ:
                continue
            if PureWindowsPath(argv0).name.lower() == image_name.lower() and is_running(
                int(entry.name)
            ):
                found.append(int(entry.name))
        return found


def create_prefix(path: Path, *, display: str | None = None, windows: str = "win10") -> Prefix:
    """A new 64-bit prefix at path, set to the given Windows version, ready for Go programs."""
    if path.exists() and any(path.iterdir()):
        raise ReleaseError(f"{path} is not empty", "a test prefix must start fresh")
    prefix = Prefix(path, display)
    say(f"Creating a Wine prefix in {path} ({windows})")
    prefix.run(["wineboot", "--init"], step="wineboot", quiet=True)
    prefix.wait()
    use_own_profile_folders(prefix)
    install_go_runtime_shim(prefix)
    prefix.set_windows_version(windows)
    return prefix


def use_own_profile_folders(prefix: Prefix) -> None:
    """Replace the links Wine makes from Desktop, Documents… to the Linux home by folders.

    Otherwise a per-user shortcut lands in the host's home (/root), outside the prefix, where
    every other prefix sees it too.
    """
    for profile in (prefix.drive_c / "users").iterdir():
        for entry in profile.iterdir() if profile.is_dir() else ():
            if entry.is_symlink():
                entry.unlink()
                entry.mkdir()


# Microsoft's detection key of the Evergreen WebView2 Runtime (64-bit Windows, per machine).
WEBVIEW2_KEY = (
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients"
    r"\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
)


def register_webview2_runtime(prefix: Prefix, version: str = "120.0.2210.91") -> None:
    """Make the prefix look like Windows with the WebView2 Runtime (the detection key only).

    The installer checks this key; the app's --selftest does not start WebView2.
    """
    prefix.run(["reg", "add", WEBVIEW2_KEY, "/v", "pv", "/d", version, "/f"], step="wine")


def unregister_webview2_runtime(prefix: Prefix) -> None:
    prefix.run(["reg", "delete", WEBVIEW2_KEY, "/f"], step="wine", check=False, quiet=True)


@contextlib.contextmanager
def fresh_prefix(*, display: str | None = None, windows: str = "win10") -> Iterator[Prefix]:
    """A prefix in a new temporary directory; its programs are stopped and it is deleted after."""
    root = Path(tempfile.mkdtemp(prefix="traderadmin-wine-"))
    prefix = Prefix(root / "prefix", display)
    try:
        yield create_prefix(prefix.path, display=display, windows=windows)
    finally:
        prefix.shutdown()
        shutil.rmtree(root, ignore_errors=True)


# --- Go programs under Wine 8 ---------------------------------------------------------------------


def go_runtime_shim() -> bytes:
    """bcryptprimitives.dll for Wine 8: one export, ProcessPrng, forwarded to RtlGenRandom.

    Go >= 1.22 programs load bcryptprimitives.dll!ProcessPrng when they start and die with
    "bcryptprimitives.dll not found" without it. Wine gained the DLL in 9.0; Debian 12 has 8.0.
    advapi32!SystemFunction036 (RtlGenRandom) takes the same two arguments (buffer, length) and
    returns TRUE, so a forwarder is enough: the DLL holds no code. Real Windows 10 has the DLL;
    this exists only in test prefixes.
    """
    return forwarding_dll("bcryptprimitives.dll", {"ProcessPrng": "advapi32.SystemFunction036"})


def install_go_runtime_shim(prefix: Prefix) -> Path:
    target = prefix.drive_c / "windows" / "system32" / "bcryptprimitives.dll"
    if not target.exists():
        target.write_bytes(go_runtime_shim())
    return target


def forwarding_dll(dll_name: str, forwards: dict[str, str]) -> bytes:
    """A minimal PE32+ (x64) DLL whose exports are forwarders ("module.Function"), no code."""
    names = sorted(forwards)
    count = len(names)
    section_rva, file_alignment, section_alignment = 0x1000, 0x200, 0x1000
    functions = section_rva + 40
    name_pointers = functions + 4 * count
    ordinals = name_pointers + 4 * count
    strings = bytearray()
    strings_rva = ordinals + 2 * count

    def string(text: str) -> int:
        rva = strings_rva + len(strings)
        strings.extend(text.encode("ascii") + b"\0")
        return rva

    dll_name_rva = string(dll_name)
    name_rvas = [string(name) for name in names]
    # An export whose address points inside the export directory is a forwarder string.
    forward_rvas = [string(forwards[name]) for name in names]
    # IMAGE_EXPORT_DIRECTORY: flags, time stamp, version, name, ordinal base, counts, tables.
    directory = (0, 0, 0, 0, dll_name_rva, 1, count, count, functions, name_pointers, ordinals)
    edata = struct.pack("<IIHHIIIIIII", *directory)
    edata += b"".join(struct.pack("<I", rva) for rva in forward_rvas)
    edata += b"".join(struct.pack("<I", rva) for rva in name_rvas)
    edata += b"".join(struct.pack("<H", index) for index in range(count))
    edata += bytes(strings)
    raw_size = -(-len(edata) // file_alignment) * file_alignment
    image_size = section_rva + -(-len(edata) // section_alignment) * section_alignment

    dos_header = b"MZ" + bytes(58) + struct.pack("<I", 0x40)
    # AMD64, one section, optional header of 240 bytes; executable image | large address | DLL.
    coff_header = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x2022)
    optional = struct.pack("<HBBIIIII", 0x20B, 1, 0, 0, raw_size, 0, 0, section_rva)
    optional += struct.pack(
        "<QIIHHHHHHIIIIHHQQQQII",
        0x180000000,  # image base
        section_alignment,
        file_alignment,
        6, 0, 0, 0, 6, 0,  # OS, image and subsystem versions
        0,
        image_size,
        file_alignment,  # size of headers
        0,  # checksum
        3,  # console subsystem
        0x100,  # NX compatible; no relocations needed: nothing holds an absolute address
        0x100000, 0x1000, 0x100000, 0x1000,  # stack and heap reserve/commit
        0,
        16,
    )  # fmt: skip
    optional += struct.pack("<II", section_rva, len(edata)) + bytes(8 * 15)
    section = struct.pack(
        "<8sIIIIIIHHI",
        b".edata",
        len(edata),
        section_rva,
        raw_size,
        file_alignment,
        0,
        0,
        0,
        0,
        0x40000040,  # initialised data, readable
    )
    headers = dos_header + b"PE\0\0" + coff_header + optional + section
    headers += bytes(file_alignment - len(headers))
    return headers + edata + bytes(raw_size - len(edata))


# --- Driving a wizard ----------------------------------------------------------------------------


def window_titles(display: str) -> list[str]:
    """Titles of the named top-level windows on a display."""
    tree = cmd.run(
        ["xwininfo", "-display", display, "-root", "-children"],
        step="xwininfo",
        capture=True,
        quiet=True,
        check=False,
    ).output
    return re.findall(r'^\s*0x[0-9a-f]+ "([^"]*)":', tree, re.M)


def press_enter_through(
    display: str,
    title: str,
    *,
    screenshots: Path | None = None,
    timeout: float = 180,
    settle: float = 2.0,
) -> int:
    """Press Enter on a wizard until no window whose title starts with `title` is left.

    Enter presses each page's default button (Next, I Agree, Install, OK, Finish, Close), which
    is what a user accepting every default does. With screenshots, each page is saved there as
    PNG before its button is pressed. Returns the number of presses.
    """
    presses = 0
    deadline = time.monotonic() + timeout
    env = {"DISPLAY": display}
    while not any(t.startswith(title) for t in window_titles(display)):
        if time.monotonic() > deadline:
            raise VerificationFailed(f"no {title!r} window appeared within {timeout:.0f}s")
        time.sleep(0.5)
    while time.monotonic() < deadline:
        time.sleep(settle)  # let the page (or the next window) appear
        if not any(t.startswith(title) for t in window_titles(display)):
            return presses
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            shot = screenshots / f"{presses + 1:02d}.png"
            cmd.run(
                ["import", "-display", display, "-window", "root", f"png:{shot}"],
                step="screenshot",
                quiet=True,
                check=False,
            )
        cmd.run(["xdotool", "key", "Return"], step="xdotool", env=env, quiet=True)
        presses += 1
    raise VerificationFailed(f"the {title!r} wizard was still open after {timeout:.0f}s")


# --- Reading back what a Windows program left -----------------------------------------------------


def parse_reg_query(output: str) -> dict[str, str | int]:
    """The values listed by `reg query KEY` (REG_DWORD/REG_QWORD as int)."""
    values: dict[str, str | int] = {}
    for line in output.splitlines():
        if not line.startswith("    "):
            continue
        parts = line.strip().split("    ", 2)
        if len(parts) < 2 or not parts[1].startswith("REG_"):
            continue
        name, kind = parts[0], parts[1]
        data = parts[2] if len(parts) == 3 else ""
        if name == "(Default)":
            name = ""
        values[name] = int(data, 16) if kind in ("REG_DWORD", "REG_QWORD") else data
    return values


@dataclass(frozen=True)
class Shortcut:
    target: str
    working_dir: str
    arguments: str
    icon_location: str


# Shell link flags (MS-SHLLINK 2.1.1).
_HAS_ID_LIST, _HAS_LINK_INFO, _IS_UNICODE = 0x1, 0x2, 0x80
_STRING_FLAGS = (
    ("name", 0x4),
    ("relative_path", 0x8),
    ("working_dir", 0x10),
    ("arguments", 0x20),
    ("icon_location", 0x40),
)


def read_shortcut(path: Path) -> Shortcut:
    """The target, working directory, arguments and icon of a Windows .lnk file."""
    data = path.read_bytes()
    if len(data) < 0x4C or struct.unpack_from("<I", data, 0)[0] != 0x4C:
        raise VerificationFailed(f"{path} is not a Windows shortcut (.lnk)")
    flags = struct.unpack_from("<I", data, 0x14)[0]
    offset = 0x4C
    if flags & _HAS_ID_LIST:
        offset += 2 + struct.unpack_from("<H", data, offset)[0]
    target = ""
    if flags & _HAS_LINK_INFO:
        info = offset
        size, header_size, info_flags = struct.unpack_from("<III", data, info)
        base_offset, suffix_offset = struct.unpack_from("<I", data, info + 16)[0], 0
        suffix_offset = struct.unpack_from("<I", data, info + 24)[0]
        if header_size >= 0x24:
            unicode_base = struct.unpack_from("<I", data, info + 28)[0]
            if info_flags & 1 and unicode_base:
                target = _wide_string(data, info + unicode_base)
        if not target and info_flags & 1:
            target = _ansi_string(data, info + base_offset) + _ansi_string(
                data, info + suffix_offset
            )
        offset += size
    strings: dict[str, str] = {}
    wide = bool(flags & _IS_UNICODE)
    for name, bit in _STRING_FLAGS:
        if flags & bit:
            count = struct.unpack_from("<H", data, offset)[0]
            offset += 2
            width = 2 if wide else 1
            raw = data[offset : offset + count * width]
            offset += count * width
            text = raw.decode("utf-16-le" if wide else "cp1252", errors="replace")
            # Wine counts the terminating NUL; Windows does not.
            strings[name] = text.rstrip("\0")
    return Shortcut(
        target=target,
        working_dir=strings.get("working_dir", ""),
        arguments=strings.get("arguments", ""),
        icon_location=strings.get("icon_location", ""),
    )


def _ansi_string(data: bytes, offset: int) -> str:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("cp1252", errors="replace")


def _wide_string(data: bytes, offset: int) -> str:
    end = offset
    while data[end : end + 2] != b"\0\0":
        end += 2
    return data[offset:end].decode("utf-16-le", errors="replace")
