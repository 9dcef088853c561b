"""The two server-side components as release inputs: the backend's static binary and the
orchestrator's wheelhouse. Container builds are hermetic, so these are made here on the host and
copied into the images; nothing inside `docker build` fetches anything.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from build_scripts.core import atomic, cmd, paths
from build_scripts.core.metadata import Release, python_version

BACKEND_PACKAGE = "./cmd/traderadmin-backend"
BACKEND_BUILDINFO = "traderadmin/backend/internal/buildinfo"


def backend_dir() -> Path:
    return paths.repo_root() / "backend"


def orchestrator_dir() -> Path:
    return paths.repo_root() / "orchestrator"


def backend_ldflags(release: Release) -> str:
    return (
        "-s -w -buildid= "
        f"-X {BACKEND_BUILDINFO}.Version={release.version_text} "
        f"-X {BACKEND_BUILDINFO}.Commit={release.commit}"
    )


def backend_binary_path(release: Release, goos: str = "linux", goarch: str = "amd64") -> Path:
    return release.dist_dir / "backend" / f"traderadmin-backend-{goos}-{goarch}"


def build_backend(release: Release, goos: str = "linux", goarch: str = "amd64") -> Path:
    """A static, stripped, reproducible backend binary (CGO off, -trimpath, empty build id)."""
    destination = backend_binary_path(release, goos, goarch)
    with atomic.atomic_path(destination) as tmp:
        cmd.run(
            [
                "go",
                "build",
                "-trimpath",
                "-ldflags",
                backend_ldflags(release),
                "-o",
                tmp,
                BACKEND_PACKAGE,
            ],
            step="backend",
            cwd=backend_dir(),
            env={"CGO_ENABLED": "0", "GOOS": goos, "GOARCH": goarch, "GOFLAGS": "-mod=readonly"},
        )
    return destination


def wheelhouse_path(release: Release) -> Path:
    return release.dist_dir / "orchestrator" / "wheelhouse"


def build_orchestrator_wheelhouse(release: Release) -> Path:
    """The orchestrator wheel, stamped with the release version, plus its pinned dependencies.

    The source is copied first so the version stamp never touches the tree. The dependencies
    are pinned with hashes in orchestrator/requirements.lock. The new wheelhouse replaces the old
    one only when complete.
    """
    destination = wheelhouse_path(release)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wheelhouse.", dir=destination.parent))
    try:
        with tempfile.TemporaryDirectory(prefix="orchestrator-src.") as source_copy:
            source = Path(source_copy) / "orchestrator"
            shutil.copytree(
                orchestrator_dir(),
                source,
                ignore=shutil.ignore_patterns(
                    "*.egg-info", "__pycache__", "build", ".pytest_cache", "tests"
                ),
            )
            version_file = source / "src" / "traderadmin_orchestrator" / "_version.py"
            version_file.write_text(f'__version__ = "{python_version(release)}"\n')
            cmd.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "--no-deps",
                    "--no-cache-dir",
                    "-w",
                    staging,
                    source,
                ],
                step="orchestrator wheel",
                # setuptools' bdist_wheel dates the zip entries from it: the same bytes each build.
                env={"SOURCE_DATE_EPOCH": str(release.source_date_epoch)},
            )
        cmd.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--only-binary=:all:",
                "--no-deps",
                "--require-hashes",
                "-r",
                orchestrator_dir() / "requirements.lock",
                "-d",
                staging,
            ],
            step="orchestrator dependencies",
        )
        atomic.fsync_tree(staging)
        if destination.exists():
            old = destination.with_name(destination.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            destination.rename(old)
            staging.rename(destination)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def orchestrator_wheel(wheelhouse: Path) -> Path:
    wheels = sorted(wheelhouse.glob("traderadmin_orchestrator-*.whl"))
    if len(wheels) != 1:
        from build_scripts.core.errors import VerificationFailed

        raise VerificationFailed(
            f"expected one orchestrator wheel in {wheelhouse}, found {len(wheels)}",
            "rebuild with: invoke release --only orchestrator",
        )
    return wheels[0]


# The backend's two API roles each have a token; the orchestrator's cannot change anything.
DEV_TOKEN = "dev-token"
DEV_ORCHESTRATOR_TOKEN = "dev-orchestrator-token"


def run_backend_dev(
    listen: str, data_dir: Path, token: str, orchestrator_token: str = DEV_ORCHESTRATOR_TOKEN
) -> None:
    """Run the backend from source in the foreground (Ctrl-C stops it); `token` is the
    admin's."""
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd.run(
        ["go", "run", BACKEND_PACKAGE, "-listen", listen, "-data-dir", data_dir],
        step="backend",
        cwd=backend_dir(),
        env={"BACKEND_ADMIN_TOKEN": token, "BACKEND_ORCHESTRATOR_TOKEN": orchestrator_token},
    )


def run_orchestrator_dev(backend_url: str, listen: str, token: str, tick_seconds: float) -> None:
    """Run the orchestrator from source in the foreground (Ctrl-C stops it)."""
    cmd.run(
        [sys.executable, "-m", "traderadmin_orchestrator"],
        step="orchestrator",
        env={
            "PYTHONPATH": str(orchestrator_dir() / "src"),
            "ORCHESTRATOR_BACKEND_URL": backend_url,
            "ORCHESTRATOR_LISTEN": listen,
            "ORCHESTRATOR_TOKEN": token,
            "ORCHESTRATOR_TICK_SECONDS": str(tick_seconds),
        },
    )
