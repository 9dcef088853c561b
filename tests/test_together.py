"""validate.together: groups of nox sessions at once, every line kept and prefixed, the worst
exit status returned. A small script stands in for nox (it only echoes and exits)."""

from __future__ import annotations

import sys
import time

import pytest

from build_scripts.core.errors import ConfigError
from build_scripts.validation import together

FAKE_NOX = """
import sys, time
sessions = sys.argv[sys.argv.index("-s") + 1:]
for name in sessions:
    print(f"running {name}", flush=True)
    time.sleep(0.5)
if "bad" in sessions:
    print("FAILED tests/test_x.py::test_y - AssertionError: why", flush=True)
    print("  more lines", flush=True)
sys.exit(3 if "bad" in sessions else 0)
"""


def test_groups_run_at_once_and_a_failure_is_reported(tmp_path, capsys):
    script = tmp_path / "fake_nox.py"
    script.write_text(FAKE_NOX)
    started = time.monotonic()
    runs = together.run_together(
        [["lint", "tests"], ["bad"], ["installer"]], nox=[sys.executable, str(script)]
    )
    elapsed = time.monotonic() - started
    # Side by side: the longest group (two sessions, 1 s) sets the time, not the sum (2 s).
    assert elapsed < 1.9
    out = capsys.readouterr().out
    assert "[lint+tests] running lint" in out and "[lint+tests] running tests" in out
    assert "[bad       ] running bad" in out
    assert [r.returncode for r in runs] == [0, 3, 0]
    # Each group's own time: the one-session groups end before the two-session one.
    assert runs[1].seconds < runs[0].seconds and runs[2].seconds < runs[0].seconds
    assert together.exit_status(runs) == 3
    shown = together.summary(runs)
    assert "failed (exit 3)" in shown
    # The failed group's failures and last lines come again at the end, the others' do not.
    assert (
        "bad failed:\nFAILED tests/test_x.py::test_y - AssertionError: why\n"
        "── its last lines:\nrunning bad\n  more lines"
    ) in shown
    assert "running lint" not in shown


def test_no_group_is_a_usage_error():
    with pytest.raises(ConfigError):
        together.run_together([])
