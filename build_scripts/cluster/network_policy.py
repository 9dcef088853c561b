"""The local cluster's NetworkPolicy engine: kube-router's firewall, and nothing else of it.

Which engine, and why. The bridge CNI plugin enforces no NetworkPolicy, so without an engine the
TraderAdmin policies would be accepted and ignored. This machine's kernel has nftables but not
its queue statement (CONFIG_NFT_QUEUE is not set), while the iptables NFQUEUE target and ipset
are built in. sigs.k8s.io/kube-network-policies (the Go proxy serves v0.7.0 and v0.8.0) sends
packets to user space with the nftables `queue` statement only, so it cannot run here. kube-router
enforces policies with iptables rules and ipsets, evaluated in the kernel; run with only its
firewall (no BGP routing, no service proxy, no CNI), it is a plain policy controller beside the
bridge plugin and kube-proxy. It is built with `go install` like CoreDNS and crictl.

Security reports (golang/vulndb GO-2026-4724 = GHSA-phqm-jgc3-qf8g, and GHSA-v5mh-h5hx-7v92):
the first is in kube-router's service proxy (it copies Services' externalIPs / load-balancer IPs
onto the node unchecked: a tenant allowed to edit Services can capture traffic); the second in its
BGP routing controller (GoBGP's gRPC API bound to the node IP without authentication). Both need
a part that runs only with --run-service-proxy or --run-router; here both are off and only the
firewall runs, on a single-tenant test cluster whose pods cannot leave this machine. So they do
not apply to this use; they do rule v2.1.0 out as a production router/proxy, and a real cluster
enforces the same manifests with its own CNI (Calico, Cilium, ...).

Host traffic: kube-router accepts packets whose source is an address of the pod's own node
(`-m addrtype --src-type LOCAL`), so kubelet probes, `kubectl port-forward` and the node's own
requests to ClusterIPs pass whatever the policies say; pod-to-pod traffic is what policies judge.
It rejects (icmp port-unreachable) rather than drops, so a blocked client fails at once.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterable
from pathlib import Path

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import firewall
from build_scripts.core import cmd

KUBE_ROUTER_MODULE = "github.com/cloudnativelabs/kube-router/v2"
KUBE_ROUTER_VERSION = "v2.1.0"
COMPONENT = "network-policy"
# iptables chains and ipsets kube-router's firewall creates (all its own, by these prefixes).
CHAIN_PREFIXES = ("KUBE-ROUTER-", "KUBE-NWPLCY-", "KUBE-POD-FW-", "KUBE-SRC-", "KUBE-DST-")
IPSET_PREFIXES = ("KUBE-SRC-", "KUBE-DST-", "kube-router-")
# Where kube-router finds ipset and the rest, after its own iptables programs.
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def binary_path(kubernetes_version: str = cluster_build.KUBERNETES_VERSION) -> Path:
    tools = cluster_build.kubernetes_dir(kubernetes_version) / "tools"
    return tools / f"kube-router-{KUBE_ROUTER_VERSION}"


def build_kube_router(kubernetes_version: str = cluster_build.KUBERNETES_VERSION) -> Path:
    """The kube-router binary, built once per version under the cluster's tools cache."""
    return cluster_build.go_install(
        KUBE_ROUTER_MODULE,
        f"{KUBE_ROUTER_MODULE}/cmd/kube-router",
        KUBE_ROUTER_VERSION,
        binary_path(kubernetes_version),
        ldflags=f"-s -w -X {KUBE_ROUTER_MODULE}/pkg/version.Version={KUBE_ROUTER_VERSION}",
    )


def environment(kubernetes_version: str = cluster_build.KUBERNETES_VERSION) -> dict[str, str]:
    """kube-router's PATH: its iptables programs are the back-end no other program writes to
    (firewall.py says why)."""
    programs = firewall.engine_path_dir(
        binary_path(kubernetes_version).parent, firewall.policy_engine_backend()
    )
    # A fixed PATH, not the caller's: the process's fingerprint includes its environment, and
    # `cluster.up` from another shell must not restart it.
    return {"PATH": os.pathsep.join([str(programs), *SYSTEM_PATH])}


def command_line(binary: Path, *, kubeconfig: Path, node_name: str, service_cidr: str) -> list[str]:
    """kube-router with only its NetworkPolicy firewall running."""
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--hostname-override={node_name}",
        "--run-firewall=true",
        "--run-router=false",
        "--run-service-proxy=false",
        "--run-loadbalancer=false",
        "--enable-cni=false",
        "--enable-ipv4=true",
        "--enable-ipv6=false",
        f"--service-cluster-ip-range={service_cidr}",
        # No listener at all. Its health server binds every interface (":port", no address
        # flag) on Go's default mux, where its main has registered net/http/pprof: command
        # line, goroutine dumps and CPU profiles for anyone who reaches the node. Nothing here
        # reads it: the cluster judges its components by their processes.
        "--health-port=0",
        "--metrics-port=0",
        "--iptables-sync-period=1m",
        "--v=1",
    ]


def cleanup_commands(rules: str) -> list[list[str]]:
    """iptables arguments removing kube-router's chains from a filter table `-S` listing.

    kube-router's own --cleanup-config would also flush every IPVS service and routing state on
    the host (its proxy and router cleanups); only the firewall's rules are ours to remove.
    """
    ours = [
        line.split()[1]
        for line in rules.splitlines()
        if line.startswith("-N ") and line.split()[1].startswith(CHAIN_PREFIXES)
    ]
    commands = []
    for line in rules.splitlines():
        parts = shlex.split(line)
        if parts[:1] != ["-A"] or parts[1] in ours:
            continue
        if "-j" in parts and parts[parts.index("-j") + 1] in ours:
            commands.append(["-t", "filter", "-D", *parts[1:]])
    commands += [["-t", "filter", "-F", chain] for chain in ours]
    commands += [["-t", "filter", "-X", chain] for chain in ours]
    return commands


def remove_rules() -> None:
    """Remove kube-router's firewall chains and ipsets (after it stopped).

    From both back-ends: its own, and the host's, where a cluster.up from before the back-ends
    were separated left them.
    """
    remove_chains(firewall.BACKENDS)
    if shutil.which("ipset"):
        sets = cmd.run(["ipset", "list", "-n"], step="ipset", check=False, capture=True, quiet=True)
        for name in sets.output.split():
            if name.startswith(IPSET_PREFIXES):
                cmd.run(["ipset", "destroy", name], step="ipset", check=False, quiet=True)


def remove_chains_from_the_host_table() -> None:
    """Before it starts: chains an older cluster.up left in the host's table, where kube-router
    no longer writes, so stale policies there cannot judge packets any more."""
    remove_chains([firewall.host_backend()])


def remove_chains(backends: Iterable[str]) -> None:
    for backend in backends:
        program = firewall.backend_program(backend)
        if not shutil.which(program):
            continue
        listing = cmd.run(
            [program, "-w", "-t", "filter", "-S"],
            step="iptables",
            check=False,
            capture=True,
            quiet=True,
        )
        if listing.returncode == 0:
            for arguments in cleanup_commands(listing.output):
                cmd.run([program, "-w", *arguments], step="iptables", check=False, quiet=True)
