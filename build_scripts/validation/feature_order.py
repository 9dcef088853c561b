"""Which feature files `nox -s validate` runs, and in what order: those that need no Kubernetes
cluster first, then those that do, the local-cluster feature last (it ends by wiping the
cluster).

On a fresh machine the cluster's programs are still compiling (`invoke cluster.build
--background`) when the scenarios start; the first step that needs the cluster waits for that
build. Running the cluster-free features first (the release plan, the desktop builds and
updates, the installer scenario, the images…) puts minutes of work into that wait instead of
after it. Which feature needs the cluster is read from the feature itself, so a new feature
file needs no list to be updated.

The features fall in two parts that CI runs side by side (`nox -s validate-daemons` beside
`nox -s validate-standalone`; `nox -s validate` runs both, one after the other):
- daemons: those that use the machine's shared daemons, the Docker engine (`@fixture.docker`)
  or the local cluster, and their firewall rules. They run one at a time: a scenario that
  checks every owner's rules while another creates and removes Docker networks would see a
  network between its creation and its rules.
- standalone: everything else (builds, the desktop app, Wine, Chromium, the tooling's refusals);
  each uses only files and processes of its own, and the release folder's lock.

Run as `python -m build_scripts.validation.feature_order [--part P] [FOLDER]`: prints the paths,
one a line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NEEDS_CLUSTER = "Given the local cluster is up"
NEEDS_DOCKER = "@fixture.docker"
# Ends with `cluster.down --wipe` and a refused `cluster.up`: nothing may need the cluster after it.
LAST = "local-cluster.feature"
PARTS = ("all", "daemons", "standalone")


def needs_daemons(path: Path) -> bool:
    text = path.read_text()
    return NEEDS_CLUSTER in text or NEEDS_DOCKER in text


def ordered(folder: Path, part: str = "all") -> list[Path]:
    """The part's .feature files in folder: cluster-free ones first, then by name, LAST at the
    end."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}: one of {', '.join(PARTS)}")

    def key(path: Path) -> tuple[bool, bool, str]:
        return (path.name == LAST, NEEDS_CLUSTER in path.read_text(), path.name)

    chosen = [
        path
        for path in folder.glob("*.feature")
        if part == "all" or needs_daemons(path) == (part == "daemons")
    ]
    return sorted(chosen, key=key)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="feature_order")
    parser.add_argument("--part", choices=PARTS, default="all")
    parser.add_argument("folder", nargs="?", default="features")
    arguments = parser.parse_args(argv)
    for path in ordered(Path(arguments.folder), arguments.part):
        print(path.as_posix())


if __name__ == "__main__":
    main(sys.argv[1:])
