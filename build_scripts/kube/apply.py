"""The one server-side apply, for the cluster's bootstrap objects and for every deploy.

kr8s has no server-side apply (create-or-update with field ownership), so this one call goes
through kubectl; everything else talks to the API through kr8s.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from build_scripts.core import cmd


def server_side_apply(
    manifests: Path,
    *,
    field_manager: str,
    kubectl: str | os.PathLike = "kubectl",
    kubectl_args: Sequence[str] = (),
) -> None:
    """`kubectl apply --server-side` of one file: idempotent, takes over conflicting fields."""
    cmd.run(
        [
            str(kubectl),
            *kubectl_args,
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={field_manager}",
            "-f",
            str(manifests),
        ],
        step="apply",
    )
