"""The order `nox -s validate` runs the feature files in: those that need no Kubernetes cluster
first, then those that do, the local-cluster feature last (it ends by wiping the cluster).

On a fresh machine the cluster's programs are still compiling (`invoke cluster.build
--background`) when the scenarios start; the first step that needs the cluster waits for that
build. Running the cluster-free features first (the release plan, the desktop builds and
updates, the installer scenario, the images…) puts minutes of work into that wait instead of
after it. Which feature needs the cluster is read from the feature itself, so a new feature
file needs no list to be updated.

Run as `python -m build_scripts.validation.feature_order [FOLDER]`: prints the paths, one a line.
"""

from __future__ import annotations

import sys
from pathlib import Path

NEEDS_CLUSTER = "Given the local cluster is up"
# Ends with `cluster.down --wipe` and a refused `cluster.up`: nothing may need the cluster after it.
LAST = "local-cluster.feature"


def ordered(folder: Path) -> list[Path]:
    """Every .feature file in folder: cluster-free ones first, then by name, LAST at the end."""

    def key(path: Path) -> tuple[bool, bool, str]:
        return (path.name == LAST, NEEDS_CLUSTER in path.read_text(), path.name)

    return sorted(folder.glob("*.feature"), key=key)


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else Path("features")
    for path in ordered(folder):
        print(path.as_posix())


if __name__ == "__main__":
    main(sys.argv[1:])
