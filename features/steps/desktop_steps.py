"""Steps about the desktop app's production builds and running them."""

from __future__ import annotations

import hashlib
import struct
import time
from pathlib import Path

from _support import current_release, describe_file, run, shown
from behave import given, then, when

from build_scripts.core import cmd
from build_scripts.desktop import build as desktop
from build_scripts.windows import pe, selftest

# Written by builds (here and by `wails dev`), not part of the sources.
GENERATED = ("build/bin", "frontend/node_modules", "frontend/dist", "frontend/package.json.md5")


def source_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if any(relative == g or relative.startswith(g + "/") for g in GENERATED):
            continue
        digest.update(relative.encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@given("the TraderAdmin source code is finalized")
def step_source_finalized(context):
    source = desktop.desktop_dir()
    for name in ("wails.json", "main.go", "go.mod", "frontend/package.json", "config.toml.example"):
        assert (source / name).is_file(), f"desktop/{name} is missing"
    context.source_digest = source_digest(source)
    context.started = time.time()
    current_release(context)


@when("the `wails build` command is executed for Windows")
def step_wails_build_windows(context):
    # desktop.build runs the release graph's step, which is up to date after an earlier
    # build: without its exe, it builds.
    desktop.binary_path(current_release(context), "windows/amd64").unlink(missing_ok=True)
    result = run(context, "invoke desktop.build --platform windows/amd64")
    assert result.returncode == 0, shown(result)


@then("a `TraderAdmin.exe` is created in the build output directory")
def step_exe_created(context):
    release = current_release(context)
    exe = desktop.binary_path(release, "windows/amd64")
    assert exe.is_file(), f"{exe} was not created\n{shown(context.result)}"
    assert exe.stat().st_mtime >= context.started - 1, f"{exe} is from an earlier build"
    described = describe_file(exe)
    assert described.startswith("PE32+ executable (GUI) x86-64"), described
    # Read back from the file, not taken from the build's input.
    info = pe.read_version_info(exe)
    assert info.strings.get("ProductVersion") == release.version_text, info
    assert info.strings.get("FileVersion") == release.version_text, info
    assert info.file_version == release.windows_version, info
    assert "desktop/windows-amd64/TraderAdmin.exe" in context.result.stdout, shown(context.result)
    context.exe = exe


@then("the executable runs successfully on a Windows test environment")
def step_exe_runs_on_windows(context):
    release, prefix = current_release(context), context.prefix
    assert prefix.windows_version().startswith("10."), prefix.windows_version()
    installed = prefix.unix_path(r"C:\TraderAdmin\TraderAdmin.exe")
    installed.parent.mkdir(parents=True)
    installed.write_bytes(context.exe.read_bytes())
    version = prefix.run([r"C:\TraderAdmin\TraderAdmin.exe", "--version"], step="--version")
    assert release.version_text in version.output, version.output
    report = selftest.run_selftest(
        prefix, r"C:\TraderAdmin\TraderAdmin.exe", r"C:\TraderAdmin\selftest.json"
    )
    assert report["version"] == release.version_text, report
    assert (report["os"], report["arch"]) == ("windows", "amd64"), report
    assert report["executable"] == r"C:\TraderAdmin\TraderAdmin.exe", report


@then("the desktop source tree is unchanged")
def step_source_unchanged(context):
    assert source_digest(desktop.desktop_dir()) == context.source_digest, (
        "the build changed files under desktop/"
    )


@then("the Linux build prints the release version with --version")
def step_linux_version(context):
    release = current_release(context)
    binary = desktop.binary_path(release, "linux/amd64")
    assert binary.is_file(), f"{binary} is missing\n{shown(context.result)}"
    output = cmd.output_of([binary, "--version"], step="--version")
    assert output.split()[:2] == [release.product, release.version_text], output


@then("a screenshot of the TraderAdmin window is saved under reports/")
def step_screenshot(context):
    release = current_release(context)
    path = context.repo / "reports" / "screenshots" / f"desktop-linux-{release.version_text}.png"
    assert path.is_file(), f"no screenshot at {path}\n{shown(context.result)}"
    assert path.stat().st_mtime >= context.started - 1, f"{path} is from an earlier run"
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    assert width >= 800 and height >= 500, f"the screenshot is only {width}x{height}"
    assert "window 'TraderAdmin'" in context.result.stdout, shown(context.result)
