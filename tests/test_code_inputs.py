"""A release step's engine code is among its inputs, derived rather than listed.

The import graph here is grimp's (import-linter's engine), built independently of the
derivation in release/code_inputs.py: a module a step's function can reach that is not among
the step's sources fails these tests, whichever way it got left out.
"""

from __future__ import annotations

import functools
import shutil

import grimp
import pytest

from build_scripts.core import paths
from build_scripts.core.metadata import current_release
from build_scripts.release import code_inputs, inputs
from build_scripts.release import steps as release_steps
from build_scripts.release.digests import DigestCache


@functools.cache
def _graph():
    return grimp.build_graph("build_scripts", cache_dir=None)


def _files(modules) -> set[str]:
    root = paths.repo_root()
    return {code_inputs.module_file(m).relative_to(root).as_posix() for m in modules}


def _unlisted(step) -> set[str]:
    """Modules the step's function reaches (grimp) whose files are not among its sources."""
    entries, _ = code_inputs.referred(
        step.produce, release_steps.__name__, skip=release_steps.NOT_CODE
    )
    reached = set(entries)
    for entry in entries:
        reached |= _graph().find_upstream_modules(entry)
    return _files(reached) - set(step.inputs.sources)


@pytest.mark.parametrize("step", release_steps.standard_steps(), ids=lambda s: s.name)
def test_every_module_a_step_can_reach_is_among_its_inputs(step):
    assert _unlisted(step) == set()


def test_a_module_left_out_of_a_step_is_found(monkeypatch):
    # Leave one import out of the derivation, as a hand-kept list would: the check sees it.
    real = code_inputs.module_imports
    code_inputs.module_imports.cache_clear()

    def forgetful(module):
        return real(module) - {"build_scripts.core.sums"}

    monkeypatch.setattr(code_inputs, "module_imports", forgetful)
    bundle = next(s for s in release_steps.standard_steps() if s.name == "bundle")
    assert "build_scripts/core/sums.py" in _unlisted(bundle)


def test_a_data_file_is_declared_where_it_is_read():
    steps = {s.name: s for s in release_steps.standard_steps()}
    assert "build_scripts/windows_installer.nsi" in steps["installer"].inputs.sources
    assert "deploy" in steps["manifests"].inputs.sources
    # The desktop app does not run the installer's module: changing it rebuilds no desktop.
    assert "build_scripts/windows/installer.py" not in steps["desktop-windows"].inputs.sources


def _copy_of_the_sources(tmp_path):
    root = paths.repo_root()
    for name in ("build_scripts", "deploy", "docker", "desktop/config.toml.example"):
        source, target = root / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for name in ("LICENSE.txt", "README.md"):
        shutil.copy2(root / name, tmp_path / name)
    return tmp_path


def test_changing_the_sha256sums_code_reruns_the_bundle(tmp_path, monkeypatch):
    """The bug hand-listed sources had: core/sums.py writes the bundle's SHA256SUMS, and the
    bundle step, which listed build_scripts/bundle, never saw it change."""
    copy = _copy_of_the_sources(tmp_path / "repo")
    bundle = next(s for s in release_steps.standard_steps() if s.name == "bundle")
    release = current_release("1.2.3")
    monkeypatch.setattr(paths, "repo_root", lambda: copy)
    inputs.source_files.cache_clear()
    cache = DigestCache(tmp_path / "digests.json")
    before = inputs.fingerprint(bundle.inputs, release, cache, {})
    sums = copy / "build_scripts" / "core" / "sums.py"
    sums.write_text(sums.read_text() + "\n# the format changed\n")
    inputs.source_files.cache_clear()
    after = inputs.fingerprint(bundle.inputs, release, DigestCache(tmp_path / "d2.json"), {})
    assert inputs.describe_change(before, after) == "build_scripts/core/sums.py changed"
