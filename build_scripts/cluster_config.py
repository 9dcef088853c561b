"""What the local cluster looks like on disk, and the configuration files of its components.

Everything the cluster writes lives under one state directory (`Layout`); `Settings` holds the
network ranges and names. The render functions are pure: they take the layout and settings and
return file contents, so tests can check them without starting anything.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

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


def _toml_string(value: str | Path) -> str:
    return json.dumps(str(value))  # TOML basic strings escape like JSON for our paths


def containerd_config(layout: Layout) -> str:
    """Our own containerd: own root, state and socket, CRI on, sandbox image = our pause."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return "\n".join(
        [
            "version = 2",
            f"root = {_toml_string(layout.containerd_root)}",
            f"state = {_toml_string(layout.containerd_state)}",
            # Snapshotters this kernel/host does not support only produce start-up noise.
            'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", '
            '"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", '
            '"io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", '
            '"io.containerd.internal.v1.tracing"]',
            "",
            "[grpc]",
            f"  address = {_toml_string(layout.containerd_socket)}",
            "",
            '[plugins."io.containerd.internal.v1.opt"]',
            f"  path = {_toml_string(layout.root / 'containerd' / 'opt')}",
            "",
            f"[{cri}]",
            f"  sandbox_image = {_toml_string(PAUSE_IMAGE)}",
            "  enable_selinux = false",
            # Pod network namespaces under our state dir instead of /var/run/netns.
            "  netns_mounts_under_state_dir = true",
            # Never give a container a lower oom_score_adj than containerd's own: lowering it
            # needs CAP_SYS_RESOURCE, which sandboxed build machines do not grant (runc then
            # fails every pod with "failed to update /proc/self/oom_score_adj").
            "  restrict_oom_score_adj = true",
            "",
            f"[{cri}.containerd]",
            '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            "",
            f"[{cri}.containerd.runtimes.runc]",
            '  runtime_type = "io.containerd.runc.v2"',
            "",
            f"[{cri}.containerd.runtimes.runc.options]",
            # cgroup v1 without systemd as init: the kubelet uses the cgroupfs driver too.
            "  SystemdCgroup = false",
            f"  Root = {_toml_string(layout.root / 'containerd' / 'runc')}",
            "",
            f"[{cri}.cni]",
            f"  bin_dir = {_toml_string(CNI_BIN_DIR)}",
            f"  conf_dir = {_toml_string(layout.cni_conf_dir)}",
            "  max_conf_num = 1",
            "",
        ]
    )


def cni_config(layout: Layout, settings: Settings) -> str:
    """A bridge network with host-local IPAM (state under our dir), portmap and firewall.

    The firewall plugin accepts pod traffic in the FORWARD chain: Docker sets that chain's
    policy to DROP, and br_netfilter makes bridged pod-to-pod traffic pass through it.
    """
    gateway = str(ipaddress.ip_network(settings.node_pod_cidr)[1])
    config = {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": CNI_BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                # A pod reaching itself through its own Service needs hairpin on the bridge.
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": settings.node_pod_cidr, "gateway": gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.cni_ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall", "backend": "iptables"},
        ],
    }
    return json.dumps(config, indent=2) + "\n"


def kubelet_config(layout: Layout, settings: Settings) -> str:
    pki = layout.pki
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "address": "0.0.0.0",
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        "rotateCertificates": False,
        "clusterDNS": [settings.dns_service_ip],
        "clusterDomain": settings.cluster_domain,
        "resolvConf": "/etc/resolv.conf",
        "podLogsDir": str(layout.pod_logs),
        "staticPodPath": "",
        "registerNode": True,
        "failSwapOn": False,
        # Probes and status updates react within seconds on a single node.
        "nodeStatusUpdateFrequency": "10s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        # Our images are imported, never pulled: keep image GC for real disk pressure only.
        "imageGCHighThresholdPercent": 95,
        "imageGCLowThresholdPercent": 90,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "5%",
            "imagefs.available": "5%",
        },
        "serializeImagePulls": False,
        # Keep the kubelet's own OOM score: lowering it needs CAP_SYS_RESOURCE (see containerd).
        "oomScoreAdj": 0,
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_config(layout: Layout, settings: Settings) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "oomScoreAdj": 0,
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(layout.component_kubeconfig("kube-proxy"))},
        "hostnameOverride": NODE_NAME,
        "clusterCIDR": settings.pod_cidr,
        "bindAddress": "0.0.0.0",
        "metricsBindAddress": "127.0.0.1:10249",
        # NodePorts on the node's own address only (not on every local interface).
        "nodePortAddresses": ["primary"],
        "healthzBindAddress": "127.0.0.1:10256",
        # Leave the conntrack sysctls as they are (as local-up-cluster.sh does): the host's
        # defaults are fine for a test cluster and some sandboxes refuse the writes.
        "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return yaml.safe_dump(config, sort_keys=False)


def crictl_config(layout: Layout) -> str:
    """For `crictl --config <state>/config/crictl.yaml ps` (and `down`, which removes pods)."""
    endpoint = f"unix://{layout.containerd_socket}"
    config = {"runtime-endpoint": endpoint, "image-endpoint": endpoint, "timeout": 60}
    return yaml.safe_dump(config, sort_keys=False)


def scheduler_config(layout: Layout) -> str:
    config = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(layout.component_kubeconfig("kube-scheduler"))},
        "leaderElection": {"leaderElect": False},
    }
    return yaml.safe_dump(config, sort_keys=False)


def admission_config() -> str:
    """Pod Security `restricted` enforced cluster-wide by default; kube-system is exempt.

    A namespace may still relax its own level with the usual pod-security labels.
    """
    config = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [
            {
                "name": "PodSecurity",
                "configuration": {
                    "apiVersion": "pod-security.admission.config.k8s.io/v1",
                    "kind": "PodSecurityConfiguration",
                    "defaults": {
                        "enforce": "restricted",
                        "enforce-version": "latest",
                        "audit": "restricted",
                        "audit-version": "latest",
                        "warn": "restricted",
                        "warn-version": "latest",
                    },
                    "exemptions": {
                        "usernames": [],
                        "runtimeClasses": [],
                        "namespaces": ["kube-system"],
                    },
                },
            }
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def _dump_all(documents: list[dict]) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False)


def bootstrap_manifests(settings: Settings) -> str:
    """Objects `up` applies: API-server-to-kubelet RBAC, CoreDNS and the default StorageClass.

    CoreDNS answers cluster names only: no `forward` to the host's resolvers, which would send
    pods' queries off this machine (and pods cannot reach another host anyway, see
    cluster_isolation.py). Other names get SERVFAIL at once.
    """
    domain = settings.cluster_domain
    corefile = (
        ".:53 {\n"
        "    errors\n"
        "    health {\n        lameduck 5s\n    }\n"
        "    ready\n"
        f"    kubernetes {domain} in-addr.arpa ip6.arpa {{\n"
        "        pods insecure\n"
        "        fallthrough in-addr.arpa ip6.arpa\n"
        "        ttl 30\n"
        "    }\n"
        "    cache 30\n"
        "    reload\n"
        "    loadbalance\n"
        "}\n"
    )
    labels = {"k8s-app": "kube-dns"}
    documents: list[dict] = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "traderadmin:kube-apiserver-kubelet-api-admin"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:kubelet-api-admin",
            },
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "User",
                    "name": "kube-apiserver-kubelet-client",
                }
            ],
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "system:coredns"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"],
                },
                {
                    "apiGroups": ["discovery.k8s.io"],
                    "resources": ["endpointslices"],
                    "verbs": ["list", "watch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:coredns"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:coredns",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": corefile},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                },
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "coredns",
                        "priorityClassName": "system-cluster-critical",
                        "dnsPolicy": "Default",
                        "securityContext": {
                            "seccompProfile": {"type": "RuntimeDefault"},
                            # Port 53 as a non-root user without file capabilities (the
                            # image is a bare static binary): a safe, per-pod sysctl.
                            "sysctls": [
                                {"name": "net.ipv4.ip_unprivileged_port_start", "value": "53"}
                            ],
                        },
                        "containers": [
                            {
                                "name": "coredns",
                                "image": COREDNS_IMAGE,
                                "imagePullPolicy": "IfNotPresent",
                                "args": ["-conf", "/etc/coredns/Corefile"],
                                "ports": [
                                    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                    {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
                                ],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "70Mi"},
                                    "limits": {"memory": "170Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "runAsNonRoot": True,
                                    "runAsUser": 65532,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                                "volumeMounts": [
                                    {
                                        "name": "config",
                                        "mountPath": "/etc/coredns",
                                        "readOnly": True,
                                    }
                                ],
                                "livenessProbe": {
                                    "httpGet": {"path": "/health", "port": 8080},
                                    "initialDelaySeconds": 10,
                                    "periodSeconds": 10,
                                    "failureThreshold": 5,
                                },
                                "readinessProbe": {
                                    "httpGet": {"path": "/ready", "port": 8181},
                                    "periodSeconds": 2,
                                },
                            }
                        ],
                        "volumes": [
                            {
                                "name": "config",
                                "configMap": {
                                    "name": "coredns",
                                    "items": [{"key": "Corefile", "path": "Corefile"}],
                                },
                            }
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
            "spec": {
                "selector": labels,
                "clusterIP": settings.dns_service_ip,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                    {"name": "metrics", "port": 9153, "protocol": "TCP"},
                ],
            },
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "traderadmin:storage-provisioner"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["persistentvolumes"],
                    "verbs": ["get", "list", "watch", "create", "delete"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["persistentvolumeclaims"],
                    "verbs": ["get", "list", "watch"],
                },
                {
                    "apiGroups": ["storage.k8s.io"],
                    "resources": ["storageclasses"],
                    "verbs": ["get", "list", "watch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "traderadmin:storage-provisioner"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "traderadmin:storage-provisioner",
            },
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "User",
                    "name": "traderadmin:storage-provisioner",
                }
            ],
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": PROVISIONER_NAME,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        },
    ]
    return _dump_all(documents)
