"""The host under the cluster: node address, kernel settings, preflight, and what a stopped
cluster can leave behind (mounts, stray processes, iptables chains)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from build_scripts.cluster import config, isolation, ownership
from build_scripts.cluster.config import (
    Layout,
)
from build_scripts.core import cmd, tools
from build_scripts.core.errors import ConfigError, ReleaseError
from build_scripts.core.progress import warn

# Needed to run the cluster; go and gcc are only needed (and checked) when building.
HOST_TOOLS = ("containerd", "ctr", "runc", "etcd", "iptables", "nft", "conntrack", "ipset")


def detect_node_ip() -> str:
    """The address of the interface holding the default route (what the kubelet picks too)."""
    try:
        routes = Path("/proc/net/route").read_text().splitlines()[1:]
    except FileNotFoundError:
        routes = []
    if not any(r.split()[1] == "00000000" for r in routes if len(r.split()) > 1):
        raise ConfigError(
            "this machine has no default route, so the node has no address pods can reach",
            "set cluster.node_ip (e.g. INVOKE_CLUSTER_NODE_IP=192.0.2.2) to a local address",
        )
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # connect() on UDP sends nothing; it only asks the kernel which source address it
        # would use for the default route.
        probe.connect(("192.0.2.123", 9))
        return probe.getsockname()[0]
    finally:
        probe.close()


KERNEL_SETTINGS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
    "net/bridge/bridge-nf-call-ip6tables": "1",
}


def configure_kernel() -> None:
    """Forwarding and bridge netfilter, which pod traffic and kube-proxy's rules depend on."""
    for key, value in KERNEL_SETTINGS.items():
        target = Path("/proc/sys") / key
        if not target.exists():
            raise ReleaseError(
                f"/proc/sys/{key} does not exist",
                "the kernel needs br_netfilter (modprobe br_netfilter, or build it in)",
            )
        if target.read_text().strip() != value:
            target.write_text(value)


def preflight() -> None:
    if os.geteuid() != 0:
        raise ReleaseError(
            "the local cluster runs a kubelet and containerd, which need root",
            "run it as root: sudo invoke cluster.up (not -E: root would run programs from "
            "your cache)",
        )
    for tool in HOST_TOOLS:
        tools.require(tool)
    if not (config.CNI_BIN_DIR / "bridge").exists():
        tools.require("cni-bridge")
    if not Path("/dev/kmsg").exists():
        raise ReleaseError(
            "/dev/kmsg is missing; the kubelet's OOM watcher needs it",
            "run on a machine (or VM) that provides /dev/kmsg",
        )
    configure_kernel()


def mount_points_under(mountinfo: str, root: Path) -> list[str]:
    """The mount points below `root` in a /proc/<pid>/mountinfo text, deepest first (the order
    they can be unmounted in)."""
    prefix = str(root.resolve()) + "/"
    mounts = []
    for line in mountinfo.splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            mounts.append(point)
    return sorted(set(mounts), key=lambda p: p.count("/"), reverse=True)


def mounts_under(root: Path) -> list[str]:
    return mount_points_under(Path("/proc/self/mountinfo").read_text(), root)


def cluster_leftovers(layout: Layout, our_pids: list[int] = ()) -> list[int]:
    """Processes our cluster started indirectly and that outlived it (ownership.py says which
    are ours: never another cluster's pods)."""
    return ownership.our_processes(layout.containerd_socket, exclude=our_pids)


def iptables_chains() -> list[str]:
    try:
        out = cmd.output_of(["iptables", "-t", "nat", "-S"], step="iptables")
    except ReleaseError:
        return []
    return [line.split()[1] for line in out.splitlines() if line.startswith("-N ")]


# Chains every kubelet adds to the host's tables (another cluster's kubelet shares them), the
# CNI firewall plugin's (shared too: only the rules about our pod network are ours), and ours.
KUBELET_CHAINS = ("KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT")
CNI_CHAINS = ("CNI-FORWARD", "CNI-ADMIN")
OUR_CHAINS = (isolation.LEGACY_ISOLATION_CHAIN,)
TABLES = ("filter", "nat", "mangle")


def host_chain_commands(
    table: str, rules: str, *, pod_network: str, another_cluster: bool
) -> list[list[str]]:
    """iptables arguments that remove what our cluster left in one table's `-S` listing:
    kube-proxy's chains, our rules in the CNI plugin's chains, ours, and the kubelet's unless
    another cluster's kubelet uses them too."""
    commands = ownership.kube_proxy_commands(table, rules)
    commands += ownership.shared_chain_commands(table, rules, CNI_CHAINS, pod_network)
    mine = set(OUR_CHAINS) | (set() if another_cluster else set(KUBELET_CHAINS))
    present = {line.split()[1] for line in rules.splitlines() if line.startswith("-N ")}
    commands += ownership.chain_removal_commands(table, rules, mine & present)
    return commands


def _each_table(commands_for) -> None:
    """Run the iptables arguments `commands_for(table, listing)` returns, for every table of
    both address families."""
    for program in ("iptables", "ip6tables"):
        if tools.find(tools.Tool(program, "", "", (program,))) is None:
            continue
        for table in TABLES:
            listing = cmd.run(
                [program, "-t", table, "-S"], step="iptables", check=False, capture=True, quiet=True
            )
            if listing.returncode != 0:
                continue
            for arguments in commands_for(table, listing.output):
                cmd.run([program, *arguments], step="iptables", check=False, quiet=True)


def remove_kube_proxy_chains() -> None:
    """kube-proxy's Service rules: the chains reachable from the ones it creates (never
    `kube-proxy --cleanup`, which deletes every KUBE-SVC-*/KUBE-SEP-* chain whoever made it)."""
    _each_table(ownership.kube_proxy_commands)


def remove_host_chains(*, pod_network: str, another_cluster: str | None) -> None:
    """Remove what our cluster left in the host's iptables tables (see host_chain_commands)."""
    if another_cluster:
        warn(f"another Kubernetes runs here ({another_cluster}): the kubelet's chains stay")
    _each_table(
        lambda table, listing: host_chain_commands(
            table, listing, pod_network=pod_network, another_cluster=another_cluster is not None
        )
    )
