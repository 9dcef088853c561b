"""What `cluster.*` tasks hand the cluster: where its state lives, versions, timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster.config import (
    COREDNS_VERSION,
    Layout,
)
from build_scripts.core import paths


@dataclass(frozen=True)
class ClusterOptions:
    """What `cluster.*` tasks read from `c.config.cluster` (see tasks/cluster.py)."""

    state_dir: Path
    kubernetes_version: str = cluster_build.KUBERNETES_VERSION
    coredns_version: str = COREDNS_VERSION
    node_ip: str | None = None
    merge_kubeconfig: bool = True
    kubeconfig_path: Path = Path.home() / ".kube" / "config"
    timeout: float = 180.0
    build_jobs: int = cluster_build.BUILD_JOBS

    @property
    def layout(self) -> Layout:
        return Layout(self.state_dir)


def default_state_dir() -> Path:
    return paths.state_dir() / "cluster"
