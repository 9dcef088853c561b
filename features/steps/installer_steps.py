"""Steps about the Windows installer: compiling it and using it on a Windows test environment."""

from __future__ import annotations

import re
import time
from pathlib import Path

from _support import current_release, describe_file, run, shown
from behave import given, then, when

from build_scripts.core import cmd, tools
from build_scripts.core.artifacts import sha256_of
from build_scripts.desktop import build as desktop
from build_scripts.release import folder
from build_scripts.windows import installer, installer_check, lnk, pe, selftest


@given("NSIS is installed and an `windows_installer.nsi` script is prepared")
def step_nsis_ready(context):
    makensis = tools.require("makensis")
    version = cmd.output_of([makensis, "-VERSION"], step="makensis")
    major, minor = (int(n) for n in re.match(r"v?(\d+)\.(\d+)", version).groups())
    assert (major, minor) >= (3, 8), f"makensis {version} is older than 3.08"
    script = installer.SCRIPT.read_text(encoding="utf-8")
    assert "Target amd64-unicode" in script and "Unicode true" in script
    context.started = time.time()


@given("the Wails-built `TraderAdmin.exe` and other assets are available")
def step_exe_available(context):
    result = run(context, "invoke desktop.build --platform windows/amd64")
    assert result.returncode == 0, shown(result)
    release = current_release(context)
    assert desktop.binary_path(release, "windows/amd64").is_file()
    for asset in ("LICENSE.txt", "README.md", "desktop/config.toml.example"):
        assert (context.repo / asset).is_file(), f"{asset} is missing"


@when("the NSIS script is compiled")
def step_compile(context):
    context.started = getattr(context, "started", time.time())
    result = run(context, "invoke installer.build")
    assert result.returncode == 0, shown(result)


@then("a `TraderAdmin_Setup_vX.Y.Z.exe` installer is generated")
def step_installer_generated(context):
    release = current_release(context)
    path = installer.installer_path(release)
    assert path.name == f"TraderAdmin_Setup_v{release.version_text}.exe"
    assert path.is_file() and path.stat().st_mtime >= context.started - 1, shown(context.result)
    described = describe_file(path)
    assert described.startswith("PE32+ executable (GUI) x86-64"), described
    assert pe.read_version_info(path).strings["ProductVersion"] == release.version_text
    assert path.stat().st_size <= installer.INSTALLER_BUDGET_MB * 1_000_000
    assert "MB of 10 MB budget" in context.result.stdout, shown(context.result)
    context.installer = path


@then("the installer successfully installs the application on a Windows test environment")
def step_installs(context):
    release, prefix = current_release(context), context.prefix
    code = installer_check.run_installer(prefix, context.installer)
    assert code == 0, f"the installer exited {code}: {installer_check.EXIT_CODES.get(code)}"
    context.install_dir = installer_check.default_install_dir(release)
    problems = installer_check.installation_problems(prefix, release, context.install_dir)
    assert problems == [], "\n".join(problems)


@then("shortcuts are created as specified")
def step_shortcuts(context):
    release, prefix = current_release(context), context.prefix
    exe = rf"{context.install_dir}\{release.product}.exe"
    for where, link in installer_check.shortcut_paths(release).items():
        path = prefix.unix_path(link)
        assert path.is_file(), f"no {where} shortcut at {link}"
        shortcut = lnk.read_shortcut(path)
        assert shortcut.target == exe, f"{where}: {shortcut}"
        assert shortcut.working_dir == context.install_dir, f"{where}: {shortcut}"


@then("the application launches correctly from the shortcuts")
def step_launches(context):
    release, prefix = current_release(context), context.prefix
    for index, link in enumerate(installer_check.shortcut_paths(release).values()):
        report = selftest.run_selftest(
            prefix,
            rf"{context.install_dir}\{release.product}.exe",
            rf"C:\selftest-{index}.json",
            shortcut=link,
        )
        problems = installer_check.selftest_problems(report, release, context.install_dir)
        assert problems == [], f"{link}: {problems}\n{report}"


@then("the uninstaller removes the application and shortcuts cleanly")
def step_uninstalls(context):
    release, prefix = current_release(context), context.prefix
    code = installer_check.run_uninstaller(prefix, context.install_dir)
    assert code == 0, f"the uninstaller exited {code}"
    problems = installer_check.removal_problems(prefix, release, context.install_dir)
    assert problems == [], "\n".join(problems)


@given("the installer has been built")
def step_installer_built(context):
    release = current_release(context)
    path = installer.installer_path(release)
    if not path.is_file():
        result = run(context, "invoke installer.build")
        assert result.returncode == 0, shown(result)
    context.installer = path
    context.installer_digest = sha256_of(path)
    context.release_files = _artifacts_beside(path)


@given("a copy of the installer script with an unknown command on one line")
def step_broken_copy(context):
    lines = installer.SCRIPT.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("ShowInstDetails")) + 1
    lines[number - 1] = "ShowInstDetailz show"
    context.broken_script = context.scratch / "broken_installer.nsi"
    context.broken_script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    context.broken_line = number


@when("I build the installer from that copy")
def step_build_broken(context):
    run(context, f"invoke installer.build --script {context.broken_script}")


@then("stderr names the broken line of the copy")
def step_names_line(context):
    expected = f'"{context.broken_script}" on line {context.broken_line}'
    assert expected in context.result.stderr, shown(context.result)
    assert "ShowInstDetailz" in context.result.stderr, shown(context.result)


@then("the installer in the release folder is unchanged")
def step_installer_unchanged(context):
    path = context.installer
    assert sha256_of(path) == context.installer_digest, f"{path} changed"
    now = _artifacts_beside(path)
    assert now == context.release_files, f"before {context.release_files}, after {now}"


def _artifacts_beside(path: Path) -> list[str]:
    """The release folder's files but its description (SHA256SUMS, release.json, provenance),
    which a failed step withdraws, as a failed `invoke release` does."""
    return sorted(p.name for p in path.parent.iterdir() if p.name not in folder.DESCRIBING)
