from build_scripts.release import bench_graph

OUTPUT = """TraderAdmin 0.7.0 (abc), 2 job(s):
  backend                  up to date
  orchestrator             would run: orchestrator/src/x.py changed
  images                   would run: after orchestrator
  checksums                would run: after images, orchestrator
▶ apt packages
✓ apt packages 0.0s
▶ orchestrator: orchestrator wheel (runs: orchestrator/src/x.py changed)
[orchestrator] ▶ not a step line
▶ images: images (runs: orchestrator/wheelhouse/x.whl (from orchestrator) changed)
"""


def test_the_plan_and_the_steps_started_are_read_from_the_output():
    assert bench_graph.planned_steps(OUTPUT) == ["orchestrator", "images", "checksums"]
    assert bench_graph.ran_steps(OUTPUT) == ["orchestrator", "images"]


def test_ratios_compare_no_op_with_first_and_parallel_with_sequential():
    timings = [
        bench_graph.Timing(bench_graph.COLD, 40.0),
        bench_graph.Timing("no-op release", 1.0),
        bench_graph.Timing("new commit, --jobs 1", 30.0),
        bench_graph.Timing("new commit, --jobs 2", 21.0),
    ]
    assert bench_graph.ratios(timings) == {
        "noop_over_first": 0.025,
        "parallel_over_sequential": 0.7,
    }


def test_new_commits_alternate_the_jobs_and_report_medians(monkeypatch, tmp_path):
    order = []
    durations = {"1": iter([30.0, 50.0, 31.0]), "2": iter([20.0, 19.0, 40.0])}

    def fake_invoke(clone, *args, env_overrides=None):
        jobs = args[args.index("--jobs") + 1]
        order.append(jobs)
        return next(durations[jobs]), "▶ backend: b (runs: x)\n"

    monkeypatch.setattr(bench_graph, "_invoke", fake_invoke)
    monkeypatch.setattr(bench_graph, "_new_commit", lambda clone, label: None)
    sequential, parallel = bench_graph._new_commits(tmp_path, 2, 3)
    assert order == ["1", "2", "2", "1", "1", "2"]
    assert (sequential.name, sequential.seconds) == ("new commit, --jobs 1", 31.0)
    assert (parallel.name, parallel.seconds) == ("new commit, --jobs 2", 20.0)
    assert parallel.ran == ["backend"] and parallel.note == "20.0, 19.0, 40.0"


def _timings(orchestrator_planned, orchestrator_ran, noop=0.8, parallel=19.0):
    changed = bench_graph.Timing(
        bench_graph.ORCHESTRATOR_CHANGED, 10.0, orchestrator_ran, orchestrator_planned
    )
    return [
        bench_graph.Timing(bench_graph.COLD, 90.0),
        bench_graph.Timing("no-op release", noop),
        changed,
        bench_graph.Timing("new commit, --jobs 1", 30.0),
        bench_graph.Timing("new commit, --jobs 2", parallel),
    ]


def _verdicts(timings):
    return {c.name: c.ok for c in bench_graph.checks(timings)}


def test_the_targets_hold_when_the_plan_names_exactly_what_the_orchestrator_feeds():
    reruns = list(bench_graph.ORCHESTRATOR_RERUNS)
    verdicts = _verdicts(_timings([*reruns, "checksums"], reruns))
    assert verdicts == dict.fromkeys(verdicts, True) and len(verdicts) == 4


def test_a_step_more_than_the_orchestrator_feeds_is_over_target():
    reruns = [*bench_graph.ORCHESTRATOR_RERUNS, "bundle"]
    verdicts = _verdicts(_timings([*reruns, "checksums"], reruns))
    assert verdicts["one orchestrator file changed: reruns"] is False


def test_a_run_that_does_other_than_its_plan_is_over_target():
    reruns = list(bench_graph.ORCHESTRATOR_RERUNS)
    verdicts = _verdicts(_timings([*reruns, "checksums"], reruns[:-1]))
    assert verdicts["one orchestrator file changed: reruns"] is False


def test_a_slow_no_op_and_a_poor_parallel_speed_up_are_over_target():
    reruns = list(bench_graph.ORCHESTRATOR_RERUNS)
    verdicts = _verdicts(_timings([*reruns, "checksums"], reruns, noop=3.5, parallel=22.0))
    assert verdicts["no-op release"] is False and verdicts["no-op / cold release"] is False
    assert verdicts["new commit, parallel / --jobs 1"] is False
