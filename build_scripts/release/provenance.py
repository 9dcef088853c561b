"""The release's provenance: an in-toto Statement v1 with a SLSA v1 provenance predicate.

Subjects are the artifacts of the folder with their SHA-256; the one resolved dependency is
the git commit; the build definition carries the parameters and the tool versions the steps
recorded. No clock time is written, so the statement of a reproducible release is itself
reproducible.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from pathlib import Path

from build_scripts.core import cmd, paths
from build_scripts.core.metadata import Release

FILE_NAME = "provenance.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://traderadmin.invalid/release/invoke-release/v1"
BUILDER_ID = "https://traderadmin.invalid/release/build_scripts"


def _source_uri(repo: Path) -> str:
    done = cmd.run(
        ["git", "remote", "get-url", "origin"],
        step="git remote",
        cwd=repo,
        capture=True,
        quiet=True,
        check=False,
    )
    url = done.output.strip() if done.returncode == 0 else ""
    return f"git+{url or repo.resolve().as_uri()}"


def engine_version() -> str:
    try:
        return importlib.metadata.version("traderadmin-release")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def statement(
    release: Release,
    subjects: Iterable[tuple[str, str]],
    tools: Mapping[str, str],
    *,
    dirty: bool | None,
) -> dict:
    """subjects: (path relative to the release folder, sha256)."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": digest}} for name, digest in sorted(subjects)
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "product": release.product,
                    "version": release.version_text,
                    "source": _source_uri(paths.repo_root()),
                },
                "internalParameters": {
                    "source_date_epoch": release.source_date_epoch,
                    "dirty": dirty,
                    "tools": dict(sorted(tools.items())),
                },
                "resolvedDependencies": [
                    {
                        "uri": _source_uri(paths.repo_root()),
                        "digest": {"gitCommit": release.commit},
                    }
                ],
            },
            "runDetails": {
                "builder": {
                    "id": BUILDER_ID,
                    "version": {"traderadmin-release": engine_version()},
                },
                "metadata": {"invocationId": f"{release.product}-{release.version_text}"},
            },
        },
    }
