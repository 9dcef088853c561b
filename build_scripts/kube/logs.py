"""`deploy.logs`: the components' log lines through the API (kr8s), optionally followed."""

from __future__ import annotations

import threading
from collections.abc import Callable

from build_scripts.core import on_first_use
from build_scripts.core.errors import ConfigError
from build_scripts.core.progress import say

kr8s = on_first_use.module("kr8s")


def pods_of(api: kr8s.Api, namespace: str, components: list[str]) -> list:
    pods = []
    for component in components:
        found = list(
            api.get(
                "pods",
                namespace=namespace,
                label_selector={"app.kubernetes.io/name": component},
            )
        )
        if not found:
            raise ConfigError(
                f"no {component} pod in namespace {namespace}",
                "is it deployed? invoke deploy.status",
            )
        pods += found
    return pods


def show_logs(
    api: kr8s.Api,
    namespace: str,
    components: list[str],
    *,
    follow: bool = False,
    tail: int = 100,
    out: Callable[[str], None] = say,
) -> None:
    """Each pod's lines prefixed with `[pod]`; with follow, until interrupted."""
    pods = pods_of(api, namespace, components)

    def stream(pod) -> None:
        for line in pod.logs(tail_lines=tail, follow=follow, timeout=None if follow else 30):
            out(f"[{pod.name}] {line}")

    if not follow:
        for pod in pods:
            stream(pod)
        return
    threads = [threading.Thread(target=stream, args=(p,), daemon=True) for p in pods]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
