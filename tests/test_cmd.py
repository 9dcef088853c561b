import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from build_scripts.core import cmd, poll
from build_scripts.core.errors import CommandFailed, ToolMissing


def test_run_streams_output_with_the_step_prefix(capsys):
    result = cmd.run(
        [sys.executable, "-c", "print('hello'); print('world')"], step="greet", capture=True
    )
    shown = capsys.readouterr().out
    assert "[greet] hello" in shown and "[greet] world" in shown
    assert shown.splitlines()[0].startswith("+ ")
    assert result.output == "hello\nworld"
    assert result.returncode == 0


def test_failure_raises_with_exit_code_and_last_lines():
    script = "import sys; print('first'); print('the real reason'); sys.exit(7)"
    with pytest.raises(CommandFailed) as caught:
        cmd.run([sys.executable, "-c", script], step="boom", quiet=True)
    error = caught.value
    assert error.returncode == 7
    assert error.tail[-1] == "the real reason"
    assert "the real reason" in error.one_line()
    assert "exited 7" in error.one_line()


def test_missing_program_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("TRADERADMIN_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ToolMissing) as caught:
        cmd.run(["makensis", "-VERSION"], step="installer")
    assert "makensis" in caught.value.one_line()
    assert "apt-get install nsis" in caught.value.one_line()


def test_timeout_kills_the_command():
    started = time.monotonic()
    with pytest.raises(CommandFailed) as caught:
        cmd.run(
            [sys.executable, "-c", "import time; time.sleep(30)"],
            step="slow",
            timeout=1,
            quiet=True,
        )
    assert time.monotonic() - started < 10
    assert "time limit" in caught.value.tail[-1]


def test_a_child_left_running_with_the_output_pipe_neither_holds_up_nor_dies_with_the_run():
    # As Wine's desktop process does when an installer opened the prefix's first window.
    script = "sleep 60 & echo $!; echo installed; exit 12"
    result = cmd.run(["sh", "-c", script], step="install", capture=True, check=False, timeout=30)
    child = int(result.output.splitlines()[0])
    try:
        assert result.returncode == 12
        assert result.output.splitlines()[1] == "installed"
        # Still running (a killed one lingers as a zombie until reaped): run() returned without
        # waiting for it or killing it.
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state != "Z"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def test_env_overlay_can_remove_a_variable(monkeypatch):
    monkeypatch.setenv("TRADERADMIN_PROBE", "set")
    code = "import os; print(os.environ.get('TRADERADMIN_PROBE', 'unset'))"
    assert cmd.output_of([sys.executable, "-c", code], step="env") == "set"
    assert (
        cmd.output_of([sys.executable, "-c", code], step="env", env={"TRADERADMIN_PROBE": None})
        == "unset"
    )


def test_input_is_fed_to_stdin():
    code = "import sys; print(sys.stdin.read().upper())"
    assert cmd.output_of([sys.executable, "-c", code], step="stdin", input="abc") == "ABC"


def test_start_background_records_pid_and_log(tmp_path):
    import os
    import signal

    pid = cmd.start_background(
        [sys.executable, "-c", "print('up', flush=True); import time; time.sleep(30)"],
        name="sleeper",
        log_path=tmp_path / "s.log",
        pid_path=tmp_path / "s.pid",
    )
    try:
        assert int((tmp_path / "s.pid").read_text()) == pid
        poll.until(
            lambda: "up" in (tmp_path / "s.log").read_text(),
            what="the daemon's first line in its log",
            timeout=5,
            interval=0.1,
            fail=AssertionError,
        )
    finally:
        os.kill(pid, signal.SIGKILL)


def test_no_engine_module_but_cmd_starts_a_process_itself():
    """core/cmd.py is the one subprocess helper: no other module of the engine calls
    subprocess.run/Popen/call/check_* or os.system directly."""
    import re

    from build_scripts.core import paths

    engine = paths.repo_root() / "build_scripts"
    starts = re.compile(r"\bsubprocess\.(run|Popen|call|check_call|check_output)\(|os\.system\(")
    offenders = [
        f"{path.relative_to(engine)}:{number}"
        for path in sorted(engine.rglob("*.py"))
        if path != engine / "core" / "cmd.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if starts.search(line)
    ]
    assert not offenders, offenders
