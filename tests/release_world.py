"""A release graph of cheap fake steps with real files, real git and real worker processes:
the `world` fixture (tests/conftest.py) of the release-graph tests."""

import textwrap

from build_scripts.core.metadata import current_release
from build_scripts.release import pipeline
from build_scripts.release.inputs import source_files

FAKE_STEPS = textwrap.dedent(
    """
    import os, time
    from pathlib import Path
    from build_scripts.core import atomic, paths
    from build_scripts.core.artifacts import Artifact
    from build_scripts.core.errors import ReleaseError
    from build_scripts.release.graph import Step
    from build_scripts.release.inputs import Inputs

    def _log(name, what):
        with open(os.environ["FAKE_LOG"], "a") as log:
            log.write(f"{name} {what} {time.time()}\\n")

    def _make(name, text_of):
        def produce(release):
            _log(name, "start")
            if os.environ.get("FAKE_FAIL") == name:
                raise ReleaseError(f"{name} broke", "fix it")
            time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
            path = atomic.write_text(release.dist_dir / f"{name}.txt", text_of(release))
            _log(name, "end")
            return [Artifact(path, f"made by {name}")]
        return produce

    def _src(release):
        return Path(os.environ["FAKE_REPO"], "src", "gen.txt").read_text()

    def steps():
        return [
            Step("gen", "generate", _make("gen", _src),
                 inputs=Inputs(sources=("src",), params=lambda r: {"v": r.version_text}),
                 outputs=lambda r: [r.dist_dir / "gen.txt"],
                 resource=os.environ.get("FAKE_RESOURCE", "")),
            Step("pack", "pack", _make("pack", lambda r: (r.dist_dir / "gen.txt").read_text()),
                 needs=("gen",), outputs=lambda r: [r.dist_dir / "pack.txt"]),
            Step("other", "other", _make("other", lambda r: "other"),
                 inputs=Inputs(sources=("other.cfg",)),
                 outputs=lambda r: [r.dist_dir / "other.txt"],
                 resource=os.environ.get("FAKE_RESOURCE", "")),
            # On request only, as the bundle: it packs what pack made.
            Step("ship", "ship", _make("ship", lambda r: (r.dist_dir / "pack.txt").read_text()),
                 needs=("pack",), outputs=lambda r: [r.dist_dir / "ship.txt"],
                 by_default=False),
        ]
    """
)


def make_world(git_repo, tmp_path, monkeypatch):
    """A repository with sources, a private dist/ and cache, and the fake steps importable."""
    (git_repo / "src").mkdir()
    (git_repo / "src" / "gen.txt").write_text("one\n")
    (git_repo / "other.cfg").write_text("x\n")
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "fake_steps.py").write_text(FAKE_STEPS)
    monkeypatch.syspath_prepend(str(modules))
    monkeypatch.setenv("PYTHONPATH", str(modules))
    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "log"))
    monkeypatch.setenv("FAKE_REPO", str(git_repo))
    monkeypatch.setattr("build_scripts.core.paths.repo_root", lambda: git_repo)
    import fake_steps

    class World:
        repo = git_repo
        release = current_release(repo=git_repo)
        steps = fake_steps.steps()
        log = tmp_path / "log"

        def run(self, capsys=None, **options):
            self.log.write_text("")
            source_files.cache_clear()  # the tests add files between runs of one process
            result = pipeline.run_release(
                self.release, self.steps, factory="fake_steps:steps", **options
            )
            return result

        def started(self):
            return [
                line.split()[0] for line in self.log.read_text().splitlines() if "start" in line
            ]

    return World()
