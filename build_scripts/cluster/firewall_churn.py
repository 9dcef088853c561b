"""Pods and Docker networks made and removed side by side, and after each round a check that
every firewall owner's rules are still there (firewall.py: who owns what, and why).

This is the direct test of the race that two programs sharing one iptables table caused: pod
changes make the NetworkPolicy engine save and restore its table, while Docker adds the rules of
each new network. A rule lost that way is never added back, so a check after the round catches
every loss of the round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from build_scripts.cluster import firewall, render
from build_scripts.cluster.config import CONTEXT, PAUSE_IMAGE, Layout
from build_scripts.cluster.network_policy import COMPONENT as ENGINE
from build_scripts.cluster.supervise import wait_for
from build_scripts.core import cmd, on_first_use
from build_scripts.core.errors import ReleaseError

whales = on_first_use.module("python_on_whales")

NAMESPACE = "traderadmin-firewall-churn"
NETWORK_PREFIX = "traderadmin-churn-"
# What kube-router v2.1.0 logs (at --v=1) when a sync has written its table back.
ENGINE_SYNC_LINE = "Restoring IPv4 iptables rules took"


@dataclass
class RoundResult:
    number: int
    seconds: float = 0.0
    engine_syncs: int = 0
    pods_made: int = 0
    networks_made: int = 0
    missing: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing and not self.error and self.engine_syncs > 0


def engine_syncs(layout: Layout) -> int:
    """How many syncs the engine has written back since its log began."""
    try:
        return layout.log(ENGINE).read_text(errors="replace").count(ENGINE_SYNC_LINE)
    except FileNotFoundError:
        return 0


def _kubectl(layout: Layout, *args: str, stdin: str | None = None, check: bool = True) -> str:
    argv = ["kubectl", "--kubeconfig", str(layout.kubeconfig), "--context", CONTEXT, *args]
    return cmd.run(argv, step="kubectl", capture=True, quiet=True, input=stdin, check=check).output


def _running_pod_ips(layout: Layout, prefix: str = "") -> list[str]:
    """IPs of the churn pods (whose name starts with `prefix`) that run and are not going."""
    template = (
        "{range .items[?(@.status.phase=='Running')]}"
        "{.metadata.name}|{.metadata.deletionTimestamp}|{.status.podIP}{'\\n'}{end}"
    )
    out = _kubectl(layout, "get", "pods", "-n", NAMESPACE, "-o", f"jsonpath={template}")
    ips = []
    for line in out.splitlines():
        name, deleting, ip = [*line.split("|"), "", ""][:3]
        if ip and not deleting and name.startswith(prefix):
            ips.append(ip)
    return ips


def _churn_pods(layout: Layout, number: int, count: int, result: RoundResult) -> None:
    names = [f"churn-{number}-{i}" for i in range(count)]
    for name in names:
        manifest = render.render(
            "churn-pod.yaml.j2", name=name, namespace=NAMESPACE, image=PAUSE_IMAGE
        )
        _kubectl(layout, "apply", "-f", "-", stdin=manifest)
        result.pods_made += 1
    wait_for(
        f"{count} churn pods of round {number} Running",
        lambda: len(_running_pod_ips(layout, f"churn-{number}-")) >= count,
        layout=layout,
        watch=("kubelet", "containerd"),
        timeout=120,
        interval=0.2,
    )
    # The previous round's pods go while this round's stay: deletions sync the engine as well.
    _kubectl(
        layout,
        "delete",
        "pods",
        "-n",
        NAMESPACE,
        "--wait=false",
        "--ignore-not-found",
        *[f"churn-{number - 1}-{i}" for i in range(count)],
    )


def _churn_networks(number: int, count: int, made: list[str], result: RoundResult) -> None:
    for i in range(count):
        network = whales.docker.network.create(f"{NETWORK_PREFIX}{number}-{i}", driver="bridge")
        made.append(network.name)
        result.networks_made += 1
        if len(made) > 2:
            whales.docker.network.remove(made.pop(0))


def _bridge_of(network_name: str) -> str:
    network = whales.docker.network.inspect(network_name)
    return network.options.get("com.docker.network.bridge.name") or f"br-{network.id[:12]}"


def churn_round(
    layout: Layout, number: int, networks: list[str], *, pods: int = 4, network_changes: int = 6
) -> RoundResult:
    """One round: pods in one thread, Docker networks in another, then the owners' rules."""
    result = RoundResult(number)
    started = time.monotonic()
    syncs_before = engine_syncs(layout)
    errors: list[str] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except Exception as error:  # reported in the round's result, not lost in a thread
                errors.append(f"{type(error).__name__}: {error}")

        return run

    threads = [
        threading.Thread(target=guarded(lambda: _churn_pods(layout, number, pods, result))),
        threading.Thread(
            target=guarded(lambda: _churn_networks(number, network_changes, networks, result))
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One more sync written back after the last change: a rule it wiped would now be gone.
    syncs_at_end = engine_syncs(layout)
    try:
        wait_for(
            "a NetworkPolicy engine sync",
            lambda: engine_syncs(layout) > syncs_at_end,
            layout=layout,
            watch=(ENGINE,),
            timeout=90,
            interval=0.2,
        )
    except ReleaseError as error:
        errors.append(str(error))
    result.engine_syncs = engine_syncs(layout) - syncs_before
    missing = firewall.missing_rules(
        docker_bridges=[_bridge_of(name) for name in networks],
        pod_ips=_running_pod_ips(layout),
    )
    result.missing = [f"{rule.owner}: {rule.what}" for rule in missing]
    result.error = "; ".join(errors)
    result.seconds = time.monotonic() - started
    return result


class Churn:
    """Churn rounds against the running local cluster. As a context manager it makes the
    namespace first and removes it and the networks it made afterwards, whatever happened."""

    def __init__(self, layout: Layout, *, pods: int = 4, network_changes: int = 6) -> None:
        self.layout = layout
        self.pods = pods
        self.network_changes = network_changes
        self.networks: list[str] = []
        self.rounds = 0

    def __enter__(self) -> Churn:
        _kubectl(self.layout, "create", "namespace", NAMESPACE, check=False)
        return self

    def round(self) -> RoundResult:
        self.rounds += 1
        return churn_round(
            self.layout,
            self.rounds,
            self.networks,
            pods=self.pods,
            network_changes=self.network_changes,
        )

    def __exit__(self, *exc_info) -> None:
        # Waits until the namespace is gone: a next churn makes it again.
        _kubectl(
            self.layout, "delete", "namespace", NAMESPACE, "--ignore-not-found", "--timeout=120s"
        )
        for name in self.networks:
            whales.docker.network.remove(name)
        self.networks.clear()


def churn(
    layout: Layout, rounds: int, *, on_round: Callable[[RoundResult], None] | None = None
) -> list[RoundResult]:
    """`rounds` churn rounds, with the namespace and networks removed afterwards."""
    results = []
    with Churn(layout) as session:
        for _ in range(rounds):
            results.append(session.round())
            if on_round:
                on_round(results[-1])
    return results
