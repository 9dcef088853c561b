"""The standard release steps, in the order a reader expects them. Each comes from its module."""

from __future__ import annotations

from build_scripts.release import Step


def standard_steps() -> list[Step]:
    return []
