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
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from build_scripts.core import cmd, daemon, paths
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import say
from build_scripts.windows.dll import go_runtime_shim

# Quiet, and no prompts to download Gecko or Mono, no menu entries written on the host.
WINE_ENV = {
    "WINEDEBUG": "-all",
    "WINEARCH": "win64",
    "WINEDLLOVERRIDES": "mscoree=d;mshtml=d;winemenubuilder.exe=d",
}


# What Wine 8's reg prints (exit code 1) for a key that is not there.
REG_KEY_MISSING = "reg: Unable to find the specified registry key"


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
        """The values of a registry key (DWORDs as int), or None when the key does not exist.

        Only reg's own "not found" means None: a `reg` that failed otherwise raises with what it
        printed, so a check never reports a missing key for a Wine that could not answer."""
        result = self.run(["reg", "query", key], step="wine", check=False, quiet=True)
        if result.returncode == 0:
            return parse_reg_query(result.output)
        if REG_KEY_MISSING in result.output:
            return None
        printed = " / ".join(line.strip() for line in result.output.splitlines() if line.strip())
        raise ReleaseError(
            f"wine reg query {key} exited {result.returncode}: {printed[-300:] or 'no output'}",
            f"run it yourself: WINEPREFIX={self.path} wine64 reg query '{key}'",
        )

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
            if PureWindowsPath(argv0).name.lower() == image_name.lower() and daemon.alive(
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


def install_go_runtime_shim(prefix: Prefix) -> Path:
    target = prefix.drive_c / "windows" / "system32" / "bcryptprimitives.dll"
    if not target.exists():
        target.write_bytes(go_runtime_shim())
    return target
