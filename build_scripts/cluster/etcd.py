"""etcd of the local cluster, locked down: TLS with client-certificate authentication.

etcd holds every Secret of the cluster, so it only talks to clients that present a
certificate from its own CA (`<state>/pki/etcd/ca.crt`). That CA is separate from the
cluster CA on purpose: kube-controller-manager signs approved CSRs with the cluster CA, so a
certificate from it must not open etcd. Clients: kube-apiserver (`apiserver-etcd-client`)
and our own health check (`etcd-healthcheck-client`). The member's one certificate serves
clients on 127.0.0.1:2379 and peers on 127.0.0.1:2380 (peers need client certificates too).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from build_scripts.cluster import pki as cluster_pki
from build_scripts.cluster.config import Layout, Settings
from build_scripts.core import on_first_use

httpx = on_first_use.module("httpx")

ETCD_CA_NAME = "traderadmin-local-etcd-ca"
MEMBER_NAME = "traderadmin-local"
APISERVER_CLIENT = cluster_pki.Identity("apiserver-etcd-client", "kube-apiserver-etcd-client")
HEALTHCHECK_CLIENT = cluster_pki.Identity("etcd-healthcheck-client", "traderadmin-etcd-healthcheck")


@dataclass(frozen=True)
class EtcdPki:
    ca: cluster_pki.CertPair
    member: cluster_pki.CertPair
    apiserver_client: cluster_pki.CertPair
    healthcheck_client: cluster_pki.CertPair


def pki_dir(layout: Layout) -> Path:
    return layout.pki / "etcd"


def ensure_pki(layout: Layout) -> EtcdPki:
    directory = pki_dir(layout)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    ca = cluster_pki.ensure_ca(directory, ETCD_CA_NAME)
    member = cluster_pki.ensure_serving(
        ca,
        directory,
        "member",
        MEMBER_NAME,
        dns_names=("localhost",),
        ip_addresses=("127.0.0.1",),
        client_too=True,
    )
    return EtcdPki(
        ca,
        member,
        cluster_pki.ensure_client(ca, directory, APISERVER_CLIENT),
        cluster_pki.ensure_client(ca, directory, HEALTHCHECK_CLIENT),
    )


def _pair(layout: Layout, stem: str) -> cluster_pki.CertPair:
    return cluster_pki.CertPair(pki_dir(layout) / f"{stem}.crt", pki_dir(layout) / f"{stem}.key")


def peer_url(settings: Settings) -> str:
    return f"https://127.0.0.1:{settings.etcd_peer_port}"


def argv(etcd: str, layout: Layout, settings: Settings) -> list[str]:
    ca = str(pki_dir(layout) / "ca.crt")
    member = _pair(layout, "member")
    peer = peer_url(settings)
    return [
        etcd,
        "--name",
        MEMBER_NAME,
        "--data-dir",
        str(layout.etcd_data),
        "--listen-client-urls",
        settings.etcd_url,
        "--advertise-client-urls",
        settings.etcd_url,
        f"--cert-file={member.cert}",
        f"--key-file={member.key}",
        "--client-cert-auth=true",
        f"--trusted-ca-file={ca}",
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        f"--peer-cert-file={member.cert}",
        f"--peer-key-file={member.key}",
        "--peer-client-cert-auth=true",
        f"--peer-trusted-ca-file={ca}",
        "--initial-cluster",
        f"{MEMBER_NAME}={peer}",
        "--initial-cluster-state",
        "new",
        "--log-level",
        "warn",
    ]


def apiserver_flags(layout: Layout, settings: Settings) -> list[str]:
    client = _pair(layout, APISERVER_CLIENT.stem)
    return [
        f"--etcd-servers={settings.etcd_url}",
        f"--etcd-cafile={pki_dir(layout) / 'ca.crt'}",
        f"--etcd-certfile={client.cert}",
        f"--etcd-keyfile={client.key}",
    ]


def inputs(layout: Layout) -> tuple[Path, ...]:
    """Files whose change must restart etcd."""
    return (pki_dir(layout) / "ca.crt", _pair(layout, "member").cert)


def client_context(layout: Layout) -> ssl.SSLContext:
    client = _pair(layout, HEALTHCHECK_CLIENT.stem)
    context = ssl.create_default_context(cafile=str(pki_dir(layout) / "ca.crt"))
    context.load_cert_chain(str(client.cert), str(client.key))
    return context


def healthy(layout: Layout, settings: Settings) -> bool:
    response = httpx.get(f"{settings.etcd_url}/health", verify=client_context(layout), timeout=2)
    return response.status_code == 200 and response.json().get("health") == "true"
