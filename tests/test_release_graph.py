"""The release graph with real files, real git and real worker processes (cheap fake steps)."""

import io
import json
import subprocess
import sys
import time

import pytest

from build_scripts.core.errors import ConfigError
from build_scripts.release import graph, pipeline, state


def _sha256sum_check(folder):
    return subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
    )


def _step(name, needs=()):
    return graph.Step(name, f"make {name}", lambda r: [], tuple(needs))


def test_plan_puts_prerequisites_first_and_once():
    steps = [
        _step("installer", ["desktop"]),
        _step("desktop"),
        _step("images"),
        _step("manifests", ["images"]),
    ]
    names = [s.name for s in graph.plan(steps, ["installer", "manifests", "desktop"])]
    # Among the steps whose needs are placed, the one declared first goes next.
    assert names == ["desktop", "installer", "images", "manifests"]


def test_plan_names_a_cycle():
    steps = [_step("a", ["b"]), _step("b", ["c"]), _step("c", ["a"]), _step("d")]
    with pytest.raises(ConfigError, match=r"cycle: (a|b|c) → .* → (a|b|c)"):
        graph.plan(steps, ["a"])


def test_plan_rejects_unknown_steps_naming_the_choices():
    with pytest.raises(ConfigError) as caught:
        graph.plan([_step("desktop")], ["dekstop"])
    assert "dekstop" in caught.value.one_line() and "desktop" in caught.value.hint


def test_a_second_run_is_up_to_date_and_the_sums_cover_the_folder(world, capsys):
    first = world.run()
    assert sorted(world.started()) == ["gen", "other", "pack"]
    assert first.sums_written
    assert _sha256sum_check(world.release.dist_dir).returncode == 0
    second = world.run()
    assert world.started() == []
    assert set(second.outcome.status.values()) == {"up to date"}
    assert not second.sums_written
    out = capsys.readouterr().out
    assert "✓ gen: up to date" in out and "checksums: up to date" in out


def test_the_plan_of_one_step_knows_the_sums_cover_every_steps_output(world, capsys):
    world.run()
    capsys.readouterr()
    world.run(only=["other"], dry_run=True)
    out = capsys.readouterr().out
    assert "other                    up to date" in out
    assert "checksums                up to date" in out


def test_a_changed_source_reruns_its_step_and_dependants_only(world, capsys):
    world.run()
    (world.repo / "src" / "gen.txt").write_text("two\n")
    capsys.readouterr()
    result = world.run()
    assert sorted(world.started()) == ["gen", "pack"]
    assert result.outcome.reasons["gen"] == "src/gen.txt changed"
    assert (world.release.dist_dir / "pack.txt").read_text() == "two\n"
    assert _sha256sum_check(world.release.dist_dir).returncode == 0


def test_an_unchanged_rebuild_leaves_the_dependants_up_to_date(world):
    world.run()
    (world.release.dist_dir / "gen.txt").unlink()
    world.run()
    # gen is rebuilt (its output was missing) to the same bytes: pack has nothing to redo.
    assert world.started() == ["gen"]


def test_force_reruns_all_and_only_runs_a_step_with_its_prerequisites(world):
    world.run()
    world.run(force=True)
    assert sorted(world.started()) == ["gen", "other", "pack"]
    (world.repo / "src" / "gen.txt").write_text("three\n")
    (world.repo / "other.cfg").write_text("y\n")
    result = world.run(only=["pack"])
    assert sorted(world.started()) == ["gen", "pack"]
    assert set(result.outcome.status) == {"gen", "pack"}
    sums = (world.release.dist_dir / "SHA256SUMS").read_text()
    # The folder, not the run: other.txt from the earlier run is listed too.
    assert "  other.txt\n" in sums and "  release.json\n" in sums
    assert _sha256sum_check(world.release.dist_dir).returncode == 0
    manifest = json.loads((world.release.dist_dir / "release.json").read_text())
    paths = {a["path"]: a for a in manifest["artifacts"]}
    assert set(paths) == {"gen.txt", "pack.txt", "other.txt", "provenance.intoto.json"}
    assert paths["other.txt"]["note"] == "made by other" and manifest["dirty"] is True
    assert "  provenance.intoto.json\n" in sums


def test_the_provenance_names_every_artifact_and_the_commit(world):
    world.run()
    folder = world.release.dist_dir
    statement = json.loads((folder / "provenance.intoto.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert set(subjects) == {"gen.txt", "pack.txt", "other.txt"}
    sums = dict(
        reversed(line.split("  ")) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    assert all(sums[name] == digest for name, digest in subjects.items())
    build = statement["predicate"]["buildDefinition"]
    assert build["resolvedDependencies"][0]["digest"] == {"gitCommit": world.release.commit}
    assert build["externalParameters"]["version"] == world.release.version_text


def test_dry_run_names_the_changed_input_and_runs_nothing(world, capsys):
    world.run()
    (world.repo / "src" / "gen.txt").write_text("four\n")
    before = {p: p.stat().st_mtime_ns for p in world.release.dist_dir.rglob("*")}
    capsys.readouterr()
    assert world.run(dry_run=True) is None
    out = capsys.readouterr().out
    assert "gen                      would run: src/gen.txt changed" in out
    assert "pack                     would run: after gen" in out
    assert "other                    up to date" in out
    assert "checksums                would run: after gen, pack" in out
    assert world.started() == []
    assert {p: p.stat().st_mtime_ns for p in world.release.dist_dir.rglob("*")} == before


def test_a_failed_step_stops_its_dependants_not_the_others(world, monkeypatch, capsys):
    world.run()
    (world.repo / "src" / "gen.txt").write_text("five\n")
    (world.repo / "other.cfg").write_text("z\n")
    monkeypatch.setenv("FAKE_FAIL", "gen")
    with pytest.raises(pipeline.StepFailed) as caught:
        world.run()
    assert "gen failed (exit 1: gen broke — fix it)" in caught.value.one_line()
    assert "not started: pack" in caught.value.one_line()
    assert sorted(world.started()) == ["gen", "other"]
    out = capsys.readouterr().out
    assert "✗ pack: not started (needs gen, which did not complete)" in out
    assert "[gen] error: gen broke" in out
    # No sums over a folder that is not a complete release; the old artifacts stay.
    assert not (world.release.dist_dir / "SHA256SUMS").exists()
    assert (world.release.dist_dir / "gen.txt").read_text() == "one\n"
    monkeypatch.delenv("FAKE_FAIL")
    world.run()
    assert sorted(world.started()) == ["gen", "pack"]
    assert _sha256sum_check(world.release.dist_dir).returncode == 0


def test_independent_steps_run_at_the_same_time(world, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "1.5")
    started = time.monotonic()
    world.run(jobs=2)
    events = {}
    for line in world.log.read_text().splitlines():
        name, what, at = line.split()
        events[(name, what)] = float(at)
    # gen and other overlap; pack waits for gen.
    assert events[("other", "start")] < events[("gen", "end")]
    assert events[("pack", "start")] >= events[("gen", "end")]
    assert time.monotonic() - started < 3 * 1.5 + 3


def test_steps_sharing_a_resource_take_turns_without_holding_a_slot(world, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "1.0")
    monkeypatch.setenv("FAKE_RESOURCE", "docker build")
    import fake_steps

    world.steps = fake_steps.steps()  # the steps as the scheduler sees them, with the resource
    world.run(jobs=2)
    events = {}
    for line in world.log.read_text().splitlines():
        name, what, at = line.split()
        events[(name, what)] = float(at)
    gen, other = (
        (events[("gen", "start")], events[("gen", "end")]),
        (
            events[("other", "start")],
            events[("other", "end")],
        ),
    )
    first, second = sorted([gen, other])
    assert second[0] >= first[1], "gen and other ran at the same time"


def test_leftovers_of_a_killed_run_are_removed_and_not_summed(world):
    world.run()
    folder = world.release.dist_dir
    (folder / ".gen.txt.abc123").write_text("half")
    (folder / ".dockerignore").write_text("*")
    world.run()
    assert not (folder / ".gen.txt.abc123").exists() and not (folder / ".dockerignore").exists()
    assert _sha256sum_check(folder).returncode == 0


def test_step_state_lives_outside_the_release_folder(world):
    world.run()
    record = state.load_record(world.release.dist_dir, "gen")
    assert record and record.outputs == {"gen.txt": record.outputs["gen.txt"]}
    assert state.record_path(world.release.dist_dir, "gen").is_relative_to(
        world.repo.parent / "cache"
    )
    names = sorted(p.name for p in world.release.dist_dir.iterdir())
    assert names == [
        "SHA256SUMS",
        "gen.txt",
        "other.txt",
        "pack.txt",
        "provenance.intoto.json",
        "release.json",
    ]


def test_the_worker_reports_a_bug_with_its_traceback(world, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "build_scripts.release.worker", "fake_steps:nothing", "x", "a", "b"],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_the_longest_chain_of_work_starts_first(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    from build_scripts.release.scheduler import critical_first

    steps = graph.plan(
        [_step("manifests"), _step("desktop"), _step("installer", ["desktop"]), _step("backend")]
    )
    dist_dir = tmp_path / "dist" / "1.0.0"
    # Never run: every step counts 10 s, so desktop (+ installer) heads the longest chain.
    assert critical_first(steps, dist_dir)[0] == "desktop"
    state.save_record(dist_dir, state.StepRecord("backend", {}, {}, seconds=90.0))
    assert critical_first(steps, dist_dir)[:2] == ["backend", "desktop"]
    # A new folder (a new version) has no records: the durations of other folders count.
    new_folder = tmp_path / "dist" / "1.0.1"
    assert critical_first(steps, new_folder)[0] == "desktop"
    state.remember_seconds("manifests", 60.0)
    assert critical_first(steps, new_folder)[0] == "manifests"
    assert state.typical_seconds() == {"manifests": 60.0}


class _Terminal(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_the_live_line_is_redrawn_on_a_terminal_and_printed_on_change_elsewhere():
    from build_scripts.release.scheduler import Console

    terminal = _Terminal(tty=True)
    console = Console(terminal)
    now = time.monotonic()
    console.running({"desktop": now, "images": now})
    console.line("[desktop] + wails build")
    console.clear()
    text = terminal.getvalue()
    assert text.startswith("\r\x1b[K… running: desktop 0.0s, images 0.0s\r\x1b[K[desktop] + wails")
    assert text.endswith("wails build\n")

    log = _Terminal(tty=False)
    console = Console(log)
    for _ in range(3):
        console.running({"desktop": now})
    console.running({"desktop": now, "images": now})
    assert log.getvalue().count("… running:") == 2 and "\r" not in log.getvalue()


def test_a_family_name_selects_its_members():
    steps = [_step("frontend"), _step("desktop-linux", ["frontend"]), _step("desktop-windows")]
    steps += [_step("image-backend"), _step("sbom-image-backend", ["image-backend"])]
    names = [s.name for s in graph.plan(steps, ["desktop"])]
    assert names == ["frontend", "desktop-linux", "desktop-windows"]
    assert [s.name for s in graph.plan(steps, ["images"])] == ["image-backend"]
    with pytest.raises(ConfigError):
        graph.plan(steps, ["desk"])
