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
