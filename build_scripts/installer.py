"""The Windows installer: dist/<version>/TraderAdmin_Setup_v<version>.exe, compiled with makensis
from build_scripts/windows_installer.nsi, and the checks of what it does inside a Wine prefix.

The build stages the payload (the Wails-built TraderAdmin.exe, config.toml.example, README.html
made from README.md, LICENSE.txt and the app's own icon) with fixed modification times, so the
same inputs give the same installer bytes. makensis writes to a temporary name next to the
destination; only a verified installer is renamed into place, so a failed build leaves the
previous one untouched.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import markdown

from build_scripts import atomic, cmd, desktop, paths, signing, webview2, wine
from build_scripts.errors import CommandFailed, ConfigError, ReleaseError, VerificationFailed
from build_scripts.metadata import Release
from build_scripts.progress import say
from build_scripts.signing import SigningConfig
from build_scripts.summary import Artifact

SCRIPT = Path(__file__).with_name("windows_installer.nsi")
INSTALLER_BUDGET_MB = 10.0
UNINSTALL_ROOT = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall"
PER_USER_UNINSTALL_ROOT = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALLER = "uninstall.exe"

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
}
EXIT_OK, EXIT_WINDOWS_TOO_OLD, EXIT_APP_RUNNING = 0, 10, 12

# Where an all-users install puts its shortcuts (Wine's layout is Windows 10's).
START_MENU_DIR = r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs"
PUBLIC_DESKTOP_DIR = r"C:\users\Public\Desktop"
# A per-user (/CURRENTUSER) install's folders, below the profile Wine makes for the Linux user.
PER_USER_PROFILE = r"C:\users\{user}"
PER_USER_START_MENU_DIR = r"AppData\Roaming\Microsoft\Windows\Start Menu\Programs"


def installer_path(release: Release, root: Path | None = None) -> Path:
    return (root if root is not None else release.dist_dir) / release.installer_name


def payload_files(release: Release) -> tuple[str, ...]:
    """The files the installer puts into the install directory (besides the uninstaller)."""
    return (f"{release.product}.exe", "config.toml.example", "README.html", "LICENSE.txt")


# --- Building -------------------------------------------------------------------------------------


def render_readme(markdown_text: str, title: str) -> str:
    """README.md as a standalone HTML page (installed as README.html)."""
    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code", "toc"])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        "<style>body{font-family:Segoe UI,sans-serif;max-width:52em;margin:2em auto;"
        "padding:0 1em;line-height:1.5}pre,code{background:#f4f4f4}pre{padding:.6em;"
        "overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:.2em .5em}</style>\n"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


@dataclass(frozen=True)
class Payload:
    directory: Path  # LICENSE.txt, README.html, config.toml.example
    app_exe: Path
    icon: Path


def stage_payload(
    release: Release,
    directory: Path,
    *,
    app_exe: Path,
    icon: Path | None = None,
    repo: Path | None = None,
) -> Payload:
    """Copy and generate everything the installer packs, with the commit's time as mtime."""
    repo = repo or paths.repo_root()
    directory.mkdir(parents=True, exist_ok=True)
    sources = {
        "LICENSE.txt": repo / "LICENSE.txt",
        "README.md": repo / "README.md",
        "config.toml.example": repo / "desktop" / "config.toml.example",
    }
    for source in sources.values():
        if not source.is_file():
            raise ReleaseError(f"{source} is missing; the installer packs it", "restore it")
    # Notepad on older Windows 10 shows LF-only text as one line.
    for name in ("LICENSE.txt", "config.toml.example"):
        text = sources[name].read_text(encoding="utf-8")
        (directory / name).write_bytes(_crlf(text).encode("utf-8"))
    (directory / "README.html").write_text(
        render_readme(sources["README.md"].read_text(encoding="utf-8"), release.product),
        encoding="utf-8",
        newline="\r\n",
    )
    staged_exe = directory / "app" / f"{release.product}.exe"
    staged_exe.parent.mkdir(exist_ok=True)
    shutil.copyfile(app_exe, staged_exe)
    staged_icon = directory / "app" / "icon.ico"
    if icon is not None:
        shutil.copyfile(icon, staged_icon)
    else:
        staged_icon.write_bytes(desktop.extract_icon(app_exe))
    # File dates are stored in the installer: fixed dates give the same bytes on every build.
    for path in directory.rglob("*"):
        os.utime(path, (release.source_date_epoch, release.source_date_epoch))
    return Payload(directory, staged_exe, staged_icon)


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def nsis_string(value: str) -> str:
    """A value safe inside a double-quoted NSIS string ($ starts a variable, " ends it)."""
    if any(ch in value for ch in "\r\n"):
        raise ConfigError(f"{value!r} spans lines; installer metadata must be one line")
    return value.replace("$", "$$").replace('"', '$\\"')


def makensis_defines(
    release: Release,
    payload: Payload,
    outfile: Path,
    *,
    webview2_bootstrapper: Path | None = None,
    sign: bool = False,
) -> list[str]:
    values = {
        "PRODUCT_NAME": release.product,
        "PRODUCT_VERSION": release.version_text,
        "VI_VERSION": release.windows_version,
        "PUBLISHER": release.publisher,
        "COPYRIGHT": release.copyright,
        "HOMEPAGE": release.homepage,
        "UNINST_KEY_NAME": release.windows_uninstall_key,
        "APP_EXE": str(payload.app_exe),
        "PAYLOAD_DIR": str(payload.directory),
        "ICON": str(payload.icon),
        "OUTFILE": str(outfile),
    }
    if webview2_bootstrapper is not None:
        values["WEBVIEW2_BOOTSTRAPPER"] = str(webview2_bootstrapper)
    if sign:
        values["SIGN_COMMAND"] = signing.finalize_command()
    return [f"-D{name}={nsis_string(value)}" for name, value in values.items()]


def compile_script(script: Path, defines: list[str], *, env: dict[str, str] | None = None) -> None:
    """Run makensis; a script error fails with makensis's own error line and the cause."""
    argv: list[str | os.PathLike] = ["makensis", "-V2", "-WX", "-INPUTCHARSET", "UTF8"]
    argv += [*defines, script]
    result = cmd.run(argv, step="makensis", env=env, capture=True, check=False, timeout=600)
    if result.returncode == 0:
        return
    # At -V2 makensis prints only warnings and errors: the first line is the cause, the
    # "Error in script … on line N" line says where (its "Note: … stale temporary file" may
    # come after it).
    lines = [line.strip() for line in result.output.splitlines() if line.strip()]
    where = next(
        (i for i in reversed(range(len(lines))) if lines[i].startswith("Error in script")),
        next((i for i in reversed(range(len(lines))) if lines[i].startswith("Error")), -1),
    )
    where = where if where >= 0 else len(lines) - 1
    cause = lines[0] if lines and where > 0 else ""
    raise CommandFailed(
        "makensis",
        ["makensis", str(script)],
        result.returncode,
        lines[: where + 1] if lines else [],
        f"cause: {cause} — fix the script at that line" if cause else None,
    )


def build_installer(
    release: Release,
    *,
    app_exe: Path | None = None,
    root: Path | None = None,
    script: Path | None = None,
    webview2_bootstrapper: Path | None = None,
    signing_config: SigningConfig | None = None,
    max_mb: float = INSTALLER_BUDGET_MB,
    icon: Path | None = None,
    verify_app: bool = True,
) -> Artifact:
    """Compile, verify and place TraderAdmin_Setup_v<version>.exe; returns its Artifact."""
    script = (script or SCRIPT).resolve()
    if not script.is_file():
        raise ConfigError(f"installer script {script} does not exist")
    app_exe = app_exe or desktop.binary_path(release, "windows/amd64")
    if not app_exe.is_file():
        raise ReleaseError(
            f"{app_exe} does not exist",
            f"build it first: invoke desktop.build --platform windows/amd64 "
            f"--version {release.version_text}",
        )
    if verify_app:
        desktop.verify_windows_exe(app_exe, release)
    if webview2_bootstrapper is not None:
        webview2_bootstrapper = webview2_bootstrapper.resolve()
        if webview2_bootstrapper.read_bytes()[:2] != b"MZ":
            raise ConfigError(f"{webview2_bootstrapper} is not a Windows program")
    destination = installer_path(release, root)
    env = {"SOURCE_DATE_EPOCH": str(release.source_date_epoch)}
    if signing_config:
        env |= signing_config.env() | {
            signing.ENV_DESCRIPTION: f"{release.product} Setup",
            signing.ENV_URL: release.homepage,
            # makensis runs `python -m build_scripts.signing` from its own directory.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(paths.repo_root()), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
    with tempfile.TemporaryDirectory(prefix="traderadmin-installer-") as scratch:
        payload = stage_payload(release, Path(scratch) / "payload", app_exe=app_exe, icon=icon)
        with atomic.atomic_path(destination) as tmp:
            defines = makensis_defines(
                release,
                payload,
                tmp,
                webview2_bootstrapper=webview2_bootstrapper,
                sign=signing_config is not None,
            )
            compile_script(script, defines, env=env)
            verify_installer(tmp, release, signed=signing_config is not None)
            budget = desktop.check_budget(tmp, max_mb, release.installer_name)
    parts = ("windows/amd64", signing.note(signing_config), webview2.note(webview2_bootstrapper))
    note = ", ".join((*parts, budget))
    say(f"✓ {destination} ({note})")
    return Artifact(destination, note)


def verify_installer(path: Path, release: Release, *, signed: bool) -> None:
    pe = desktop.read_pe(path)
    problems = []
    if pe.machine != 0x8664 or pe.subsystem != 2:
        problems.append("not a 64-bit Windows GUI program")
    info = desktop.read_version_info(path)
    if info.strings.get("ProductVersion") != release.version_text:
        problems.append(f"ProductVersion is {info.strings.get('ProductVersion')!r}")
    if info.file_version != release.windows_version:
        problems.append(f"file version {info.file_version}, expected {release.windows_version}")
    if signed and not signing.is_signed(path):
        problems.append("not signed although a certificate is configured")
    if problems:
        raise VerificationFailed(f"{release.installer_name}: " + "; ".join(problems))


# --- What an installer does inside a Wine prefix --------------------------------------------------


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
        shortcut = wine.read_shortcut(path)
        if not _same_path(shortcut.target, exe):
            problems.append(f"the {where} shortcut targets {shortcut.target!r}, not {exe!r}")
        if not _same_path(shortcut.working_dir, install_dir):
            problems.append(f"the {where} shortcut starts in {shortcut.working_dir!r}")
    key = uninstall_key(release, per_user=per_user)
    values = prefix.reg_query(key)
    if values is None:
        return [*problems, f"no uninstall registration ({key})"]
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
        report = desktop.run_selftest(prefix, exe, rf"C:\selftest-{index}.json", shortcut=link)
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
