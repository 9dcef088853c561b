"""What the local cluster looks like: names, images, and every path under its state directory.

Everything the cluster writes lives under one state directory (`Layout`); `Settings` holds the
network ranges and names. render.py turns both into the components' configuration files.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

CONTEXT = "traderadmin-local"
NODE_NAME = "traderadmin-local"
PAUSE_VERSION = "3.10.1"
PAUSE_IMAGE = f"traderadmin.local/pause:{PAUSE_VERSION}"
COREDNS_VERSION = "v1.12.1"  # what kubeadm deploys with Kubernetes 1.34
COREDNS_IMAGE = f"traderadmin.local/coredns:{COREDNS_VERSION}"
STORAGE_CLASS = "local-path"
PROVISIONER_NAME = "traderadmin.local/hostpath"
CNI_NETWORK = "traderadmin"
CNI_BRIDGE = "tacni0"
# Where the kubelet (and so containerd) finds Debian's CNI plugins.
CNI_BIN_DIR = Path("/usr/lib/cni")


@dataclass(frozen=True)
class Settings:
    node_ip: str
    pod_cidr: str = "10.244.0.0/16"
    node_pod_cidr: str = "10.244.0.0/24"
    service_cidr: str = "10.96.0.0/16"
    cluster_domain: str = "cluster.local"
    api_port: int = 6443
    etcd_client_port: int = 2379
    etcd_peer_port: int = 2380

    @property
    def kubernetes_service_ip(self) -> str:
        return str(ipaddress.ip_network(self.service_cidr)[1])

    @property
    def dns_service_ip(self) -> str:
        return str(ipaddress.ip_network(self.service_cidr)[10])

    @property
    def server_url(self) -> str:
        # kube-apiserver listens on the node IP only: pods reach it there through the
        # `kubernetes` Service, and one bind address cannot also be 127.0.0.1.
        host = f"[{self.node_ip}]" if ":" in self.node_ip else self.node_ip
        return f"https://{host}:{self.api_port}"

    @property
    def etcd_url(self) -> str:
        return f"https://127.0.0.1:{self.etcd_client_port}"


@dataclass(frozen=True)
class Layout:
    """Every path under the cluster's state directory."""

    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def containerd_root(self) -> Path:
        return self.root / "containerd" / "root"

    @property
    def containerd_state(self) -> Path:
        return self.root / "containerd" / "state"

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.root / "pod-logs"

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (context traderadmin-local) users point KUBECONFIG at."""
        return self.root / "kubeconfig"

    def component_kubeconfig(self, component: str) -> Path:
        return self.config / f"{component}.kubeconfig"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def pid(self, component: str) -> Path:
        return self.run / f"{component}.pid"

    def argv_record(self, component: str) -> Path:
        return self.run / f"{component}.argv.json"

    def fingerprint(self, component: str) -> Path:
        return self.run / f"{component}.fingerprint"
