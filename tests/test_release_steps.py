"""The standard release graph's wiring: what a change to one source reruns."""

from build_scripts.core.metadata import current_release
from build_scripts.release import graph, state
from build_scripts.release import steps as release_steps


def _steps(by_default_only=True):
    return {
        s.name: s for s in release_steps.standard_steps() if s.by_default or not by_default_only
    }


def _dependants(steps, name):
    """Every step that needs `name`, directly or through others."""
    found, frontier = set(), {name}
    while frontier:
        frontier = {s for s, step in steps.items() if set(step.needs) & frontier} - found
        found |= frontier
    return found


def test_an_orchestrator_change_reruns_its_image_its_sbom_and_the_manifests_only():
    steps = _steps()
    assert _dependants(steps, "orchestrator") == {
        "image-orchestrator",
        "sbom-image-orchestrator",
        "manifests",
    }
    assert _dependants(steps, "backend") == {"image-backend", "sbom-image-backend", "manifests"}


def test_the_bundle_is_made_on_request_and_packs_every_image():
    every = _steps(by_default_only=False)
    assert not every["bundle"].by_default
    assert [s.name for s in graph.plan(list(every.values()))] == list(_steps())
    assert "bundle" in _dependants(every, "orchestrator")
    assert "bundle" in _dependants(every, "backend")


def test_the_desktop_builds_share_one_front_end_and_the_installer_takes_windows():
    steps = _steps()
    assert steps["desktop-linux"].needs == ("frontend",)
    assert steps["desktop-windows"].needs == ("frontend",)
    assert steps["installer"].needs == ("desktop-windows",)
    assert steps["update-feed"].needs == ("desktop-linux", "installer")
    # The MSI packs the same TraderAdmin.exe; winget and the detection rules name both packages.
    assert steps["msi"].needs == ("desktop-windows",)
    assert steps["winget"].needs == steps["deployment"].needs == ("msi", "installer")
    assert _dependants(steps, "frontend") == {
        "desktop-linux",
        "desktop-windows",
        "installer",
        "update-feed",
        "msi",
        "winget",
        "deployment",
    }
    # Nothing ties the desktop to the images (only the bundle, on request, packs both): they
    # run side by side.
    assert not _dependants(steps, "frontend") & _dependants(steps, "backend")


def test_the_front_end_does_not_depend_on_the_version_and_lives_outside_dist():
    steps = _steps()
    release = current_release("1.2.3")
    # Its parameters are the same whatever the version (only its wiring code is one).
    params = steps["frontend"].inputs.params
    assert (
        params(release) == params(current_release("9.9.9")) == {"wiring": params(release)["wiring"]}
    )
    (output,) = steps["frontend"].outputs(release)
    assert not output.is_relative_to(release.dist_dir)


def test_the_manifests_declare_the_image_ids_they_annotate(monkeypatch, tmp_path):
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    steps = _steps()
    release = current_release("1.2.3")
    # The archives the image steps recorded, selected by kind (not where they usually are).
    for name in ("backend", "orchestrator"):
        made = [{"path": f"saved/{name}.tar", "note": "", "kind": "image archive", "of": name}]
        record = state.StepRecord(f"image-{name}", {}, {}, artifacts=made)
        state.save_record(release.dist_dir, record)
    ids = {"backend.tar": "sha256:one", "orchestrator.tar": "sha256:two"}
    monkeypatch.setattr(release_steps, "archive_id", lambda path: ids[path.name])
    params = steps["manifests"].inputs.params(release)
    assert params["image_ids"] == "backend=sha256:one,orchestrator=sha256:two"
