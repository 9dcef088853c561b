"""Keep the local cluster's pod traffic on this machine.

Without this, a pod's connection to a ClusterIP whose Service has no ready endpoints (a fresh
deploy before the backend is Ready, the gap in a Recreate rollout, a backend scaled to 0) left
the machine: the CNI firewall plugin's CNI-FORWARD chain accepts every packet from a pod before
kube-proxy's REJECT for endpoint-less Services is reached, and the bridge plugin's ipMasq sends
it out through the default route, where a stranger answered HTTP 404 and kept the connection
open. The same path let any pod reach any outside address.

Why nftables, in a table of its own. The first version was an iptables chain jumped to from
the CNI plugin's CNI-ADMIN chain. That held only while nothing else put an ACCEPT earlier in
FORWARD: kube-router (the NetworkPolicy engine, network_policy.py) inserts its own chain at
FORWARD position 1 on every sync and ends it by ACCEPTing marked pod packets, so the CNI chain,
and ours inside it, was never reached (seen: an endpoint-less Service answered HTTP 404 from
off the machine). An ACCEPT in one netfilter base chain only ends that chain; a reject or drop
in any base chain ends the packet. So the rules live in the nftables table TABLE, in a base
chain on the forward hook at priority filter - 10, evaluated before every iptables FORWARD rule
(iptables-nft and legacy iptables both sit at priority filter), whatever those rules accept and
in whatever order other tools insert them. The kernel has nf_tables, its inet family and
reject built in; the `nft` program comes from Debian's nftables package.

The chain rejects (icmp port-unreachable: the client gets "connection refused" at once):
  1. anything still addressed to the Service CIDR when it is forwarded: kube-proxy translates a
     Service address in PREROUTING (nat, priority -100), so a packet that still carries one
     was not translated — the Service has no ready endpoint;
  2. anything from the pod bridge that would leave through another interface: pods reach pods
     (same bridge) and this machine's own addresses (the node, the API server behind the
     `kubernetes` Service: local delivery, the input hook), never another host. The inet family
     covers IPv6 as well, should a pod ever get an IPv6 address.
A rejected packet is never confirmed by conntrack, so `conntrack -L` shows no entry for it.

This machine's own requests need the same (a second base chain, on the output hook, after
kube-proxy's nat OUTPUT at priority -100). A request from the host to a ClusterIP that kube-proxy
has no translation for routes by the default route: measured right after `kubectl rollout
status` said a restarted orchestrator was rolled out, 7 of 28 requests to its ClusterIP were
answered "404, server: keryx" by a proxy off this machine, as was any unused Service address.
Its chain rejects what still carries a Service address after nat. (Not the pod network's other
addresses: at this hook `oifname` is still the interface of the route chosen before kube-proxy's
DNAT, so a rule on it rejected every translated request too; tried and removed.)
`cluster.down` deletes the table.
"""

from __future__ import annotations

import ipaddress
import json
import re

from build_scripts.core import cmd
from build_scripts.core.errors import ReleaseError

TABLE = "traderadmin_pods"
FAMILY = "inet"
CHAIN = "forward"
OUTPUT_CHAIN = "output"
# Below iptables' filter priority (0): our verdicts come before any iptables FORWARD rule.
PRIORITY = -10
UNTRANSLATED_SERVICE_COMMENT = "traderadmin: Service address kube-proxy did not translate"
LEAVES_NODE_COMMENT = "traderadmin: pods reach only this machine"
HOST_UNTRANSLATED_COMMENT = "traderadmin: host request to a Service address not translated"
COMMENTS = {
    CHAIN: [UNTRANSLATED_SERVICE_COMMENT, LEAVES_NODE_COMMENT],
    OUTPUT_CHAIN: [HOST_UNTRANSLATED_COMMENT],
}
# The first version's iptables chain; removed where an older cluster.up left it.
LEGACY_ISOLATION_CHAIN = "TRADERADMIN-PODS"
LEGACY_JUMP_CHAIN = "CNI-ADMIN"
# Never forwarded off the link by any router (IGMP, mDNS and the like).
LINK_LOCAL_MULTICAST = ipaddress.ip_network("224.0.0.0/24")


REJECT = "reject with icmpx type port-unreachable"


def isolation_rules(service_cidr: str, bridge: str) -> list[str]:
    """The rules of the forward chain, in nft syntax."""
    ipaddress.ip_network(service_cidr)  # refuse anything that is not a CIDR before nft sees it
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", bridge):
        raise ReleaseError(f"bad bridge interface name {bridge!r}", "use a Linux interface name")
    leaves_node = f'iifname "{bridge}" oifname != "{bridge}"'
    return [
        f'ip daddr {service_cidr} counter {REJECT} comment "{UNTRANSLATED_SERVICE_COMMENT}"',
        f'{leaves_node} counter {REJECT} comment "{LEAVES_NODE_COMMENT}"',
    ]


def host_rules(service_cidr: str) -> list[str]:
    """The rules of the output chain (this machine's own packets), in nft syntax."""
    ipaddress.ip_network(service_cidr)
    return [f'ip daddr {service_cidr} counter {REJECT} comment "{HOST_UNTRANSLATED_COMMENT}"']


def ruleset(service_cidr: str, bridge: str) -> str:
    """An nft script that replaces TABLE in one transaction (never a moment without rules)."""
    chains = [
        (CHAIN, "forward", isolation_rules(service_cidr, bridge)),
        (OUTPUT_CHAIN, "output", host_rules(service_cidr)),
    ]
    body = "".join(
        f"  chain {name} {{\n"
        f"    type filter hook {hook} priority {PRIORITY}; policy accept;\n"
        + "".join(f"    {rule}\n" for rule in rules)
        + "  }\n"
        for name, hook, rules in chains
    )
    return (
        # `table` then `delete table`: the delete never fails, whether the table existed or not.
        f"table {FAMILY} {TABLE}\n"
        f"delete table {FAMILY} {TABLE}\n"
        f"table {FAMILY} {TABLE} {{\n{body}}}\n"
    )


def _nft(*arguments: str, script: str | None = None, check: bool = True) -> cmd.Completed:
    result = cmd.run(
        ["nft", *arguments],
        step="nft",
        check=False,
        capture=True,
        quiet=True,
        input=script,
    )
    if check and result.returncode != 0:
        raise ReleaseError(
            f"nft {' '.join(arguments)} failed: {result.output.strip()}",
            "check that nftables works here (nft list ruleset) and run cluster.up again",
        )
    return result


def install_pod_isolation(service_cidr: str, bridge: str) -> None:
    """Create (or replace) TABLE. Runs before the kubelet starts any pod."""
    _nft("-f", "-", script=ruleset(service_cidr, bridge))
    _remove_legacy_chain()


def remove_pod_isolation() -> None:
    """Delete TABLE (and the first version's iptables chain, if an older cluster.up left it)."""
    if _nft("list", "table", FAMILY, TABLE, check=False).returncode == 0:
        _nft("delete", "table", FAMILY, TABLE)
    _remove_legacy_chain()


def installed_chain(listing: str, name: str = CHAIN) -> dict | None:
    """From `nft -j list table`, the base chain `name` and its rule comments, if present."""
    try:
        objects = json.loads(listing).get("nftables", [])
    except json.JSONDecodeError:
        return None
    chain = next(
        (o["chain"] for o in objects if o.get("chain", {}).get("name") == name),
        None,
    )
    if chain is None:
        return None
    comments = [o["rule"].get("comment") for o in objects if o.get("rule", {}).get("chain") == name]
    return {**chain, "comments": comments}


def pod_isolation_installed(service_cidr: str, bridge: str) -> bool:
    """True when TABLE's forward and output chains hook in before iptables' filter rules
    (after nat) and hold exactly our rules."""
    result = _nft("-j", "list", "table", FAMILY, TABLE, check=False)
    if result.returncode != 0:
        return False
    for name, comments in COMMENTS.items():
        chain = installed_chain(result.output, name)
        if not chain or chain.get("hook") != name or chain.get("prio", 0) >= 0:
            return False
        if chain["comments"] != comments:
            return False
    # The addresses too: a table from another service CIDR or bridge is not ours.
    text = _nft("list", "table", FAMILY, TABLE, check=False).output
    return f"ip daddr {service_cidr}" in text and f'iifname "{bridge}"' in text


def _iptables(*arguments: str) -> bool:
    result = cmd.run(
        ["iptables", "-w", "-t", "filter", *arguments],
        step="iptables",
        check=False,
        capture=True,
        quiet=True,
    )
    return result.returncode == 0


def _remove_legacy_chain() -> None:
    while _iptables("-D", LEGACY_JUMP_CHAIN, "-j", LEGACY_ISOLATION_CHAIN):
        pass
    if _iptables("-S", LEGACY_ISOLATION_CHAIN):
        _iptables("-F", LEGACY_ISOLATION_CHAIN)
        _iptables("-X", LEGACY_ISOLATION_CHAIN)


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
