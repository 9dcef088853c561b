"""Is the cluster there yet: containerd's socket, etcd, the API server, the node, CoreDNS."""

from __future__ import annotations

import datetime
import socket
import ssl
from pathlib import Path

import httpx

from build_scripts.cluster.config import (
    NODE_NAME,
    Layout,
    Settings,
)


def _api_client(layout: Layout, timeout: float = 5.0) -> httpx.Client:
    pki = layout.pki
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return httpx.Client(verify=context, timeout=timeout)


def api_ready(layout: Layout, settings: Settings) -> bool:
    with _api_client(layout) as client:
        return client.get(f"{settings.server_url}/readyz").status_code == 200


def _get_json(layout: Layout, settings: Settings, path: str) -> dict | None:
    with _api_client(layout) as client:
        response = client.get(f"{settings.server_url}{path}")
    return response.json() if response.status_code == 200 else None


def node_ready(layout: Layout, settings: Settings, since: float | None = None) -> bool:
    """The node reports Ready; with `since` (epoch seconds), in a heartbeat from after it.

    A restarted kubelet's node keeps its old Ready condition for a while, so `up` waits for a
    heartbeat of the kubelet it started.
    """
    node = _get_json(layout, settings, f"/api/v1/nodes/{NODE_NAME}")
    if not node:
        return False
    for condition in node.get("status", {}).get("conditions", []):
        if condition["type"] != "Ready" or condition["status"] != "True":
            continue
        if since is None:
            return True
        heartbeat = datetime.datetime.fromisoformat(
            condition["lastHeartbeatTime"].replace("Z", "+00:00")
        )
        return heartbeat.timestamp() >= int(since)
    return False


def dns_available(layout: Layout, settings: Settings, since: float | None = None) -> bool:
    """A CoreDNS pod is Ready; with `since`, one whose container started after it.

    Right after `up` restarted the node, the Deployment still shows the availability it had
    before `down`; the pod's container start time tells the truth.
    """
    pods = _get_json(
        layout, settings, "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns"
    )
    for pod in (pods or {}).get("items", []):
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
            if started and datetime.datetime.fromisoformat(
                started.replace("Z", "+00:00")
            ).timestamp() >= int(since):
                return True
    return False


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


def etcd_healthy(settings: Settings) -> bool:
    response = httpx.get(f"{settings.etcd_url}/health", timeout=2)
    return response.status_code == 200 and response.json().get("health") == "true"
