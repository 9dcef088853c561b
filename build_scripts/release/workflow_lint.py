"""actionlint on the GitHub Actions workflows, installed on first use.

actionlint checks workflow syntax, expressions, runner labels, action inputs and, through
shellcheck, every `run:` script for bash. `nox -s lint` runs it as
`python -m build_scripts.release.workflow_lint`; only the standard library and this package are
needed, so the lint session installs nothing else. The binary is `go install`ed once per version
into ~/.cache/traderadmin/tools/actionlint/<version>/ and reused from there.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from build_scripts.core import cmd, paths, tools
from build_scripts.core.errors import ConfigError, exit_code_of
from build_scripts.core.progress import say

ACTIONLINT_VERSION = "v1.7.12"
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint"


def actionlint_path(version: str = ACTIONLINT_VERSION) -> Path:
    return paths.cache_dir() / "tools" / "actionlint" / version / "actionlint"


def ensure_actionlint(version: str = ACTIONLINT_VERSION) -> Path:
    """The cached actionlint binary of `version`, built with `go install` when missing."""
    binary = actionlint_path(version)
    if os.access(binary, os.X_OK):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    # Built into a scratch GOBIN beside the final place, then renamed: an interrupted build
    # never leaves a half-written binary that a later run would trust.
    with tempfile.TemporaryDirectory(prefix=".gobin-", dir=binary.parent) as gobin:
        cmd.run(
            ["go", "install", f"{ACTIONLINT_MODULE}@{version}"],
            step="actionlint install",
            env={"GOBIN": gobin, "CGO_ENABLED": "0"},
            timeout=900,
            hint="it needs Go and the Go module proxy",
        )
        os.replace(Path(gobin) / "actionlint", binary)
    return binary


def workflow_files(root: Path | None = None) -> list[Path]:
    folder = (root or paths.repo_root()) / ".github" / "workflows"
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    if not files:
        raise ConfigError(f"no workflow files in {folder}", "nothing for actionlint to check")
    return files


def lint_argv(actionlint: Path, shellcheck: str, files: list[Path]) -> list[str]:
    # shellcheck is named explicitly: actionlint silently skips script checks when it cannot
    # find one. `shell: python` steps are not used, so pyflakes is switched off, not looked for.
    return [str(actionlint), "-shellcheck", shellcheck, "-pyflakes=", *(str(f) for f in files)]


def lint(files: list[Path] | None = None) -> None:
    """Run actionlint (with shellcheck) on the workflows; CommandFailed on any finding."""
    files = files or workflow_files()
    shellcheck = tools.require("shellcheck")
    actionlint = ensure_actionlint()
    cmd.run(lint_argv(actionlint, shellcheck, files), step="actionlint", cwd=paths.repo_root())
    say(f"✓ actionlint {ACTIONLINT_VERSION}: {len(files)} workflow file(s) clean")


def main(argv: list[str]) -> int:
    return exit_code_of(lambda: lint([Path(a).resolve() for a in argv] or None))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
