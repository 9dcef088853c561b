"""Steps that read the documentation the way a newcomer would, and check it against the tool."""

from __future__ import annotations

import importlib
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from behave import given, then, when

DOCUMENTS = ("README.md", "DEPLOYMENT.md", "ARCHITECTURE.md", "UPDATES.md")
# Build output and tool caches: a clean clone has none of them.
IGNORED_ROOTS = {".git", ".nox", "dist", "reports", ".pytest_cache", ".ruff_cache"}


def invoke_commands(text: str) -> list[list[str]]:
    """Every `invoke …` command in fenced code blocks and inline code spans."""
    commands = []
    code_lines, in_block = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
        elif in_block:
            code_lines.append(line)
    spans = re.findall(r"`(invoke [^`]+)`", text)
    for line in [*code_lines, *spans]:
        if "invoke " not in line:
            continue
        lexer = shlex.shlex(line.rstrip("\\"), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)  # handles quotes, comments, && ; |
        except ValueError as exc:
            raise AssertionError(f"cannot read the shell line {line!r}: {exc}") from exc
        command: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set("&|;()<>"):
                if command[:1] == ["invoke"] and len(command) > 1:
                    commands.append(command[1:])
                command = []
            else:
                command.append(token)
    return commands


@given("the project repository")
def step_repository(context):
    for name in DOCUMENTS:
        assert (context.repo / name).is_file(), f"{name} is missing"


@when("a user accesses DEPLOYMENT.md and the user-facing installation instructions")
def step_read(context):
    context.documents = {name: (context.repo / name).read_text() for name in DOCUMENTS}


@then("DEPLOYMENT.md has the sections {sections}")
def step_sections(context, sections):
    wanted = re.findall(r'"([^"]+)"', sections)
    headings = [
        h.lower() for h in re.findall(r"^#+ (.+)$", context.documents["DEPLOYMENT.md"], re.M)
    ]
    missing = [w for w in wanted if not any(w.lower() in h for h in headings)]
    assert not missing, f"DEPLOYMENT.md lacks sections {missing}; it has {headings}"


def task_flags(repo: Path) -> Callable[[str], set[str] | None]:
    """The long flags each task accepts, from the same collection `invoke` loads (tasks.py),
    in this process: one import instead of one `invoke --help` process per command (over a
    minute for the hundred-odd commands the documents show). None for an unknown task."""
    sys.path.insert(0, str(repo))
    try:
        collection = importlib.import_module("tasks").ns
    finally:
        sys.path.remove(str(repo))

    def flags(task: str) -> set[str] | None:
        try:
            found = collection[task]
        except (KeyError, ValueError):
            return None
        accepted = set()
        for argument in found.get_arguments():
            for name in argument.names:
                dashed = name.replace("_", "-")
                accepted.add(f"--{dashed}")
                if argument.kind is bool:
                    accepted.add(f"--no-{dashed}")
        return accepted

    return flags


@then("every invoke command in the documentation is a task that accepts the flags shown")
def step_commands_exist(context):
    problems = []
    checked = 0
    flags_of = task_flags(context.repo)
    for name, text in context.documents.items():
        for words in invoke_commands(text):
            position = next((i for i, w in enumerate(words) if not w.startswith("-")), None)
            if position is None:
                continue
            task = words[position]
            accepted = flags_of(task)
            checked += 1
            if accepted is None:
                problems.append(f"{name}: `invoke {' '.join(words)}`: no task {task!r}")
                continue
            # Flags before the task name are invoke's own (--help, --debug); check the task's.
            for flag in (w.split("=")[0] for w in words[position:] if w.startswith("--")):
                if flag not in accepted:
                    problems.append(f"{name}: `invoke {' '.join(words)}`: {task} has no {flag}")
    assert checked >= 5, f"only {checked} invoke commands found in the documentation"
    assert not problems, "\n".join(problems)


@then("every deploy environment named in DEPLOYMENT.md exists in deploy/environments")
def step_environments(context):
    named = set(re.findall(r"--environment (\w+)", context.documents["DEPLOYMENT.md"]))
    missing = [
        e for e in named if not (context.repo / "deploy/environments" / f"{e}.yaml").exists()
    ]
    assert named and not missing, f"named {sorted(named)}, missing {missing}"


def named_paths(text: str, roots: list[str]) -> list[str]:
    """Repository paths a document names: below a top-level folder, and either a folder
    (trailing /), a file (an extension) or nested; placeholders (<version>, *) are left out.
    `kubectl logs deploy/backend` names a resource, not a path, and is no match."""
    roots_pattern = "|".join(re.escape(root) for root in roots)
    found = []
    for match in re.finditer(rf"(?<![\w./~<-])((?:{roots_pattern})/[\w./<>*{{}}-]*)", text):
        path = match.group(1).rstrip(".,:;")
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if any(c in path for c in "<>*{}"):
            continue
        if path.endswith("/") or "." in last or path.count("/") >= 2:
            found.append(path)
    return found


@then("every repository path the documents name exists")
def step_paths_exist(context):
    repo: Path = context.repo
    roots = [p.name for p in repo.iterdir() if p.is_dir() and p.name not in IGNORED_ROOTS]
    missing = [
        f"{name}: {path}"
        for name, text in context.documents.items()
        for path in named_paths(text, roots)
        if not (repo / path).exists()
    ]
    assert not missing, "paths named in the documentation that do not exist:\n" + "\n".join(missing)
