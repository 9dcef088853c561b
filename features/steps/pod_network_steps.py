"""Steps proving that pod traffic of the local cluster stays on this machine.

"Another host" is a network namespace the scenario makes itself, reached from the node through
a veth pair: if the cluster let pod traffic out, the request would land there (still on this
machine) and the scenario would fail, instead of a packet leaving for a stranger's address.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
import time

import httpx
import kr8s
from _support import background, cluster_api, run, wait_until
from behave import given, then
from kr8s.objects import Service

from build_scripts.cluster.config import Settings
from build_scripts.cluster.isolation import connections_leaving_the_machine

OUTSIDE_NETNS = "ta-outside"
OUTSIDE_NODE_SIDE = "ta-out0"
OUTSIDE_HOST_SIDE = "ta-out1"
# RFC 2544 benchmarking range: never routed on the internet, and not used by this machine.
OUTSIDE_NETWORK = ipaddress.ip_network("198.18.0.0/30")


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = run(None, list(argv))
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {result.stdout}{result.stderr}")
    return result


def _remove_outside_host() -> None:
    _sh("ip", "netns", "delete", OUTSIDE_NETNS, check=False)
    _sh("ip", "link", "delete", OUTSIDE_NODE_SIDE, check=False)


INSIDE = ("ip", "netns", "exec", OUTSIDE_NETNS)


def make_outside_host(context) -> tuple[str, str]:
    """A network namespace of the scenario's own, linked to the node by a veth pair: another
    host as far as the node can tell. Returns (the node's address, the host's address)."""
    node_address, host_address = (str(a) for a in OUTSIDE_NETWORK.hosts())
    _remove_outside_host()  # a previous run killed before its cleanup
    _sh("ip", "netns", "add", OUTSIDE_NETNS)
    context.add_cleanup(_remove_outside_host)
    _sh("ip", "link", "add", OUTSIDE_NODE_SIDE, "type", "veth", "peer", "name", OUTSIDE_HOST_SIDE)
    _sh("ip", "link", "set", OUTSIDE_HOST_SIDE, "netns", OUTSIDE_NETNS)
    _sh("ip", "addr", "add", f"{node_address}/30", "dev", OUTSIDE_NODE_SIDE)
    _sh("ip", "link", "set", OUTSIDE_NODE_SIDE, "up")
    _sh(*INSIDE, "ip", "addr", "add", f"{host_address}/30", "dev", OUTSIDE_HOST_SIDE)
    _sh(*INSIDE, "ip", "link", "set", OUTSIDE_HOST_SIDE, "up")
    _sh(*INSIDE, "ip", "link", "set", "lo", "up")
    return node_address, host_address


@given("a host outside the pod network, listening on port {port:d}")
def step_outside_host(context, port):
    _, host_address = make_outside_host(context)
    inside = INSIDE
    background(
        context, [*inside, sys.executable, "-m", "http.server", str(port), "--bind", host_address]
    )
    context.outside_url = f"http://{host_address}:{port}/"
    context.outside_address = host_address
    # The host itself reaches it: a refusal from a pod is then the cluster's doing.
    wait_until(
        f"the outside host to answer on {context.outside_url}",
        lambda: httpx.get(context.outside_url, timeout=2).status_code == 200,
        15,
        interval=0.2,
        ignore=(httpx.HTTPError,),
    )


def _unused_service_address(context) -> str:
    """The highest address of the Service range that no Service has."""
    taken = {
        service.raw["spec"].get("clusterIP")
        for service in cluster_api(context).get("services", namespace=kr8s.ALL)
    }
    network = ipaddress.ip_network(Settings(node_ip="127.0.0.1").service_cidr)
    return next(str(a) for a in reversed(list(network.hosts())) if str(a) not in taken)


@then("this machine's request to a Service address no Service has is refused at once")
def step_host_unused_service_refused(context):
    # A trap on this machine: the outside host also listens on that address, and this machine
    # routes it there. Were the request not refused, it would be answered there, not off the
    # machine as it was (a proxy behind the default route answered "404, server: keryx").
    address = _unused_service_address(context)
    _sh(*INSIDE, "ip", "addr", "add", f"{address}/32", "dev", OUTSIDE_HOST_SIDE)
    background(context, [*INSIDE, sys.executable, "-m", "http.server", "8080", "--bind", address])
    _sh("ip", "route", "add", f"{address}/32", "via", context.outside_address)
    context.add_cleanup(lambda: _sh("ip", "route", "del", f"{address}/32", check=False))
    url = f"http://{address}:8080/"
    probe = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=2)"
    wait_until(
        f"the trap to answer on {url} inside its namespace",
        lambda: _sh(*INSIDE, sys.executable, "-c", probe, check=False).returncode == 0,
        15,
        interval=0.2,
    )
    started = time.monotonic()
    try:
        response = httpx.get(url, timeout=3)
    except httpx.ConnectError as error:
        assert "refused" in str(error).lower(), f"{url}: {error}"
    else:
        raise AssertionError(f"{url} answered this machine: {response.status_code}")
    assert time.monotonic() - started < 2, f"{url}: refused only after a while"


@given('a Service "{name}" whose selector matches no pod')
def step_service_without_endpoints(context, name):
    Service(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": context.namespace},
            "spec": {
                "selector": {"app": "matches-no-pod"},
                "ports": [{"port": 80, "targetPort": 8080}],
            },
        },
        api=cluster_api(context),
    ).create()


def refused_at_once(context, url: str) -> None:
    started = time.monotonic()
    result = context.client.exec(["/echo", "get", url], check=False)
    elapsed = time.monotonic() - started
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode != 0, f"{url} answered from the pod: {output}"
    assert "connection refused" in output, f"{url}: expected 'connection refused', got: {output}"
    # The client's own timeout is 5 s: a black-holed packet would take that long.
    assert elapsed < 4, f"{url}: refused only after {elapsed:.1f}s"


@then('the client pod\'s request to the Service "{name}" is refused at once')
def step_service_refused(context, name):
    service = Service.get(name, namespace=context.namespace, api=cluster_api(context))
    refused_at_once(context, f"http://{service.raw['spec']['clusterIP']}/")
    refused_at_once(context, f"http://{name}.{context.namespace}.svc.cluster.local/")


@then("the client pod's request to that host is refused at once")
def step_outside_refused(context):
    refused_at_once(context, context.outside_url)


def _local_addresses() -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    listing = _sh("ip", "-o", "addr", "show").stdout
    return {ipaddress.ip_interface(match).ip for match in re.findall(r"\binet6? (\S+)", listing)}


@then("conntrack on the node shows no connection from the pod network to outside this machine")
def step_conntrack_clean(context):
    settings = Settings(node_ip="127.0.0.1")  # only the CIDRs are read
    result = _sh("conntrack", "-L", "-s", settings.pod_cidr, check=False)
    assert result.returncode == 0, f"conntrack -L failed: {result.stderr}"
    leaving = connections_leaving_the_machine(result.stdout, settings.pod_cidr, _local_addresses())
    assert not leaving, "pod connections to outside this machine:\n" + "\n".join(leaving)


def _isolation_installed() -> bool:
    from build_scripts.cluster import isolation as cluster_isolation
    from build_scripts.cluster.config import CNI_BRIDGE

    service_cidr = Settings(node_ip="127.0.0.1").service_cidr  # only the CIDR is read
    return cluster_isolation.pod_isolation_installed(service_cidr, CNI_BRIDGE)


@then("the rules that keep pod traffic on this machine are installed")
def step_isolation_installed(context):
    from build_scripts.cluster import isolation as cluster_isolation

    table = ("nft", "list", "table", cluster_isolation.FAMILY, cluster_isolation.TABLE)
    listing = _sh(*table, check=False)
    assert _isolation_installed(), f"nft table:\n{listing.stdout}{listing.stderr}"


@then("the rules that keep pod traffic on this machine are gone")
def step_isolation_gone(context):
    from build_scripts.cluster import isolation as cluster_isolation

    table = ("nft", "list", "table", cluster_isolation.FAMILY, cluster_isolation.TABLE)
    listing = _sh(*table, check=False)
    assert listing.returncode != 0, f"still there:\n{listing.stdout}"
    legacy = _sh("iptables", "-w", "-S", cluster_isolation.LEGACY_ISOLATION_CHAIN, check=False)
    assert legacy.returncode != 0, f"old chain still there:\n{legacy.stdout}"


@then("no iptables chain or ipset of the NetworkPolicy engine is left")
def step_policy_engine_gone(context):
    from build_scripts.cluster import firewall, network_policy

    # Both back-ends: the engine's own, and the host's where an older cluster put them.
    rules = "".join(
        _sh(firewall.backend_program(backend), "-w", "-t", "filter", "-S").stdout
        for backend in firewall.BACKENDS
    )
    chains = [
        line
        for line in rules.splitlines()
        if any(f" {prefix}" in line for prefix in network_policy.CHAIN_PREFIXES)
    ]
    assert not chains, "kube-router's rules are left:\n" + "\n".join(chains)
    sets = _sh("ipset", "list", "-n").stdout.split()
    left = [name for name in sets if name.startswith(network_policy.IPSET_PREFIXES)]
    assert not left, f"kube-router's ipsets are left: {left}"
