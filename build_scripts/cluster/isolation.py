"""Keep the local cluster's pod traffic on this machine.

Without this, a pod's connection to a ClusterIP whose Service has no ready endpoints (a fresh
deploy before the backend is Ready, the gap in a Recreate rollout, a backend scaled to 0) left
the machine: the CNI firewall plugin's CNI-FORWARD chain accepts every packet from a pod before
kube-proxy's REJECT for endpoint-less Services is reached, and the bridge plugin's ipMasq sends
it out through the default route, where a stranger answered HTTP 404 and kept the connection
open. The same path let any pod reach any outside address.

`cluster.up` installs one chain, TRADERADMIN-PODS, jumped to from CNI-ADMIN: the firewall
plugin's chain for administrators' rules, which CNI-FORWARD evaluates before its own ACCEPTs
(the plugin creates it if missing and never flushes it). The chain rejects
  1. anything still addressed to the Service CIDR in FORWARD: kube-proxy translates a Service
     address in PREROUTING, so a packet that still carries one was not translated (the Service
     has no ready endpoint) — the pod gets "connection refused" at once, as from kube-proxy;
  2. anything from the pod bridge that would leave through another interface: pods reach pods
     (same bridge) and this machine's own addresses (the node, the API server behind the
     `kubernetes` Service: local delivery, the INPUT chain), never another host.
A rejected packet is never confirmed by conntrack, so `conntrack -L` shows no entry for it.
Pods get IPv4 addresses only (host-local IPAM, an IPv4 range and route), so there is no IPv6
path to close. `cluster.down` removes the chain and its jump.
"""

from __future__ import annotations

import ipaddress
import re

from build_scripts.core import cmd
from build_scripts.core.errors import ReleaseError

ISOLATION_CHAIN = "TRADERADMIN-PODS"
# The CNI firewall plugin's admin chain (its default `iptablesAdminChainName`).
CNI_ADMIN_CHAIN = "CNI-ADMIN"
UNTRANSLATED_SERVICE_COMMENT = "traderadmin: Service address kube-proxy did not translate"
LEAVES_NODE_COMMENT = "traderadmin: pods reach only this machine"
# Never forwarded off the link by any router (IGMP, mDNS and the like).
LINK_LOCAL_MULTICAST = ipaddress.ip_network("224.0.0.0/24")


def isolation_rules(service_cidr: str, bridge: str) -> list[list[str]]:
    """The rules of ISOLATION_CHAIN, as iptables arguments after `-A CHAIN`."""
    reject = ["-j", "REJECT", "--reject-with", "icmp-port-unreachable"]
    untranslated = ["-d", service_cidr]
    leaves_node = ["-i", bridge, "!", "-o", bridge]
    return [
        [*untranslated, "-m", "comment", "--comment", UNTRANSLATED_SERVICE_COMMENT, *reject],
        [*leaves_node, "-m", "comment", "--comment", LEAVES_NODE_COMMENT, *reject],
    ]


def _iptables(*arguments: str, check: bool = True) -> bool:
    result = cmd.run(
        ["iptables", "-w", "-t", "filter", *arguments],
        step="iptables",
        check=False,
        capture=True,
        quiet=True,
    )
    if check and result.returncode != 0:
        raise ReleaseError(
            f"iptables {' '.join(arguments)} failed: {result.output.strip()}",
            "check that iptables works here (iptables -S) and run cluster.up again",
        )
    return result.returncode == 0


def _chain_exists(chain: str) -> bool:
    return _iptables("-S", chain, check=False)


def install_pod_isolation(service_cidr: str, bridge: str) -> None:
    """Create (or refresh) ISOLATION_CHAIN and jump to it first from CNI_ADMIN_CHAIN.

    Runs before the kubelet starts any pod, so no pod packet passes before the rules exist.
    """
    for chain in (CNI_ADMIN_CHAIN, ISOLATION_CHAIN):
        if not _chain_exists(chain):
            _iptables("-N", chain)
    _iptables("-F", ISOLATION_CHAIN)
    for rule in isolation_rules(service_cidr, bridge):
        _iptables("-A", ISOLATION_CHAIN, *rule)
    if not _iptables("-C", CNI_ADMIN_CHAIN, "-j", ISOLATION_CHAIN, check=False):
        _iptables("-I", CNI_ADMIN_CHAIN, "1", "-j", ISOLATION_CHAIN)


def remove_pod_isolation() -> None:
    """Remove the jump and ISOLATION_CHAIN; CNI_ADMIN_CHAIN stays for the plugin."""
    while _iptables("-D", CNI_ADMIN_CHAIN, "-j", ISOLATION_CHAIN, check=False):
        pass
    if _chain_exists(ISOLATION_CHAIN):
        _iptables("-F", ISOLATION_CHAIN)
        _iptables("-X", ISOLATION_CHAIN)


def pod_isolation_installed(service_cidr: str, bridge: str) -> bool:
    """True when the chain holds exactly our rules and CNI_ADMIN_CHAIN jumps to it."""
    if not _iptables("-C", CNI_ADMIN_CHAIN, "-j", ISOLATION_CHAIN, check=False):
        return False
    return all(
        _iptables("-C", ISOLATION_CHAIN, *rule, check=False)
        for rule in isolation_rules(service_cidr, bridge)
    )


def connections_leaving_the_machine(conntrack_listing: str, pod_cidr: str, local: set) -> list[str]:
    """conntrack entries from the pod network whose real peer is not on this machine.

    Each line holds the original tuple then the reply tuple; after kube-proxy's DNAT the reply
    tuple's source is the peer that really answers, so that is the address judged.
    """
    pods = ipaddress.ip_network(pod_cidr)
    leaving = []
    for line in conntrack_listing.splitlines():
        sources = re.findall(r"\bsrc=(\S+)", line)
        if len(sources) < 2:
            continue
        original_source, peer = (ipaddress.ip_address(a) for a in sources[:2])
        # The node's own address on the pod bridge (its gateway) is the node, not a pod.
        if original_source not in pods or original_source in local:
            continue
        if peer in pods or peer in local or peer.is_loopback or peer in LINK_LOCAL_MULTICAST:
            continue
        leaving.append(line)
    return leaving
