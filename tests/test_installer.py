"""The Windows installer: building it (fast, with a stub program) and, under `nox -s installer`,
what it does on a Windows test environment (Wine, a fresh prefix per test, real desktop builds).
"""

import re
import time
from pathlib import Path

import pytest

from build_scripts.core import cmd, paths
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import CommandFailed, ConfigError, ReleaseError, VerificationFailed
from build_scripts.windows import installer, installer_check, pe, wine
from tests.support import pinned_release

NSIS_ICON = Path("/usr/share/nsis/Contrib/Graphics/Icons/modern-install.ico")


def _stub_exe(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stub = directory / "TraderAdmin.exe"
    stub.write_bytes(b"MZ" + bytes(4094))
    return stub


def _build(release, root: Path, **kwargs):
    stub = _stub_exe(root / "app")
    return installer.build_installer(
        release, app_exe=stub, root=root, icon=NSIS_ICON, verify_app=False, **kwargs
    )


# --- The script ---------------------------------------------------------------------------------


def test_the_script_is_a_unicode_amd64_modern_ui_installer():
    text = installer.SCRIPT.read_text(encoding="utf-8")
    for line in ("Unicode true", "Target amd64-unicode", '!include "MUI2.nsh"'):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    # Uninstall removes what it installed, never a whole directory the user chose; the one
    # recursive removal is the WebView2 data folder the app itself created in %APPDATA%.
    recursive = re.findall(r"^\s*RMDir\s+/r\s+(.*)$", text, re.I | re.M)
    assert recursive == ['"$APPDATA\\${APP_EXE_NAME}"'], recursive
    assert re.search(r"^AllowSkipFiles off$", text, re.M)


def test_exit_codes_agree_between_script_engine_and_readme():
    script = installer.SCRIPT.read_text(encoding="utf-8")
    defined = {int(v) for v in re.findall(r"^!define EXIT_\w+ (\d+)$", script, re.M)}
    assert defined == {code for code in installer_check.EXIT_CODES if code >= 10}
    readme = (paths.repo_root() / "README.md").read_text(encoding="utf-8")
    for code in installer_check.EXIT_CODES:
        assert re.search(rf"^\| `{code}` \|", readme, re.M), f"README lacks exit code {code}"


def test_readme_becomes_a_standalone_html_page():
    html = installer.render_readme("# Title\n\n| a | b |\n| - | - |\n| 1 | 2 |\n", "TraderAdmin")
    assert html.startswith("<!DOCTYPE html>") and "<title>TraderAdmin</title>" in html
    assert "<table>" in html and '<h1 id="title">Title</h1>' in html


def test_values_are_escaped_for_nsis_strings():
    assert installer.nsis_string('A "quoted" $NAME') == 'A $\\"quoted$\\" $$NAME'
    with pytest.raises(ConfigError):
        installer.nsis_string("two\nlines")


# --- Building -----------------------------------------------------------------------------------


def test_the_installer_is_a_64bit_gui_program_carrying_the_release_version(tmp_path):
    release = pinned_release("0.7.0-rc.2")
    artifact = _build(release, tmp_path)
    assert artifact.path == tmp_path / "TraderAdmin_Setup_v0.7.0-rc.2.exe"
    described = cmd.output_of(["file", "-b", artifact.path], step="file")
    assert described.startswith("PE32+ executable (GUI) x86-64"), described
    info = pe.read_version_info(artifact.path)
    assert info.file_version == "0.7.0.0"
    assert info.strings["ProductVersion"] == "0.7.0-rc.2"
    assert info.strings["CompanyName"] == release.publisher
    assert artifact.note.startswith("windows/amd64, unsigned, no WebView2 bootstrapper, ")
    assert artifact.note.endswith(" MB of 10 MB budget")
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [artifact.path.name]


def test_the_same_inputs_give_the_same_installer_bytes(tmp_path):
    first = _build(pinned_release(), tmp_path / "one").path
    time.sleep(1.1)  # a different wall clock must not matter
    second = _build(pinned_release(), tmp_path / "two").path
    assert sha256_of(first) == sha256_of(second)


def test_a_broken_script_fails_with_makensis_error_line_and_keeps_the_previous_installer(
    tmp_path,
):
    release = pinned_release()
    previous = _build(release, tmp_path).path
    before = previous.read_bytes()
    broken = tmp_path / "broken.nsi"
    lines = installer.SCRIPT.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("ShowInstDetails")) + 1
    lines[number - 1] = "ShowInstDetailz show"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(CommandFailed) as caught:
        _build(release, tmp_path, script=broken)
    line = caught.value.one_line()
    assert f'Error in script "{broken}" on line {number} -- aborting creation process' in line
    assert "ShowInstDetailz" in line
    assert previous.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(
        [previous.name, "broken.nsi"]
    )


def test_an_installer_over_budget_is_not_placed(tmp_path):
    with pytest.raises(VerificationFailed) as caught:
        _build(pinned_release(), tmp_path, max_mb=0.01)
    assert "over its 0.01 MB budget" in caught.value.message
    assert not installer.installer_path(pinned_release(), tmp_path).exists()


def test_without_a_desktop_build_the_error_names_the_command(tmp_path):
    with pytest.raises(ReleaseError) as caught:
        installer.build_installer(pinned_release(), root=tmp_path, app_exe=tmp_path / "missing.exe")
    assert "invoke desktop.build --platform windows/amd64" in caught.value.one_line()


def test_a_webview2_bootstrapper_must_be_a_windows_program(tmp_path):
    text = tmp_path / "MicrosoftEdgeWebview2Setup.exe"
    text.write_text("not a program")
    with pytest.raises(ConfigError, match="not a Windows program"):
        _build(pinned_release(), tmp_path, webview2_bootstrapper=text)


def test_reg_query_output_is_parsed_with_dwords_as_numbers():
    output = (
        "\nHKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\X\n"
        "    DisplayName    REG_SZ    TraderAdmin\n"
        "    EstimatedSize    REG_DWORD    0x2a2b\n"
        "    Empty    REG_SZ    \n"
        '    UninstallString    REG_SZ    "C:\\Program Files\\X\\uninstall.exe"\n\n'
    )
    assert wine.parse_reg_query(output) == {
        "DisplayName": "TraderAdmin",
        "EstimatedSize": 0x2A2B,
        "Empty": "",
        "UninstallString": '"C:\\Program Files\\X\\uninstall.exe"',
    }


@pytest.mark.parametrize(
    ("returncode", "printed", "expected"),
    [
        (1, "reg: Unable to find the specified registry key\n", None),
        (1, "wine: chdir to /gone : No such file or directory\n", "exited 1: wine: chdir to /gone"),
        (139, "", "exited 139: no output"),
    ],
    ids=["key missing", "wine could not start", "reg crashed"],
)
def test_reg_query_says_missing_only_when_reg_says_so(monkeypatch, returncode, printed, expected):
    """A `reg` that failed is not a missing key: the check would blame the installer."""
    prefix = wine.Prefix(Path("/nonexistent/prefix"))
    monkeypatch.setattr(
        wine.Prefix,
        "run",
        lambda self, args, **_: cmd.Completed(["wine64", *args], returncode, printed, 0.1),
    )
    if expected is None:
        assert prefix.reg_query(r"HKLM\Software\X") is None
        return
    with pytest.raises(ReleaseError) as caught:
        prefix.reg_query(r"HKLM\Software\X")
    assert expected in caught.value.message and "\n" not in caught.value.message
