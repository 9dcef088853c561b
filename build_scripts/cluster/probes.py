"""Is the cluster there yet: containerd's socket, etcd, the API server, the node, CoreDNS."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
from pathlib import Path

import httpx
import kr8s
import kr8s.asyncio

from build_scripts.cluster.config import (
    CONTEXT,
    NODE_NAME,
    Layout,
    Settings,
)

# What a probe of a cluster that is not (yet) there raises: refused, TLS not ready, 5xx.
PROBE_ERRORS = (OSError, httpx.HTTPError, ssl.SSLError, kr8s.ServerError, kr8s.APITimeoutError)


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


def dns_pods_ready(pods: list[dict], since: float | None = None) -> bool:
    """One of the CoreDNS pod objects is Ready; with `since`, one whose container started
    after it."""
    for pod in pods:
        status = pod.get("status", {})
        ready = any(
            c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
        )
        if not ready:
            continue
        if since is None:
            return True
        for container in status.get("containerStatuses", []):
            started = container.get("state", {}).get("running", {}).get("startedAt")
            if started and _after(started, since):
                return True
    return False


def node_ready(layout: Layout, since: float | None = None) -> bool:
    """The node reports Ready; with `since`, in a heartbeat of the kubelet started then.

    A restarted kubelet's node keeps its old Ready condition for a while, so `up` waits for a
    heartbeat of the kubelet it started.
    """
    nodes = _objects(layout, "nodes", NODE_NAME)
    return bool(nodes) and node_is_ready(nodes[0], since)


def dns_available(layout: Layout, since: float | None = None) -> bool:
    """A CoreDNS pod is Ready; with `since`, one whose container started after it.

    Right after `up` restarted the node, the Deployment still shows the availability it had
    before `down`; the pod's container start time tells the truth.
    """
    pods = _objects(layout, "pods", namespace="kube-system", label_selector={"k8s-app": "kube-dns"})
    return dns_pods_ready(pods, since)


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
