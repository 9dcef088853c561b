"""invoke bench's timings (build_scripts/release/bench.py)."""

from __future__ import annotations

import pytest

from build_scripts.core.errors import ReleaseError
from build_scripts.release import bench


def test_a_failing_command_under_bench_is_one_error_line_not_a_traceback():
    with pytest.raises(ReleaseError) as failure:
        bench.invoke_seconds(["no-such-task"], 1)
    message = str(failure.value)
    assert "bench: invoke no-such-task failed:" in message
    assert "no-such-task" in message.split("failed:", 1)[1]
    assert "Traceback" not in message and "\n" not in message


def test_figures_are_written_to_reports_with_their_verdicts(tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(bench.paths, "reports_dir", lambda: tmp_path)
    figures = [
        bench.Figure("fresh deploy to all-Ready", 10.5, "s", 60, "3 runs"),
        bench.Figure("deploy of an unchanged release", 21.0, "s", 20),
        bench.Figure("TraderAdmin.exe", None, "MB", 15, "not built"),
    ]
    written = json.loads(bench.write_report(figures).read_text())
    assert [(f["name"], f["value"], f["verdict"]) for f in written] == [
        ("fresh deploy to all-Ready", 10.5, "ok"),
        ("deploy of an unchanged release", 21.0, "OVER TARGET"),
        ("TraderAdmin.exe", None, "not measured"),
    ]
