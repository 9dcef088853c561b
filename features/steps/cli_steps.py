"""Steps that run the release CLI as a user would and read what it prints."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from _support import cluster_api, run, shown
from behave import given, then, when


def _path_without(program: str, scratch: Path) -> str:
    """A PATH with every program of the current PATH except `program` (symlinked)."""
    shadow = scratch / "path-without" / program
    shadow.mkdir(parents=True, exist_ok=True)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = shadow / entry.name
            if entry.name == program or target.exists():
                continue
            if os.access(entry.path, os.X_OK) and not entry.is_dir():
                target.symlink_to(entry.path)
    return str(shadow)


@given("the machine has been bootstrapped")
def step_bootstrapped(context):
    result = run(context, "invoke bootstrap")
    assert result.returncode == 0, shown(result)


@given('a PATH on which "{program}" is missing')
def step_path_without(context, program):
    context.env_overrides["PATH"] = _path_without(program, context.scratch)
    # The engine also looks in its own bin dir; point it at an empty cache for this run.
    context.env_overrides["TRADERADMIN_CACHE"] = str(context.scratch / "cache")


@when('I run "{command}"')
def step_run(context, command):
    run(context, command)


@then("it exits with status {code:d}")
def step_exit_code(context, code):
    assert context.result.returncode == code, shown(context.result)


@then("it exits with a non-zero status")
def step_nonzero(context):
    assert context.result.returncode != 0, shown(context.result)


@then('the output contains "{text}"')
def step_output_contains(context, text):
    both = context.result.stdout + context.result.stderr
    assert text in both, shown(context.result)


@then('the output lists "{tool}" as "{status}"')
def step_doctor_row(context, tool, status):
    rows = [line.split() for line in context.result.stdout.splitlines()]
    matching = [row for row in rows if row and row[0] == tool]
    assert matching and matching[0][1] == status, shown(context.result)


@then('stderr is one line that contains "{text}"')
def step_one_line(context, text):
    lines = [line for line in context.result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], shown(context.result)


@then("the output shows no traceback")
def step_no_traceback(context):
    both = context.result.stdout + context.result.stderr
    assert "Traceback" not in both, shown(context.result)


@when('on a terminal, "{command}" is answered with "{answer}"')
def step_run_on_a_terminal(context, command, answer):
    """The command under `script`, which gives it a pseudo-terminal (--confirm asks only on a
    terminal); the answer is typed on it. The terminal's output is in stdout."""
    argv = [sys.executable, "-m", "invoke", *shlex.split(command)[1:]]
    run(
        context,
        ["script", "-qec", shlex.join(argv), "/dev/null"],
        stdin_text=f"{answer}\n",
    )


@then('the namespace "{name}" does not exist')
def step_namespace_absent(context, name):
    names = [n.name for n in cluster_api(context).get("namespaces")]
    assert name not in names, f"namespace {name} exists: {names}"
