"""Steps about the release plan: a private release folder, what a run did, the checksums."""

from __future__ import annotations

import subprocess

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
    check = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"],
        cwd=_release_folder(context),
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
