"""The standard release steps: the release graph as data.

Each step names what it needs; `invoke release --only STEP` runs a step and its prerequisites.
The functions live in their concern's module; this file only wires them together.
"""

from __future__ import annotations

from build_scripts import services
from build_scripts.metadata import Release
from build_scripts.release import Step
from build_scripts.summary import Artifact


def _backend(release: Release) -> list[Artifact]:
    return [Artifact(services.build_backend(release), "static linux/amd64")]


def _orchestrator(release: Release) -> list[Artifact]:
    wheelhouse = services.build_orchestrator_wheelhouse(release)
    return [Artifact(services.orchestrator_wheel(wheelhouse), "wheel (+ pinned deps)")]


def standard_steps() -> list[Step]:
    return [
        Step("backend", "static Go backend binary", _backend),
        Step("orchestrator", "orchestrator wheel and its pinned dependencies", _orchestrator),
    ]
