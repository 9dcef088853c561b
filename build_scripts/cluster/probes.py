"""Is the cluster there yet: containerd's socket, etcd, the API server, the node, CoreDNS."""

from __future__ import annotations

import asyncio
import datetime
import os
import socket
import ssl
from pathlib import Path

from build_scripts.cluster.config import (
    CONTEXT,
    NODE_NAME,
    Layout,
    Settings,
)
from build_scripts.core import on_first_use

httpx = on_first_use.module("httpx")
kr8s = on_first_use.module("kr8s")


def probe_errors() -> tuple[type[BaseException], ...]:
    """What a probe of a cluster that is not (yet) there raises: refused, TLS not ready, 5xx.
    A function, so that naming them does not import httpx and kr8s (core/on_first_use.py)."""
    return (OSError, httpx.HTTPError, ssl.SSLError, kr8s.ServerError, kr8s.APITimeoutError)


def _api_client(layout: Layout, timeout: float = 5.0) -> httpx.Client:
    pki = layout.pki
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return httpx.Client(verify=context, timeout=timeout)


def api_ready(layout: Layout, settings: Settings) -> bool:
    # /readyz is no API object and kr8s has no call for it, so this one probe is raw httpx,
    # with the admin's client certificate.
    with _api_client(layout) as client:
        return client.get(f"{settings.server_url}/readyz").status_code == 200


def _objects(layout: Layout, kind: str, *names: str, **selectors) -> list[dict]:
    """Objects from the API through kr8s, as the admin, with a client of their own.

    Each call runs in its own event loop, so kr8s makes a new client for it: `down --wipe` and
    `up` make new certificates, and a client kept from before would still hold the old ones.
    """

    async def fetch() -> list[dict]:
        api = await kr8s.asyncio.api(kubeconfig=str(layout.kubeconfig), context=CONTEXT)
        try:
            return [item.raw async for item in api.get(kind, *names, **selectors)]
        except kr8s.NotFoundError:
            return []

    return asyncio.run(fetch())


def _after(timestamp: str, since: float) -> bool:
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() >= int(
        since
    )


def node_is_ready(node: dict, since: float | None = None) -> bool:
    """The node object reports Ready; with `since` (epoch seconds), in a heartbeat after it."""
    for condition in node.get("status", {}).get("conditions", []):
        if condition["type"] != "Ready" or condition["status"] != "True":
            continue
        return since is None or _after(condition["lastHeartbeatTime"], since)
    return False


def dns_pods_ready(pods: list[dict]) -> bool:
    """One of the CoreDNS pod objects reports Ready (as last written; see dns_available)."""
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for pod in pods
        for c in pod.get("status", {}).get("conditions", [])
    )


def node_ready(layout: Layout, since: float | None = None) -> bool:
    """The node reports Ready; with `since`, in a heartbeat of the kubelet started then.

    A restarted kubelet's node keeps its old Ready condition for a while, so `up` waits for a
    heartbeat of the kubelet it started.
    """
    nodes = _objects(layout, "nodes", NODE_NAME)
    return bool(nodes) and node_is_ready(nodes[0], since)


def dns_query(name: str, query_id: int) -> bytes:
    """A DNS query (RFC 1035) for the A record of name, recursion not asked for."""
    header = query_id.to_bytes(2, "big") + bytes([0, 0]) + (1).to_bytes(2, "big") + bytes(6)
    labels = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.rstrip(".").split("."))
    return header + labels + b"\x00" + (1).to_bytes(2, "big") + (1).to_bytes(2, "big")


def dns_answered(response: bytes, query_id: int) -> bool:
    """The response is ours, says NOERROR and carries at least one answer."""
    if len(response) < 12 or int.from_bytes(response[:2], "big") != query_id:
        return False
    rcode = response[3] & 0x0F
    answers = int.from_bytes(response[6:8], "big")
    return bool(response[2] & 0x80) and rcode == 0 and answers > 0


def cluster_dns_answers(dns_ip: str, timeout: float = 1.0) -> bool:
    """The cluster DNS Service answers a query for the `kubernetes` Service's name.

    Asked from the node through kube-proxy's rules, so it proves what pods depend on: a
    CoreDNS container that runs now, behind the Service's current endpoints.
    """
    query_id = int.from_bytes(os.urandom(2), "big")
    family = socket.AF_INET6 if ":" in dns_ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.sendto(dns_query("kubernetes.default.svc.cluster.local", query_id), (dns_ip, 53))
            response = probe.recv(512)
        except OSError:
            return False
    return dns_answered(response, query_id)


def dns_available(layout: Layout, settings: Settings) -> bool:
    """A CoreDNS pod is Ready and the cluster DNS Service answers.

    The pod objects alone are not the truth after a restart: a restarted node (or only a
    restarted kubelet, with the containers still running) keeps showing the Ready condition it
    had before until the kubelet writes new status. An answer through the Service is.
    """
    pods = _objects(layout, "pods", namespace="kube-system", label_selector={"k8s-app": "kube-dns"})
    return dns_pods_ready(pods) and cluster_dns_answers(settings.dns_service_ip)


def unix_socket_answers(path: Path) -> bool:
    """True when something accepts connections on the socket (a crash leaves a stale file)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2)
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()
