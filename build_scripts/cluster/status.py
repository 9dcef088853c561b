"""`cluster.status`: each process running or crashed (with its log tail), and readiness."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from build_scripts.cluster.components import START_ORDER
from build_scripts.cluster.config import (
    CONTEXT,
    NODE_NAME,
    Layout,
    Settings,
)
from build_scripts.cluster.options import ClusterOptions
from build_scripts.cluster.probes import api_ready, dns_available, node_ready, probe_errors
from build_scripts.cluster.supervise import recorded_argv, running_pid
from build_scripts.core.daemon import log_tail, read_pid
from build_scripts.core.errors import ReleaseError, VerificationFailed


@dataclass
class ComponentStatus:
    name: str
    state: str  # running | crashed | stopped
    pid: int | None
    log: Path
    tail: list[str] = field(default_factory=list)


@dataclass
class ClusterStatus:
    components: list[ComponentStatus]
    api_ready: bool
    node_ready: bool
    dns_ready: bool
    kubeconfig: Path

    @property
    def running(self) -> bool:
        return any(c.state == "running" for c in self.components)

    @property
    def healthy(self) -> bool:
        return (
            all(c.state == "running" for c in self.components)
            and self.api_ready
            and self.node_ready
            and self.dns_ready
        )

    @property
    def crashed(self) -> list[ComponentStatus]:
        return [c for c in self.components if c.state == "crashed"]


def status(options: ClusterOptions) -> ClusterStatus:
    layout = options.layout
    components = []
    for name in START_ORDER:
        pid = running_pid(layout, name)
        if pid is not None:
            components.append(ComponentStatus(name, "running", pid, layout.log(name)))
        elif layout.pid(name).exists():
            # A pid file that `down` did not remove: the process died on its own.
            components.append(
                ComponentStatus(
                    name,
                    "crashed",
                    read_pid(layout.pid(name)),
                    layout.log(name),
                    log_tail(layout.log(name)),
                )
            )
        else:
            components.append(ComponentStatus(name, "stopped", None, layout.log(name)))
    api = node = dns = False
    if layout.pki.joinpath("admin.crt").exists() and any(
        c.state == "running" for c in components if c.name == "kube-apiserver"
    ):
        settings = current_settings(layout)
        with contextlib.suppress(*probe_errors()):
            api = api_ready(layout, settings)
            node = api and node_ready(layout)
            dns = api and dns_available(layout, settings)
    return ClusterStatus(components, api, node, dns, layout.kubeconfig)


def current_settings(layout: Layout) -> Settings:
    """Settings as the running cluster was started (the node IP is in the argv of
    kube-apiserver and the kubelet)."""
    argv = (recorded_argv(layout, "kube-apiserver") or []) + (
        recorded_argv(layout, "kubelet") or []
    )
    flags = ("--advertise-address=", "--node-ip=")
    node_ip = next((a.split("=", 1)[1] for a in argv if a.startswith(flags)), None)
    return Settings(node_ip=node_ip or "127.0.0.1")


def format_status(result: ClusterStatus) -> str:
    lines = []
    for component in result.components:
        pid = f"pid {component.pid}" if component.pid else ""
        lines.append(f"  {component.name:<24} {component.state:<8} {pid:<12} {component.log}")
        if component.state == "crashed":
            lines += [f"      | {line}" for line in component.tail]
    lines.append(
        f"  api /readyz: {'ok' if result.api_ready else 'not ready'}; "
        f"node {NODE_NAME}: {'Ready' if result.node_ready else 'not Ready'}; "
        f"CoreDNS: {'available' if result.dns_ready else 'not available'}"
    )
    lines.append(f"  kubeconfig: {result.kubeconfig} (context {CONTEXT})")
    return "\n".join(lines)


def require_healthy(result: ClusterStatus) -> None:
    if not result.running and not result.crashed:
        raise ReleaseError("the local cluster is not running", "run: invoke cluster.up")
    if result.crashed:
        names = ", ".join(c.name for c in result.crashed)
        raise VerificationFailed(
            f"cluster component(s) crashed: {names}",
            "see the log tails above; `invoke cluster.up` restarts them",
        )
    if not result.healthy:
        raise VerificationFailed(
            "the local cluster is running but not healthy",
            "see the status above and the logs it names",
        )
