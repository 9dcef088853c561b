"""The MSI inside a Wine prefix: msiexec runs, and what an installation left (files, shortcuts,
the Add/Remove Programs entry, the policy value), for the Wine tests.

Wine quirks met here (Wine 8, Debian 12):
- The exit code reaches Linux as an 8-bit process status: Windows Installer's 1603 arrives as
  67 (`exit_status`). Its verbose log (/l*v) does not show the error either.
- Its msiexec puts the shortcuts of a per-machine package (ALLUSERS=1) into the current user's
  Start Menu and Desktop, where Windows puts them into the common ones; `shortcut_problems`
  accepts either, and says which it found.
- It writes no DisplayIcon for ARPPRODUCTICON (Windows points it at the icon it caches).
"""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

from build_scripts.core.metadata import Release
from build_scripts.windows import installer, installer_check, lnk, msi, wine

SUCCESS, FATAL = 0, 1603  # ERROR_SUCCESS; ERROR_INSTALL_FAILURE, also a failed launch condition
UNINSTALL_ROOT = installer.UNINSTALL_ROOT


def exit_status(code: int) -> int:
    """A Windows exit code as Wine's process status shows it."""
    return code & 0xFF


def host_path(path: Path) -> str:
    """A Linux file as the prefix's programs see it (Wine maps Z: to /)."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def run_msiexec(
    prefix: wine.Prefix, action: str, target: str, properties: dict[str, str] | None = None
) -> int:
    """`msiexec /i|/x <target> /qn [NAME=value…]`, waited for; returns the exit status."""
    args = ["msiexec", action, target, "/qn"]
    args += [f"{name}={value}" for name, value in (properties or {}).items()]
    result = prefix.run(args, step="msiexec", check=False, quiet=True)
    prefix.wait()
    return result.returncode


def install_dir(release: Release) -> str:
    return installer_check.default_install_dir(release)


def uninstall_entries(prefix: wine.Prefix, release: Release) -> dict[str, dict]:
    """The Add/Remove Programs entries (HKLM, 64-bit view) whose DisplayName is the product:
    key name -> values."""
    listing = prefix.run(["reg", "query", UNINSTALL_ROOT], step="wine", check=False, quiet=True)
    found = {}
    for line in listing.output.splitlines():
        if not line.upper().startswith("HKEY_LOCAL_MACHINE\\"):
            continue
        name = line.strip().rsplit("\\", 1)[-1]
        values = prefix.reg_query(rf"{UNINSTALL_ROOT}\{name}")
        if values and values.get("DisplayName") == release.product:
            found[name] = values
    return found


def policy_value(prefix: wine.Prefix, release: Release) -> str | None:
    values = prefix.reg_query(rf"HKLM\{msi.policy_key(release)}")
    return None if values is None else values.get(msi.POLICY_VALUE)


def shortcut_problems(prefix: wine.Prefix, release: Release) -> list[str]:
    """The Start Menu and desktop shortcuts, in the common folders (Windows) or the user's
    (Wine), each targeting the installed program and starting in its folder."""
    problems = []
    folder = install_dir(release)
    exe = rf"{folder}\{release.product}.exe"
    common = installer_check.shortcut_paths(release)
    own = installer_check.shortcut_paths(release, per_user=True)
    for where in common:
        found = [p for p in (common[where], own[where]) if prefix.unix_path(p).is_file()]
        if len(found) != 1:
            problems.append(f"{len(found)} {where} shortcuts ({common[where]} or {own[where]})")
            continue
        shortcut = lnk.read_shortcut(prefix.unix_path(found[0]))
        if PureWindowsPath(shortcut.target) != PureWindowsPath(exe):
            problems.append(f"the {where} shortcut targets {shortcut.target!r}")
        if PureWindowsPath(shortcut.working_dir) != PureWindowsPath(folder):
            problems.append(f"the {where} shortcut starts in {shortcut.working_dir!r}")
    return problems


def installation_problems(prefix: wine.Prefix, release: Release, product_code: str) -> list[str]:
    """Everything wrong with the MSI's installation of `release` (empty when all is right):
    the files, the shortcuts, exactly one Add/Remove Programs entry, and that one is this
    version's."""
    folder = prefix.unix_path(install_dir(release))
    problems = [
        f"{install_dir(release)}\\{name} is missing"
        for name in installer.payload_files(release)
        if not (folder / name).is_file()
    ]
    problems += shortcut_problems(prefix, release)
    entries = uninstall_entries(prefix, release)
    if list(entries) != [product_code]:
        return [*problems, f"Add/Remove Programs entries {sorted(entries)}, not [{product_code}]"]
    expected = {
        "DisplayVersion": msi.msi_version(release),
        "Publisher": release.publisher,
        "HelpLink": release.homepage,
        "URLInfoAbout": release.homepage,
        "NoModify": 1,
        "NoRepair": 1,
    }
    values = entries[product_code]
    problems += [
        f"registry {name} is {values.get(name)!r}, expected {value!r}"
        for name, value in expected.items()
        if values.get(name) != value
    ]
    if not str(values.get("UninstallString", "")).upper().startswith("MSIEXEC.EXE /X"):
        problems.append(f"UninstallString is {values.get('UninstallString')!r}")
    return problems
