"""The release report and its history: bounded, forgiving of a bad line, honest about a release
that is not complete (the fake release graph of tests/release_world.py, real worker processes)."""

import json
import re

import pytest

from build_scripts.release import history, pipeline, report, state, trends


def _page(world):
    return report.write_report(world.release, world.steps).read_text()


def _entry(version, seconds=1.0, **sizes):
    return history.release_entry(
        version, f"commit-{version}", seconds, jobs=2, steps={"gen": "ran"}, sizes=sizes
    )


def test_the_history_keeps_only_the_newest_entries(tmp_path):
    path = tmp_path / "history.jsonl"
    for number in range(7):
        history.append(_entry(f"1.0.{number}"), path, limit=5)
    versions = [json.loads(line)["version"] for line in path.read_text().splitlines()]
    assert versions == ["1.0.2", "1.0.3", "1.0.4", "1.0.5", "1.0.6"]


def test_the_default_bound_trims_an_overlong_history(tmp_path):
    path = tmp_path / "history.jsonl"
    older = [json.dumps(_entry(f"0.{n}.0")) for n in range(history.MAX_ENTRIES + 30)]
    path.write_text("\n".join(older) + "\n")
    history.append(_entry("9.9.9"), path)
    entries = history.read(path)
    assert len(entries) == history.MAX_ENTRIES
    assert entries[-1]["version"] == "9.9.9" and entries[0]["version"] == "0.31.0"


def test_a_line_that_does_not_parse_is_skipped_with_a_warning(tmp_path, capsys):
    path = tmp_path / "history.jsonl"
    good = json.dumps(_entry("1.0.0"))
    path.write_text(
        f'{good}\n{{"kind": "release", "seconds": \n[1, 2]\n{{"kind": "party"}}\n\n{good}\n'
    )
    entries = history.read(path)
    assert [e["version"] for e in entries] == ["1.0.0", "1.0.0"]
    err = capsys.readouterr().err
    for number in (2, 3, 4):
        assert f"history.jsonl line {number} is not a history entry, skipped" in err
    assert "Traceback" not in err
    # The next append drops the bad lines for good.
    history.append(_entry("1.0.1"), path)
    capsys.readouterr()
    assert len(history.read(path)) == len(path.read_text().splitlines()) == 3
    assert "not a history entry" not in capsys.readouterr().err


def test_a_history_that_is_not_text_still_reads(tmp_path, capsys):
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n" + json.dumps(_entry("1.0.0")).encode() + b"\n")
    assert [e["version"] for e in history.read(path)] == ["1.0.0"]
    assert "line 1 is not a history entry" in capsys.readouterr().err


def test_a_completed_release_adds_one_line_and_its_report_draws_every_step(world):
    world.run()
    world.run()
    entries = history.read()
    assert [e["kind"] for e in entries] == ["release", "release"]
    assert sorted(entries[0]["ran"]) == ["gen", "other", "pack"]
    assert entries[1]["ran"] == []
    assert entries[1]["sizes"]["gen.txt"] == len("one\n")
    page = _page(world)
    run = state.load_run(world.release.dist_dir)
    assert [s["name"] for s in run.steps] == ["gen", "pack", "other", "checksums"]
    assert re.findall(r'class="run ([a-z-]+)" data-step="([a-z]+)"', page) == [
        ("up-to-date", "gen"),
        ("up-to-date", "pack"),
        ("up-to-date", "other"),
        ("up-to-date", "checksums"),
    ]
    assert "This release is not complete" not in page
    figure = re.search(r'id="trend-release-time" data-points="(\d+)"', page)
    assert figure and int(figure.group(1)) == len(entries)


def test_the_timeline_keeps_when_each_step_was_ready_started_and_ended(world, monkeypatch):
    monkeypatch.setenv("FAKE_SLEEP", "0.5")
    world.run(jobs=1)
    steps = {s["name"]: s for s in state.load_run(world.release.dist_dir).steps}
    for name in ("gen", "pack", "other"):
        line = steps[name]
        assert line["status"] == "ran" and line["why"] == "no record of an earlier run"
        assert line["ready"] <= line["start"] < line["end"]
    # One job: gen and other were both ready at once, so one of them waited for the slot.
    first, second = sorted(("gen", "other"), key=lambda n: steps[n]["start"])
    assert steps[second]["start"] >= steps[first]["end"]
    assert steps[second]["start"] - steps[second]["ready"] >= 0.4
    assert steps["pack"]["ready"] >= steps["gen"]["end"]


def test_the_report_of_a_failed_release_names_the_missing_steps(world, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "gen")
    with pytest.raises(pipeline.StepFailed):
        world.run()
    assert history.read() == []  # an incomplete release is no point of the trends
    page = _page(world)
    assert "This release is not complete" in page
    missing = re.search(r'<ul id="missing-steps">(.*?)</ul>', page, re.S).group(1)
    assert "<code>gen</code>: failed: exit 1: gen broke — fix it" in missing
    assert "<code>pack</code>: not started: needs gen, which did not complete" in missing
    assert "<code>other</code>" not in missing
    assert "<code>ship</code>" not in missing  # made on request only
    assert "SHA256SUMS</code> is not in the folder" in page


def test_the_report_without_any_run_says_which_steps_never_completed(world):
    world.run(only=["other"])
    page = _page(world)
    missing = re.search(r'<ul id="missing-steps">(.*?)</ul>', page, re.S).group(1)
    assert "<code>gen</code>: no completed run of it for this folder" in missing
    assert "<code>pack</code>: no completed run of it for this folder" in missing
    assert "<code>other</code>" not in missing


def test_an_artifact_grown_by_more_than_five_percent_is_highlighted(world):
    history.append(_entry("0.9.0", **{"gen.txt": 3, "pack.txt": 4, "other.txt": 5}))
    world.run()
    rows = {
        r.path: r for r in report.gather(world.release, world.steps, _cache(world))["artifacts"]
    }
    assert rows["gen.txt"].grown and rows["gen.txt"].change == pytest.approx(1 / 3)
    assert not rows["pack.txt"].grown  # "one\n" is 4 bytes, as before
    assert not rows["other.txt"].grown  # "other" is 5 bytes, as before
    page = _page(world)
    assert re.search(r'<tr data-path="gen.txt" class="grown">', page)
    assert "grew +33.3 %" in page
    assert 'data-path="pack.txt" class=""' in page


def test_the_page_loads_nothing_from_elsewhere(world):
    world.run()
    page = _page(world)
    assert "default-src 'none'" in page
    assert not re.search(r"""(src|href)=["'](https?:|//)""", page)
    assert "<script" not in page


def test_every_trend_has_a_target_line():
    entries = [
        _entry("1.0.0", **{"images/backend.tar": 9_000_000}),
        {"kind": "bench", "figures": {trends.DEPLOY: {"value": 12.0, "unit": "s", "target": 20}}},
        {"kind": "bench-release", "seconds": {"no-op release": 2.0}},
    ]
    drawn = {trend.key: plot for trend, plot in trends.all_plots(entries)}
    assert all(plot.target_y is not None for plot in drawn.values())
    assert drawn["release-time"].point_count == 1
    assert drawn["image-backend-size"].point_count == 1
    assert drawn["deploy"].point_count == 1 and not drawn["deploy"].over
    assert drawn["noop-release"].point_count == 1
    assert drawn["fresh-deploy"].point_count == 0


def _cache(world):
    return pipeline.digest_cache(world.release)


def test_bench_figures_become_a_history_line_the_deploy_trends_draw():
    from build_scripts.release import bench, bench_graph

    bench.write_report(
        [
            bench.Figure(trends.FRESH_DEPLOY, 70.0, "s", 60),
            bench.Figure(trends.DEPLOY, 12.0, "s", 20),
            bench.Figure("TraderAdmin.exe", None, "MB", 15, "not built"),
        ]
    )
    bench_graph.write_report(
        [
            bench_graph.Timing(bench_graph.COLD, 300.0),
            bench_graph.Timing("no-op release", 2.0),
            bench_graph.Timing("new commit, --jobs 1", 100.0),
            bench_graph.Timing("new commit, --jobs 2", 60.0),
        ]
    )
    entries = history.read()
    assert [e["kind"] for e in entries] == ["bench", "bench-release"]
    assert "TraderAdmin.exe" not in entries[0]["figures"]  # not measured: no point
    drawn = {trend.key: plot for trend, plot in trends.all_plots(entries)}
    assert drawn["fresh-deploy"].point_count == 1 and drawn["fresh-deploy"].over
    assert drawn["deploy"].point_count == 1 and not drawn["deploy"].over
    assert drawn["cold-release"].point_count == 1 and drawn["noop-release"].point_count == 1


def test_an_artifact_named_after_its_release_is_compared_with_its_namesake():
    older = ("0.7.0-dev.gd34b5713", "d34b57136aa31fa841bb83303888f0e540522dd8")
    newer = ("0.7.0-dev.g993ea932", "993ea93298862f45d5ca4072cb5a3f54d9a73d4a")
    for name in ("TraderAdmin_Setup_v{v}.exe", "wheelhouse/app-0.7.0.dev0+g{c}-py3-none-any.whl"):
        paths = [name.format(v=v, c=c[:8]) for v, c in (older, newer)]
        assert report.comparable(paths[0], *older) == report.comparable(paths[1], *newer)
    assert report.comparable("images/backend.tar", *older) == "images/backend.tar"


def test_a_history_that_cannot_be_written_does_not_fail_a_completed_release(
    world, tmp_path, monkeypatch, capsys
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("reports/ cannot be made here\n")
    monkeypatch.setenv("TRADERADMIN_REPORTS", str(blocked))
    result = world.run()
    assert result.outcome.complete and result.sums_written
    err = capsys.readouterr().err
    assert "history.jsonl not updated" in err and "Traceback" not in err
