"""The one kubectl wrapper: server-side apply, its dry run, and the server-side diff.

kr8s has no server-side apply (create-or-update with field ownership), no server-side dry run
of a whole file and no diff, so these calls go through kubectl, here and nowhere else;
everything else talks to the API through kr8s.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from build_scripts.core import cmd
from build_scripts.core.errors import ReleaseError


def server_side_apply(
    manifests: Path,
    *,
    field_manager: str,
    kubectl: str | os.PathLike = "kubectl",
    kubectl_args: Sequence[str] = (),
    dry_run: bool = False,
) -> cmd.Completed:
    """`kubectl apply --server-side` of one file: idempotent, takes over conflicting fields.

    With dry_run the API server runs validation and admission (Pod Security included) and
    persists nothing; the output is captured for the caller to judge.
    """
    return cmd.run(
        [
            str(kubectl),
            *kubectl_args,
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={field_manager}",
            *(["--dry-run=server"] if dry_run else []),
            "-f",
            str(manifests),
        ],
        step="dry run" if dry_run else "apply",
        capture=dry_run,
        quiet=dry_run,
        check=not dry_run,
    )


def server_side_diff(
    manifests: Path,
    *,
    field_manager: str,
    kubectl: str | os.PathLike = "kubectl",
    kubectl_args: Sequence[str] = (),
) -> str:
    """What applying the file would change (a unified diff; empty when nothing would).

    `kubectl diff` exits 1 when there are differences, >1 on an error.
    """
    result = cmd.run(
        [
            str(kubectl),
            *kubectl_args,
            "diff",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={field_manager}",
            "-f",
            str(manifests),
        ],
        step="diff",
        capture=True,
        quiet=True,
        check=False,
    )
    if result.returncode > 1:
        last = result.output.strip().splitlines()[-1:] or ["(no output)"]
        raise ReleaseError(f"kubectl diff of {manifests} failed: {last[0]}")
    return result.output
