"""Test sessions. `nox -l` lists them; the README's test command runs them in order."""

from __future__ import annotations

import time
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests", "app", "validate", "installer"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True

PYTHON = "3.11"
# uv makes the sessions' virtualenvs: `pip install -e .` took 22 s (17 s CPU) per session, uv
# 3-4 s from its cache (~/.cache/uv), and CI makes five of them side by side on two cores.
# --seed puts pip into each: the orchestrator step runs `python -m pip wheel` / `download`.
VENV = {"python": PYTHON, "venv_backend": "uv", "venv_params": ["--seed"]}


def _install_engine(session: nox.Session) -> None:
    session.install("-e", ".")


@nox.session(**VENV)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, the engine's import layers, actionlint on the workflows."""
    session.install("ruff==0.17.5", "import-linter==2.16")
    targets = session.posargs or ["."]
    session.run("ruff", "check", *targets)
    session.run("ruff", "format", "--check", *targets)
    # The contracts in pyproject.toml: tasks -> release -> wings -> core, no import circles.
    session.run("lint-imports")
    # Standard library only: builds actionlint into ~/.cache/traderadmin/tools on first use.
    session.run("python", "-m", "build_scripts.release.workflow_lint")


@nox.session(**VENV)
def tests(session: nox.Session) -> None:
    """Pytest for the build_scripts functions (fast; real subprocesses, no daemons)."""
    _install_engine(session)
    # tests/wine needs Wine under an X server: the installer session runs it.
    session.run("pytest", *(session.posargs or ["tests", "--ignore=tests/wine"]))


@nox.session(**VENV)
def app(session: nox.Session) -> None:
    """TraderAdmin itself: front-end build, Go tests (backend, desktop), orchestrator pytest."""
    root = Path(__file__).parent
    # The desktop's main package embeds frontend/dist, so the front end is built first.
    session.chdir(root / "desktop" / "frontend")
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("npm", "run", "build", external=True)
    for module in ("backend", "desktop"):
        session.chdir(root / module)
        session.run("go", "vet", "./...", external=True)
        session.run("go", "test", "-count=1", "./...", external=True)
    session.chdir(root)
    session.install("-e", "orchestrator[test]")
    session.run("pytest", "orchestrator/tests", *session.posargs)


def _scenarios(session: nox.Session, part: str) -> None:
    """Behave on one part of the features (build_scripts/validation/feature_order.py), then the
    ten slowest of its scenarios, pass or fail: where the time went, every run."""
    _install_engine(session)
    started = time.time()
    # Cluster-free features first: on a fresh machine they run while the cluster still builds.
    ordered = session.run(
        "python", "-m", "build_scripts.validation.feature_order", "--part", part, silent=True
    ).split()
    chosen = session.posargs or ordered
    try:
        session.run("behave", *chosen)
    finally:
        session.run(
            "python",
            "-m",
            "build_scripts.validation.slowest",
            "--since",
            f"{started - 1:.0f}",
            *(["--part", part, *chosen] if part != "all" else []),
        )


@nox.session(**VENV)
def validate(session: nox.Session) -> None:
    """Behave scenarios that run the release for real; JUnit XML goes to reports/junit."""
    _scenarios(session, "all")


@nox.session(**VENV, name="validate-daemons")
def validate_daemons(session: nox.Session) -> None:
    """Validate's scenarios that use the Docker engine or the local cluster, one at a time.

    CI runs them beside validate-standalone."""
    _scenarios(session, "daemons")


@nox.session(**VENV, name="validate-standalone")
def validate_standalone(session: nox.Session) -> None:
    """Validate's scenarios that share no daemon with validate-daemons.

    The builds, the desktop app, Wine, Chromium, the tooling's refusals."""
    _scenarios(session, "standalone")


@nox.session(**VENV)
def installer(session: nox.Session) -> None:
    """The Windows installer under Wine and xvfb-run: install, upgrade, run, uninstall."""
    _install_engine(session)
    # One X server for the whole run: Wine's desktop process outlives single commands.
    session.run(
        "xvfb-run",
        "--auto-servernum",
        "--server-args=-screen 0 1280x1024x24",
        "python",
        "-m",
        "pytest",
        "-v",
        "-ra",
        *(session.posargs or ["tests/wine"]),
        external=True,
    )
