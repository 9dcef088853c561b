"""`installer.check`: install silently in a fresh Wine prefix, check files, registry and shortcuts,
run the app through its shortcuts, uninstall, and check that nothing is left."""

from __future__ import annotations

import contextlib
import getpass
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.windows import lnk, selftest, wine
from build_scripts.windows.installer import UNINSTALL_ROOT, UNINSTALLER, payload_files

PER_USER_UNINSTALL_ROOT = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall"

# Exit codes of a silent install; windows_installer.nsi defines them, README.md documents them.
EXIT_CODES = {
    0: "installed (or upgraded)",
    1: "cancelled by the user",
    2: "aborted: an error during installation",
    10: "Windows is older than Windows 10",
    11: "not 64-bit x64 Windows",
    12: "TraderAdmin is running; nothing was changed",
    13: "installed, but the embedded WebView2 Runtime setup failed",
    14: "a file, shortcut or registry value could not be written; the previous state is restored",
    15: "already installed in another folder (this scope); /D= refused; nothing was changed",
    16: "WebView2 Runtime missing and no bootstrapper embedded (silent); nothing was changed",
    17: "an all-users install or uninstall needs administrator rights; nothing was changed",
    18: "/ALLUSERS and /CURRENTUSER given together; nothing was changed",
    19: "all-users install into an existing folder other users can write to; nothing was changed",
    20: "installed by its MSI package: upgrade with a newer MSI or msiexec /x; nothing was changed",
}


EXIT_OK, EXIT_WINDOWS_TOO_OLD, EXIT_APP_RUNNING = 0, 10, 12


# Where an all-users install puts its shortcuts (Wine's layout is Windows 10's).
START_MENU_DIR = r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs"


PUBLIC_DESKTOP_DIR = r"C:\users\Public\Desktop"
# A per-user (/CURRENTUSER) install's folders, below the profile Wine makes for the Linux user.
PER_USER_PROFILE = r"C:\users\{user}"
PER_USER_START_MENU_DIR = r"AppData\Roaming\Microsoft\Windows\Start Menu\Programs"


def _registered_elsewhere(prefix: wine.Prefix, key: str) -> str:
    """Where else the uninstall key is, for the message: the other scope, or the 32-bit view
    (a 32-bit installer that forgot its 64-bit registry view writes there)."""
    other_scope = (
        key.replace("HKLM\\", "HKCU\\", 1)
        if key.startswith("HKLM")
        else key.replace("HKCU\\", "HKLM\\", 1)
    )
    view_32 = key.replace("\\Software\\", "\\Software\\WOW6432Node\\", 1)
    found = [where for where in (other_scope, view_32) if prefix.reg_query(where) is not None]
    return (
        f"; it is at {' and '.join(found)}"
        if found
        else "; not in the other scope or the 32-bit view"
    )


def uninstall_key(release: Release, *, per_user: bool = False) -> str:
    root = PER_USER_UNINSTALL_ROOT if per_user else UNINSTALL_ROOT
    return f"{root}\\{release.windows_uninstall_key}"


def default_install_dir(release: Release, *, per_user: bool = False) -> str:
    if per_user:
        return rf"{_profile()}\AppData\Local\Programs\{release.product}"
    return rf"C:\Program Files\{release.product}"


def shortcut_paths(release: Release, *, per_user: bool = False) -> dict[str, str]:
    name = f"{release.product}.lnk"
    if per_user:
        profile = _profile()
        return {
            "Start Menu": rf"{profile}\{PER_USER_START_MENU_DIR}\{name}",
            "Desktop": rf"{profile}\Desktop\{name}",
        }
    return {
        "Start Menu": rf"{START_MENU_DIR}\{name}",
        "Desktop": rf"{PUBLIC_DESKTOP_DIR}\{name}",
    }


def _profile() -> str:
    return PER_USER_PROFILE.format(user=getpass.getuser())


def run_installer(
    prefix: wine.Prefix,
    installer: Path,
    *,
    install_dir: str | None = None,
    timeout: float = 300,
    wait: bool = True,
    env: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
) -> int:
    """Install silently (/S, options such as /CURRENTUSER, optionally /D=dir); returns the
    installer's exit code.

    wait: also wait for every other program of the prefix (not while the app is kept running).
    """
    args = [str(installer), "/S", *options]
    if install_dir is not None:
        if " " in install_dir:
            # Wine quotes an argument with spaces; NSIS then ignores "/D=…".
            raise ConfigError(f"/D={install_dir}: use a directory without spaces under Wine")
        args.append(f"/D={install_dir}")  # NSIS wants /D= last
    result = prefix.run(args, step="install", check=False, timeout=timeout, env=env)
    if wait:
        prefix.wait()
    return result.returncode


def run_uninstaller(
    prefix: wine.Prefix,
    install_dir: str,
    *,
    remove_config: bool = False,
    in_place: bool = False,
    wait: bool = True,
) -> int:
    """Uninstall silently and wait for it; returns the exit code.

    The NSIS uninstaller copies itself to %TEMP% and returns at once; in_place (`_?=dir`, only
    for a directory without spaces under Wine) runs it where it is, so its exit code is the real
    one, and leaves uninstall.exe behind.
    """
    args = [rf"{install_dir}\{UNINSTALLER}", "/S"]
    if remove_config:
        args.append("/REMOVECONFIG")
    if in_place:
        if " " in install_dir:
            raise ConfigError(f"_?={install_dir}: use a directory without spaces under Wine")
        args.append(f"_?={install_dir}")
    result = prefix.run(args, step="uninstall", check=False)
    if wait:
        prefix.wait()
    return result.returncode


def installation_problems(
    prefix: wine.Prefix, release: Release, install_dir: str, *, per_user: bool = False
) -> list[str]:
    """Everything wrong with an installation (empty when files, shortcuts, registry are right)."""
    problems = []
    directory = prefix.unix_path(install_dir)
    for name in (*payload_files(release), UNINSTALLER):
        if not (directory / name).is_file():
            problems.append(f"{install_dir}\\{name} is missing")
    exe = rf"{install_dir}\{release.product}.exe"
    for where, link in shortcut_paths(release, per_user=per_user).items():
        path = prefix.unix_path(link)
        if not path.is_file():
            problems.append(f"no {where} shortcut ({link})")
            continue
        shortcut = lnk.read_shortcut(path)
        if not _same_path(shortcut.target, exe):
            problems.append(f"the {where} shortcut targets {shortcut.target!r}, not {exe!r}")
        if not _same_path(shortcut.working_dir, install_dir):
            problems.append(f"the {where} shortcut starts in {shortcut.working_dir!r}")
    key = uninstall_key(release, per_user=per_user)
    values = prefix.reg_query(key)
    if values is None:
        return [*problems, f"no uninstall registration ({key}){_registered_elsewhere(prefix, key)}"]
    expected = {
        "DisplayName": release.product,
        "DisplayVersion": release.version_text,
        "Publisher": release.publisher,
        "DisplayIcon": f"{exe},0",
        "InstallLocation": install_dir,
        "UninstallString": f'"{install_dir}\\{UNINSTALLER}"',
        "QuietUninstallString": f'"{install_dir}\\{UNINSTALLER}" /S',
        "NoModify": 1,
        "NoRepair": 1,
    }
    for name, value in expected.items():
        if values.get(name) != value:
            problems.append(f"registry {name} is {values.get(name)!r}, expected {value!r}")
    size = values.get("EstimatedSize")
    on_disk = sum(f.stat().st_size for f in directory.iterdir() if f.is_file()) // 1024
    if not isinstance(size, int) or not (on_disk * 0.8 <= size <= on_disk * 1.25 + 64):
        problems.append(f"registry EstimatedSize is {size!r} KiB; the files take {on_disk} KiB")
    return problems


def removal_problems(
    prefix: wine.Prefix,
    release: Release,
    install_dir: str,
    *,
    kept: tuple[str, ...] = (),
    per_user: bool = False,
) -> list[str]:
    """What an uninstall left behind, apart from the files named in kept (user data)."""
    problems = []
    directory = prefix.unix_path(install_dir)
    if directory.exists():
        left = sorted(p.name for p in directory.iterdir())
        unexpected = [name for name in left if name not in kept]
        if unexpected:
            problems.append(f"{install_dir} still holds {', '.join(unexpected)}")
        if not left:
            problems.append(f"{install_dir} is empty but was not removed")
    for name in kept:
        if not (directory / name).is_file():
            problems.append(f"{install_dir}\\{name} (user data) was deleted")
    for where, link in shortcut_paths(release, per_user=per_user).items():
        if prefix.unix_path(link).exists():
            problems.append(f"the {where} shortcut is still there ({link})")
    key = uninstall_key(release, per_user=per_user)
    if prefix.reg_query(key) is not None:
        problems.append(f"the uninstall registration is still there ({key})")
    return problems


def _same_path(left: str, right: str) -> bool:
    return PureWindowsPath(left) == PureWindowsPath(right)


@dataclass(frozen=True)
class CheckReport:
    install_dir: str
    selftests: dict[str, dict]  # shortcut -> the app's self-test report


def check_in_wine(
    installer: Path,
    release: Release,
    *,
    display: str | None = None,
    prefix: wine.Prefix | None = None,
) -> CheckReport:
    """Install silently into a fresh Windows 10 prefix (the default directory), check files,
    shortcuts and registration, start the app through each shortcut (self-test), uninstall and
    check that it is gone. VerificationFailed lists every problem of the failing stage.

    prefix: a fresh prefix to use (the tests copy one), instead of making one.
    """
    with contextlib.ExitStack() as stack:
        if prefix is None:
            prefix = stack.enter_context(wine.fresh_prefix(display=display))
        return _check_in_prefix(prefix, installer, release)


def _check_in_prefix(prefix: wine.Prefix, installer: Path, release: Release) -> CheckReport:
    install_dir = default_install_dir(release)
    exe = rf"{install_dir}\{release.product}.exe"
    # A release build without the bootstrapper refuses a silent install on a machine
    # without the runtime (exit 16); Windows 10/11 machines have it.
    wine.register_webview2_runtime(prefix)
    code = run_installer(prefix, installer)
    problems = [] if code == EXIT_OK else [f"the installer exited {code}: {EXIT_CODES[code]}"]
    _fail_on(problems + installation_problems(prefix, release, install_dir), "installation")
    reports = {}
    for index, (where, link) in enumerate(shortcut_paths(release).items()):
        report = selftest.run_selftest(prefix, exe, rf"C:\selftest-{index}.json", shortcut=link)
        _fail_on(selftest_problems(report, release, install_dir), f"{where} shortcut")
        reports[link] = report
    code = run_uninstaller(prefix, install_dir)
    problems = [] if code == EXIT_OK else [f"the uninstaller exited {code}"]
    _fail_on(problems + removal_problems(prefix, release, install_dir), "uninstall")
    return CheckReport(install_dir, reports)


def selftest_problems(report: dict, release: Release, install_dir: str) -> list[str]:
    problems = []
    if report.get("version") != release.version_text:
        problems.append(f"the app reports version {report.get('version')!r}")
    if not _same_path(str(report.get("executable", "")), rf"{install_dir}\{release.product}.exe"):
        problems.append(f"the self-test ran {report.get('executable')!r}")
    if (report.get("os"), report.get("arch")) != ("windows", "amd64"):
        problems.append(f"the self-test ran on {report.get('os')}/{report.get('arch')}")
    return problems


def _fail_on(problems: list[str], what: str) -> None:
    if problems:
        raise VerificationFailed(f"{what}: " + "; ".join(problems))
