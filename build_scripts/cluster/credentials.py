"""The cluster's certificates and kubeconfigs: one client identity per component, the admin's
kubeconfig, merged into the user's."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from build_scripts.cluster import etcd as cluster_etcd
from build_scripts.cluster import pki as cluster_pki
from build_scripts.cluster.config import (
    CONTEXT,
    NODE_NAME,
    Layout,
    Settings,
)


@dataclass(frozen=True)
class Pki:
    ca: cluster_pki.CertPair
    apiserver: cluster_pki.CertPair
    kubelet_serving: cluster_pki.CertPair
    service_account: cluster_pki.CertPair
    clients: dict[str, cluster_pki.CertPair]


CLIENT_IDENTITIES = {
    "admin": cluster_pki.Identity("admin", "traderadmin-admin", ("system:masters",)),
    "kube-controller-manager": cluster_pki.Identity(
        "kube-controller-manager", "system:kube-controller-manager"
    ),
    "kube-scheduler": cluster_pki.Identity("kube-scheduler", "system:kube-scheduler"),
    "kubelet": cluster_pki.Identity("kubelet", f"system:node:{NODE_NAME}", ("system:nodes",)),
    "kube-proxy": cluster_pki.Identity("kube-proxy", "system:kube-proxy"),
    "apiserver-kubelet-client": cluster_pki.Identity(
        "apiserver-kubelet-client", "kube-apiserver-kubelet-client"
    ),
    "storage-provisioner": cluster_pki.Identity(
        "storage-provisioner", "traderadmin:storage-provisioner"
    ),
    "network-policy": cluster_pki.Identity("network-policy", "traderadmin:network-policy"),
}


def ensure_pki(layout: Layout, settings: Settings) -> Pki:
    directory = layout.pki
    ca = cluster_pki.ensure_ca(directory)
    domain = settings.cluster_domain
    apiserver = cluster_pki.ensure_serving(
        ca,
        directory,
        "apiserver",
        "kube-apiserver",
        dns_names=(
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            f"kubernetes.default.svc.{domain}",
            "localhost",
        ),
        ip_addresses=("127.0.0.1", settings.kubernetes_service_ip, settings.node_ip),
    )
    kubelet_serving = cluster_pki.ensure_serving(
        ca,
        directory,
        "kubelet-serving",
        f"system:node:{NODE_NAME}",
        dns_names=(NODE_NAME, "localhost"),
        ip_addresses=("127.0.0.1", settings.node_ip),
    )
    service_account = cluster_pki.ensure_service_account_keys(directory)
    clients = {
        name: cluster_pki.ensure_client(ca, directory, identity)
        for name, identity in CLIENT_IDENTITIES.items()
    }
    cluster_etcd.ensure_pki(layout)
    return Pki(ca, apiserver, kubelet_serving, service_account, clients)


def admin_kubeconfig(pki: Pki, settings: Settings) -> dict:
    return cluster_pki.kubeconfig(
        name=CONTEXT,
        server=settings.server_url,
        ca=pki.ca,
        client=pki.clients["admin"],
        user=f"{CONTEXT}-admin",
    )


def write_kubeconfig_if_changed(path: Path, kubeconfig: dict) -> None:
    with contextlib.suppress(FileNotFoundError, yaml.YAMLError):
        if yaml.safe_load(path.read_text()) == kubeconfig:
            return
    cluster_pki.write_kubeconfig(path, kubeconfig)


def merge_user_kubeconfig(path: Path, ours: dict) -> None:
    existing = None
    with contextlib.suppress(FileNotFoundError):
        existing = yaml.safe_load(path.read_text()) or None
    merged = cluster_pki.merge_kubeconfig(existing, ours)
    if merged != existing:
        cluster_pki.write_kubeconfig(path, merged)
