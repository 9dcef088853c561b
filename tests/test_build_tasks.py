"""The tasks that build one kind of artifact run through the release graph: the same up-to-date
decision and the same record as `invoke release --only STEP`, their flags as step inputs.

Real tasks (through invoke's root collection), real worker processes and a real folder; the
steps are cheap fakes shaped like the standard ones (an image step needing the backend step, an
installer needing the Windows desktop build unless given an exe), made with the task's options.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from invoke import Config, Context, Exit

import tasks as root
from build_scripts.release import on_request, pipeline, state, worker
from build_scripts.release.inputs import source_files
from build_scripts.tasks._options import build_options

FAKE_BUILD_STEPS = textwrap.dedent(
    """
    import os, time
    from build_scripts.core import atomic
    from build_scripts.core.artifacts import Artifact, Kind
    from build_scripts.release import made
    from build_scripts.release.graph import Step
    from build_scripts.release.inputs import Inputs
    from build_scripts.release.options import BuildOptions

    def _make(name, text, kind, of):
        def produce(release):
            with open(os.environ["FAKE_LOG"], "a") as log:
                log.write(f"{name} start {time.time()}\\n")
            path = atomic.write_text(release.dist_dir / f"{name}.txt", text(release))
            return [Artifact(path, f"made by {name}", kind, of)]
        return produce

    def _step(name, text, needs=(), params=None, kind=Kind.FILE, of=""):
        made_of = text if callable(text) else lambda r: text
        return Step(name, name, _make(name, made_of, kind, of), needs=needs,
                    inputs=Inputs(params=params),
                    outputs=lambda r: [r.dist_dir / f"{name}.txt"])

    def _packed_exe(options):
        # As the real installer step: the user's exe, else the binary desktop-windows made,
        # found by kind among what it recorded.
        def text(release):
            if options.app_exe:
                return f"installer of {options.app_exe}"
            exe = made.one(release, ["desktop-windows"], Kind.BINARY, "windows/amd64")
            return f"installer of {exe.path.name}: {exe.path.read_text()}"
        return text

    def steps(options=None):
        options = options or BuildOptions()
        return [
            _step("backend", "binary"),
            # What the worker made it with: the options reached the worker process.
            _step("image-backend", f"image by {options.image_builder}", ("backend",),
                  lambda r: {"builder": options.image_builder}),
            _step("desktop-windows", "exe", kind=Kind.BINARY, of="windows/amd64"),
            _step("installer", _packed_exe(options),
                  () if options.app_exe else ("desktop-windows",),
                  lambda r: {"app_exe": options.app_exe or "built"}, Kind.INSTALLER),
        ]
    """
)


@pytest.fixture
def build(world, monkeypatch, tmp_path):
    """Run a task of the root collection as `invoke TASK` would, on the fake steps."""
    (tmp_path / "modules" / "fake_build_steps.py").write_text(FAKE_BUILD_STEPS)
    monkeypatch.setattr(on_request, "FACTORY", "fake_build_steps:steps")
    # The sizes table asks Docker about the real image names; not these fakes'.
    monkeypatch.setattr("build_scripts.tasks.images.images.sizes_in_docker", lambda *a: "")
    context = Context(Config(defaults=root.ns.configuration()))

    def run(task: str, **flags):
        world.log.write_text("")
        source_files.cache_clear()
        root.ns[task](context, **flags)
        return world.started()

    run.context = context
    return run


def _record(world, step: str) -> dict:
    return json.loads(state.record_path(world.release.dist_dir, step).read_text())


def test_a_second_images_build_is_up_to_date_with_the_record_release_only_keeps(build, world):
    assert build("images.build", component=["backend"]) == ["backend", "image-backend"]
    first = _record(world, "image-backend")
    assert build("images.build", component=["backend"]) == []
    assert _record(world, "image-backend") == first
    # `invoke release --only image-backend` with the config's options: the same decision.
    options = build_options(build.context)
    result = pipeline.run_release(
        world.release,
        worker.load_steps(on_request.FACTORY, options),
        only=["image-backend"],
        factory=on_request.FACTORY,
        options=options,
    )
    assert result.outcome.status == {"backend": "up to date", "image-backend": "up to date"}
    assert _record(world, "image-backend") == first
    # The folder is described as after a release: SHA256SUMS lists the image step's file.
    sums = (world.release.dist_dir / "SHA256SUMS").read_text()
    assert "image-backend.txt" in sums and "backend.txt" in sums


def test_a_flag_that_changes_an_input_reruns_the_step_with_it(build, world):
    build("images.build", component=["backend"])
    assert build("images.build", component=["backend"], builder="classic") == ["image-backend"]
    made = (world.release.dist_dir / "image-backend.txt").read_text()
    assert made == "image by classic"
    assert _record(world, "image-backend")["inputs"]["param:builder"] == "classic"
    # The config's builder again (a plain release's): it reruns, and says why.
    assert build("images.build", component=["backend"]) == ["image-backend"]


def test_force_reruns_the_images_not_the_binary_they_need(build, world):
    build("images.build", component=["backend"])
    assert build("images.build", component=["backend"], force=True) == ["image-backend"]


def test_images_save_is_the_image_step_too(build, world):
    build("images.build", component=["backend"])
    assert build("images.save", component=["backend"]) == []


def test_installer_build_with_an_exe_of_ones_own_needs_no_desktop_build(build, world, tmp_path):
    exe = tmp_path / "TraderAdmin.exe"
    exe.write_bytes(b"MZ")
    assert build("installer.build", app_exe=str(exe)) == ["installer"]
    assert _record(world, "installer")["inputs"]["param:app_exe"] == str(exe)
    assert build("installer.build") == ["desktop-windows", "installer"]
    made = (world.release.dist_dir / "installer.txt").read_text()
    assert made == "installer of desktop-windows.txt: exe"


def test_records_and_release_json_keep_each_artifact_s_kind(build, world):
    build("installer.build")
    (made,) = _record(world, "desktop-windows")["artifacts"]
    assert made == {
        "path": "desktop-windows.txt",
        "note": "made by desktop-windows",
        "kind": "binary",
        "of": "windows/amd64",
    }
    listed = json.loads((world.release.dist_dir / "release.json").read_text())["artifacts"]
    kinds = {a["path"]: a.get("kind") for a in listed}
    assert kinds["desktop-windows.txt"] == "binary"
    assert kinds["installer.txt"] == "installer"


def test_an_unknown_image_is_refused_before_anything_runs(build, world):
    with pytest.raises(Exit) as caught:
        build("images.build", component=["frontend"])
    assert caught.value.code == 2
    assert "unknown image 'frontend'" in str(caught.value.message)
    assert world.started() == []
