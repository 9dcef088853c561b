"""The GitHub Actions workflow (.github/workflows/release.yml) against the README and the repo.

actionlint (in `nox -s lint`) checks the workflow's syntax and expressions; these tests check
what it cannot know: that the Linux job runs exactly the README's quickstart commands, and that
the Windows lifecycle script agrees with release.toml and the NSIS script.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from build_scripts.core import metadata
from build_scripts.core.errors import CommandFailed
from build_scripts.desktop import macos as desktop_macos
from build_scripts.release import workflow_lint

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
LIFECYCLE = ROOT / ".ci" / "windows" / "installer-lifecycle.ps1"


@pytest.fixture(scope="module")
def jobs() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]


def _readme_command(name: str) -> str:
    """The command as .ci/run reads it from the README (the same script)."""
    return subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_command.py"), name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _run_steps(job: dict) -> list[dict]:
    return [step for step in job["steps"] if "run" in step]


def test_the_linux_job_runs_the_readme_quickstart_commands_word_for_word(jobs):
    steps = {step.get("id"): step for step in _run_steps(jobs["linux"])}
    assert steps["quickstart-test"]["run"].strip() == _readme_command("test")
    assert steps["quickstart-release"]["run"].strip() == _readme_command("release")
    ids = [step.get("id") for step in jobs["linux"]["steps"]]
    assert ids.index("quickstart-test") < ids.index("quickstart-release")


def test_no_other_linux_step_builds_or_tests(jobs):
    others = [s for s in _run_steps(jobs["linux"]) if not str(s.get("id")).startswith("quick")]
    for step in others:
        for word in ("nox", "pytest", "behave", "pip install", "invoke release", "bootstrap"):
            assert word not in step["run"], f"{step.get('name')} runs {word!r}"


def test_the_linux_job_runs_on_the_readmes_machine_as_root(jobs):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "a fresh Debian 12 machine, as root" in readme
    container = jobs["linux"]["container"]
    assert container["image"] == "debian:12"
    assert "--privileged" in container["options"]  # dockerd, the local cluster, Wine


def test_the_release_folder_junit_reports_and_screenshots_are_uploaded(jobs):
    uploads = [
        step["with"]["path"]
        for step in jobs["linux"]["steps"]
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert uploads == [
        "dist/${{ steps.version.outputs.version }}/",
        "reports/junit/",
        "reports/screenshots/",
    ]


def test_the_windows_jobs_run_the_lifecycle_script_on_server_2022_and_2025(jobs):
    windows = jobs["windows"]
    assert windows["strategy"]["matrix"]["os"] == ["windows-2022", "windows-2025"]
    assert windows["runs-on"] == "${{ matrix.os }}"
    assert {"linux", "installer-upgrade"} <= set(windows["needs"])
    (lifecycle,) = [s for s in _run_steps(windows) if "installer-lifecycle.ps1" in s["run"]]
    assert lifecycle["shell"] == "pwsh"
    assert lifecycle["run"].split()[0] == "./" + LIFECYCLE.relative_to(ROOT).as_posix()
    assert LIFECYCLE.is_file()
    for parameter in ("-Installer", "-Version", "-UpgradeInstaller", "-UpgradeVersion"):
        assert parameter in lifecycle["run"].split()


def _script_default(name: str) -> str:
    match = re.search(rf"\[string\] \${name} = '([^']*)'", LIFECYCLE.read_text(encoding="utf-8"))
    assert match, f"no default for -{name} in {LIFECYCLE.name}"
    return match.group(1)


def test_the_lifecycle_script_expects_what_release_toml_and_the_nsis_script_define():
    product = tomllib.loads((ROOT / "release.toml").read_text(encoding="utf-8"))["product"]
    assert _script_default("Product") == product["name"]
    assert _script_default("Publisher") == product["publisher"]
    assert _script_default("UninstallKeyName") == product["windows_uninstall_key"]
    nsis = (ROOT / "build_scripts" / "windows_installer.nsi").read_text(encoding="utf-8")
    script = LIFECYCLE.read_text(encoding="utf-8")
    key = re.search(r'!define UNINST_KEY "(.*)\\\$\{UNINST_KEY_NAME\}"', nsis).group(1)
    assert f'$UninstallSubKey = "{key}\\$UninstallKeyName"' in script
    running = re.search(r"!define EXIT_APP_RUNNING (\d+)", nsis).group(1)
    assert f"$ExitAppRunning = {running}" in script
    for value in ("DisplayName", "DisplayVersion", "Publisher", "InstallLocation", "DisplayIcon"):
        # Written (per scope, SHCTX) through the script's checked-write macro.
        assert re.search(rf"!insertmacro WRITE_STRING {value}\b", nsis), value
        assert f"$key.{value}" in script


def test_the_macos_job_builds_and_uploads_the_universal_zip(jobs):
    macos = jobs["macos"]
    assert macos["runs-on"] == "macos-14"
    runs = "\n".join(step["run"] for step in _run_steps(macos))
    assert "invoke desktop.build --platform darwin/universal" in runs
    assert "--selftest" in runs and "--version" in runs
    release = metadata.current_release("1.2.3")
    expected = desktop_macos.zip_path(release, "darwin/universal", Path("dist/1.2.3")).as_posix()
    uploaded = [
        step["with"]["path"].replace("${{ steps.version.outputs.version }}", "1.2.3")
        for step in macos["steps"]
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert expected in uploaded


def test_actions_are_pinned_and_go_npm_pip_are_cached(jobs):
    for name, job in jobs.items():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@(v\d+|[0-9a-f]{40})", step["uses"]), (
                    f"{name}: {step['uses']} is not pinned to a major version or a commit"
                )
            action = step.get("uses", "").split("@")[0]
            if action == "actions/setup-go":
                assert step["with"].get("cache", True) is not False
                assert step["with"]["cache-dependency-path"]
            if action == "actions/setup-node":
                assert step["with"]["cache"] == "npm", name
            if action == "actions/setup-python":
                assert step["with"]["cache"] == "pip", name


def test_actionlint_finds_a_broken_workflow_and_passes_ours(tmp_path):
    """The real actionlint (built into the cache on first use), as `nox -s lint` runs it."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ needs.b.outputs.version }}\n"
    )
    with pytest.raises(CommandFailed) as caught:
        workflow_lint.lint([broken])
    assert caught.value.returncode == 1
    assert any("needs.b" in line or '"b"' in line for line in caught.value.tail)
    workflow_lint.lint([WORKFLOW])


def test_actionlint_is_cached_per_version_and_always_uses_shellcheck():
    path = workflow_lint.actionlint_path("v9.9.9")
    assert path.parts[-3:] == ("actionlint", "v9.9.9", "actionlint")
    argv = workflow_lint.lint_argv(path, "/usr/bin/shellcheck", [WORKFLOW])
    assert argv[1:3] == ["-shellcheck", "/usr/bin/shellcheck"]
