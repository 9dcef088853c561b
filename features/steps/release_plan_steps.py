"""Steps about the release plan: a private release folder, what a run did, the checksums."""

from __future__ import annotations

from pathlib import Path

from _support import run, shown
from behave import given, then

from build_scripts.core import metadata


def _release_folder(context):
    return context.scratch / "dist" / metadata.current_release().version_text


@given("a release output folder of the scenario's own")
def step_own_dist(context):
    # Step records live in the cache: a scratch one goes with the scenario (manifests need no
    # tool the engine installs there).
    context.env_overrides["TRADERADMIN_DIST"] = str(context.scratch / "dist")
    context.env_overrides["TRADERADMIN_CACHE"] = str(context.scratch / "cache")
    # Its release report and history too: a scenario's release is not this machine's.
    context.env_overrides["TRADERADMIN_REPORTS"] = str(context.scratch / "reports")


@given('"{command}" has run')
def step_has_run(context, command):
    result = run(context, command)
    assert result.returncode == 0, shown(result)


@given('"{name}" is removed from the release folder')
def step_remove(context, name):
    (_release_folder(context) / name).unlink()


@then('"{name}" is still missing from the release folder')
def step_still_missing(context, name):
    assert not (_release_folder(context) / name).exists(), shown(context.result)


@then('"sha256sum -c SHA256SUMS" passes in the release folder')
def step_sums_pass(context):
    check = run(None, ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=_release_folder(context))
    assert check.returncode == 0, check.stdout + check.stderr


@then("SHA256SUMS lists every file in the release folder")
def step_sums_list_everything(context):
    folder = _release_folder(context)
    listed = {line.split("  ", 1)[1] for line in (folder / "SHA256SUMS").read_text().splitlines()}
    present = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    }
    assert present <= listed, f"not in SHA256SUMS: {sorted(present - listed)}"


@then("the file it names is outside the release folder")
def step_named_file_outside(context):
    named = Path(context.result.stdout.strip().splitlines()[-1])
    assert named.is_file(), shown(context.result)
    assert not named.is_relative_to(context.scratch / "dist"), named
