"""Heavy third-party modules imported when first used, not when the engine's modules load.

Every `invoke …` and every release step is a process of its own: a CI run starts about 430 of
them (process accounting, December 2026), and Python's start-up was half of that run's CPU.
Of the 1.0 s it took to import the tasks, python-on-whales, kr8s and httpx were 570 ms
(`python -X importtime`), paid by every process whether it talked to Docker, the cluster or
HTTP or not — a refusal of bad input included.

    kr8s = module("kr8s")                # kr8s.get(...) imports kr8s then
    whales = module("python_on_whales")  # whales.docker.image.inspect(...)

Names are looked up on the module at each use, so classes work in `except` and `isinstance`
(`except whales.DockerException:`). For annotations, import the names under TYPE_CHECKING.
"""

from __future__ import annotations

import importlib
from typing import Any


class FirstUseModule:
    """Stands for the module `name`; the first attribute looked up imports it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def module(name: str) -> Any:
    return FirstUseModule(name)
