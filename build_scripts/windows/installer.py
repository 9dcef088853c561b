"""The Windows installer: dist/<version>/TraderAdmin_Setup_v<version>.exe, compiled with makensis
from build_scripts/windows_installer.nsi, and the checks of what it does inside a Wine prefix.

The build stages the payload (the Wails-built TraderAdmin.exe, config.toml.example, README.html
made from README.md, LICENSE.txt and the app's own icon) with fixed modification times, so the
same inputs give the same installer bytes. makensis writes to a temporary name next to the
destination; only a verified installer is renamed into place, so a failed build leaves the
previous one untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import markdown

from build_scripts.core import artifacts, atomic, cmd, paths
from build_scripts.core.artifacts import Artifact, Kind
from build_scripts.core.errors import CommandFailed, ConfigError, ReleaseError, VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.windows import distribution, pe, signing, webview2
from build_scripts.windows.signing import SigningConfig

# The plan names this path: the script stays at the package root, beside the wings.
SCRIPT = Path(__file__).parent.parent / "windows_installer.nsi"
# What the release reads here (release/code_inputs.py): the script and the files it packs.
RELEASE_READS = (
    "build_scripts/windows_installer.nsi",
    "LICENSE.txt",
    "README.md",
    "desktop/config.toml.example",
)
INSTALLER_BUDGET_MB = 10.0
UNINSTALL_ROOT = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALLER = "uninstall.exe"


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
        staged_icon.write_bytes(pe.extract_icon(app_exe))
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
        "MSI_UPGRADE_CODE": distribution.load().msi_upgrade_code,
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


def require_app_exe(app_exe: Path, release: Release, *, verify: bool = True) -> None:
    """The desktop build's TraderAdmin.exe, there and (verify) this release's; both Windows
    packages (this installer and the MSI) pack it."""
    if not app_exe.is_file():
        raise ReleaseError(
            f"{app_exe} does not exist",
            f"build it first: invoke desktop.build --platform windows/amd64 "
            f"--version {release.version_text}",
        )
    if verify:
        pe.verify_windows_exe(app_exe, release)


def build_installer(
    release: Release,
    *,
    app_exe: Path,
    root: Path | None = None,
    script: Path | None = None,
    webview2_bootstrapper: Path | None = None,
    signing_config: SigningConfig | None = None,
    max_mb: float = INSTALLER_BUDGET_MB,
    icon: Path | None = None,
    verify_app: bool = True,
) -> Artifact:
    """Compile, verify and place TraderAdmin_Setup_v<version>.exe; returns its Artifact.

    `app_exe` is the desktop build's TraderAdmin.exe (the caller knows where desktop.build put it).
    """
    script = (script or SCRIPT).resolve()
    if not script.is_file():
        raise ConfigError(f"installer script {script} does not exist")
    require_app_exe(app_exe, release, verify=verify_app)
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
            # makensis runs `python -m build_scripts.windows.signing` from its own directory.
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
            budget = artifacts.check_budget(tmp, max_mb, release.installer_name)
    parts = ("windows/amd64", signing.note(signing_config), webview2.note(webview2_bootstrapper))
    note = ", ".join((*parts, budget))
    say(f"✓ {destination} ({note})")
    return Artifact(destination, note, Kind.INSTALLER, "windows/amd64")


def verify_installer(path: Path, release: Release, *, signed: bool) -> None:
    image = pe.read_pe(path)
    problems = []
    if image.machine != 0x8664 or image.subsystem != 2:
        problems.append("not a 64-bit Windows GUI program")
    info = pe.read_version_info(path)
    if info.strings.get("ProductVersion") != release.version_text:
        problems.append(f"ProductVersion is {info.strings.get('ProductVersion')!r}")
    if info.file_version != release.windows_version:
        problems.append(f"file version {info.file_version}, expected {release.windows_version}")
    if signed and not signing.is_signed(path):
        problems.append("not signed although a certificate is configured")
    if problems:
        raise VerificationFailed(f"{release.installer_name}: " + "; ".join(problems))
