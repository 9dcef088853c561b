"""The host under the cluster: node address, kernel settings, preflight, and what a stopped
cluster can leave behind (mounts, stray processes, iptables chains)."""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
from pathlib import Path

from build_scripts.cluster import config, isolation
from build_scripts.cluster.config import (
    Layout,
)
from build_scripts.core import cmd, tools
from build_scripts.core.daemon import cmdline
from build_scripts.core.errors import ConfigError, ReleaseError

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


def cluster_leftovers(layout: Layout) -> list[int]:
    """Processes our cluster started indirectly and that outlived it.

    containerd's shims are started with `-address <our socket>`; pod processes live in the
    kubelet's `kubepods` cgroups. Nothing else matches either test.
    """
    socket_path = str(layout.containerd_socket)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = cmdline(int(entry.name))
        if not argv:
            continue
        if socket_path in argv:
            found.append(int(entry.name))
            continue
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            cgroups = (entry / "cgroup").read_text()
            if any(
                line.split(":", 2)[2].startswith("/kubepods")
                for line in cgroups.splitlines()
                if line.count(":") >= 2
            ):
                found.append(int(entry.name))
    return found


def iptables_chains() -> list[str]:
    try:
        out = cmd.output_of(["iptables", "-t", "nat", "-S"], step="iptables")
    except ReleaseError:
        return []
    return [line.split()[1] for line in out.splitlines() if line.startswith("-N ")]


# Chains the kubelet and the CNI firewall plugin add to the host's tables (kube-proxy's own
# are removed by `kube-proxy --cleanup` on every down). Only these names are touched.
HOST_CHAINS = (
    "KUBE-FIREWALL",
    "KUBE-KUBELET-CANARY",
    "KUBE-IPTABLES-HINT",
    "CNI-FORWARD",
    "CNI-ADMIN",
    isolation.LEGACY_ISOLATION_CHAIN,
)


def host_chain_commands(table: str, rules: str) -> list[list[str]]:
    """iptables arguments that remove HOST_CHAINS from one table's `-S` listing."""
    commands = []
    for line in rules.splitlines():
        if not line.startswith("-A "):
            continue
        parts = shlex.split(line)  # comments are quoted: --comment "CNI firewall plugin rules"
        target = parts[parts.index("-j") + 1] if "-j" in parts else None
        # Rules inside our chains go with the chains; jumps into them from others go first.
        if target in HOST_CHAINS and parts[1] not in HOST_CHAINS:
            commands.append(["-t", table, "-D", *parts[1:]])
    present = [line.split()[1] for line in rules.splitlines() if line.startswith("-N ")]
    for chain in HOST_CHAINS:
        if chain in present:
            commands.append(["-t", table, "-F", chain])
    for chain in HOST_CHAINS:
        if chain in present:
            commands.append(["-t", table, "-X", chain])
    return commands


def remove_host_chains() -> None:
    for program in ("iptables", "ip6tables"):
        if tools.find(tools.Tool(program, "", "", (program,))) is None:
            continue
        for table in ("filter", "nat", "mangle"):
            listing = cmd.run(
                [program, "-t", table, "-S"], step="iptables", check=False, capture=True, quiet=True
            )
            if listing.returncode != 0:
                continue
            for arguments in host_chain_commands(table, listing.output):
                cmd.run([program, *arguments], step="iptables", check=False, quiet=True)
