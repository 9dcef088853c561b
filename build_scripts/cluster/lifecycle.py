"""The local single-node Kubernetes cluster: up, down, status.

Assembled from upstream parts the way Kubernetes' hack/local-up-cluster.sh does, because kind,
k3s and minikube need node images that cannot be pulled here: etcd (Debian), our own containerd
instance (Debian's containerd with its own config, root, state and socket: Docker's managed
containerd has CRI disabled) with runc and the bridge CNI plugin, and kube-apiserver,
kube-controller-manager, kube-scheduler, kubelet and kube-proxy built from the Kubernetes Go
module (cluster/build.py). Cluster DNS is CoreDNS built from its Go module and run as a pod; the
default StorageClass is served by a small host-path provisioner (cluster/storage.py).

etcd speaks TLS on 127.0.0.1 to clients with a certificate from its own CA (cluster/etcd.py);
kube-apiserver listens on the node IP only (pods reach it there through the `kubernetes`
Service) with anonymous auth off. The README's *The local cluster* lists what listens where.

etcd speaks TLS on 127.0.0.1 to clients with a certificate from its own CA (cluster/etcd.py);
kube-apiserver listens on the node IP only (pods reach it there through the `kubernetes`
Service) with anonymous auth off. The README's *The local cluster* lists what listens where.

Every process runs detached with its pid, argv and log under the state directory; `down` stops
exactly those pids (after checking each one still runs the recorded argv), then removes pod
sandboxes through CRI so no container, shim, netns or mount is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import etcd as cluster_etcd
from build_scripts.cluster import isolation, listeners, network_policy, ownership
from build_scripts.cluster import pki as cluster_pki
from build_scripts.cluster.components import START_ORDER, STOP_ORDER, processes, write_configs
from build_scripts.cluster.config import (
    CNI_BRIDGE,
    CNI_NETWORK,
    CONTEXT,
    NODE_NAME,
    Layout,
    Settings,
)
from build_scripts.cluster.credentials import admin_kubeconfig, ensure_pki, merge_user_kubeconfig
from build_scripts.cluster.host import (
    cluster_leftovers,
    detect_node_ip,
    mounts_under,
    preflight,
    remove_host_chains,
    remove_kube_proxy_chains,
)
from build_scripts.cluster.images import ensure_images, import_images
from build_scripts.cluster.options import ClusterOptions
from build_scripts.cluster.probes import (
    api_ready,
    dns_available,
    node_ready,
    unix_socket_answers,
)
from build_scripts.cluster.supervise import ensure_process, running_pid, stop_process, wait_for
from build_scripts.core import cmd, locks, paths, trust
from build_scripts.core.daemon import cmdline
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import step, warn
from build_scripts.kube.apply import server_side_apply

# --- up ---------------------------------------------------------------------------------------


@dataclass
class UpResult:
    kubeconfig: Path
    context: str
    seconds_to_node_ready: float
    seconds_total: float
    started: list[str]
    already_running: list[str]


def build_programs(options: ClusterOptions) -> tuple[cluster_build.Toolset, Path, list[Path]]:
    """Every program and image archive the cluster runs, each built once per version.

    One build at a time: `cluster.build --background` may still be building when `cluster.up`
    needs the programs, and then `up` waits for it instead of compiling the same things again.
    """
    lock = cluster_build.kubernetes_dir(options.kubernetes_version).with_suffix(".build.lock")
    with locks.waiting_lock(lock, "the cluster's programs, being built by another process"):
        toolset = cluster_build.build_toolset(
            options.kubernetes_version,
            coredns_version=options.coredns_version,
            jobs=options.build_jobs,
        )
        kubectl = cluster_build.install_kubectl(toolset.bin_dir)
        network_policy.build_kube_router(options.kubernetes_version)
        images = ensure_images(options, toolset)
    return toolset, kubectl, images


def programs_root_runs(
    toolset: cluster_build.Toolset, kubectl: Path, images: list[Path]
) -> list[Path]:
    """Every file `up` has root run or load: the built programs, the image archives it
    imports, kube-router's iptables folder, the interpreter and the package the storage
    provisioner runs from."""
    engine = network_policy.binary_path()
    return [
        *(toolset.path(name) for name in cluster_build.KUBERNETES_COMPONENTS),
        toolset.coredns,
        toolset.crictl,
        kubectl,
        engine,
        *engine.parent.glob("iptables-*"),
        *images,
        Path(sys.executable),
        *trust.tree_files(paths.repo_root() / "build_scripts", ".py"),
    ]


def _up(options: ClusterOptions) -> UpResult:
    started_at = time.monotonic()
    layout = options.layout
    with step("cluster: preflight"):
        preflight()
        ours = [pid for name in START_ORDER if (pid := running_pid(layout, name)) is not None]
        ownership.refuse_beside_another_cluster(layout.containerd_socket, ours)
        ownership.ensure_cgroup_root()
        layout.root.mkdir(parents=True, exist_ok=True)
        os.chmod(layout.root, 0o700)
    with step("cluster: programs"):
        toolset, kubectl, images = build_programs(options)
        trust.require_root_owned(programs_root_runs(toolset, kubectl, images), "the cluster")
    settings = Settings(node_ip=options.node_ip or detect_node_ip())
    with step("cluster: certificates and configuration"):
        pki = ensure_pki(layout, settings)
        for directory in (
            layout.logs,
            layout.run,
            layout.kubelet_root,
            layout.pod_logs,
            layout.cni_ipam_dir,
            layout.volumes,
            layout.etcd_data,
        ):
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(layout.etcd_data, 0o700)
        write_configs(layout, settings, pki)
        # Before the kubelet (re)starts any pod: no pod packet may leave this machine.
        isolation.install_pod_isolation(settings.service_cidr, CNI_BRIDGE)
        if options.merge_kubeconfig:
            merge_user_kubeconfig(options.kubeconfig_path, admin_kubeconfig(pki, settings))
    specs = processes(layout, settings, toolset)
    started: list[str] = []
    already: list[str] = []

    started_at_epoch: dict[str, float] = {}

    def ensure(name: str) -> None:
        _, what = ensure_process(layout, specs[name])
        if what == "already running":
            already.append(name)
        else:
            started.append(name)
            started_at_epoch[name] = time.time()

    with step("cluster: containerd and etcd"):
        ensure("containerd")
        ensure("etcd")
        wait_for(
            "containerd's socket",
            lambda: unix_socket_answers(layout.containerd_socket),
            layout=layout,
            watch=("containerd",),
            timeout=30,
        )
        import_images(layout, images)
        wait_for(
            "etcd",
            lambda: cluster_etcd.healthy(layout, settings),
            layout=layout,
            watch=("etcd",),
            timeout=30,
        )
    with step("cluster: control plane"):
        ensure("kube-apiserver")
        wait_for(
            "kube-apiserver /readyz",
            lambda: api_ready(layout, settings),
            layout=layout,
            watch=("kube-apiserver", "etcd"),
            timeout=options.timeout,
        )
        for name in ("kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"):
            ensure(name)
        server_side_apply(
            layout.config / "bootstrap.yaml",
            field_manager="traderadmin-cluster",
            kubectl=kubectl,
            kubectl_args=("--kubeconfig", str(layout.kubeconfig)),
        )
        ensure("storage-provisioner")
        network_policy.remove_chains_from_the_host_table()
        ensure(network_policy.COMPONENT)
    with step("cluster: node Ready"):
        wait_for(
            f"node {NODE_NAME} Ready",
            lambda: node_ready(layout, started_at_epoch.get("kubelet")),
            layout=layout,
            watch=START_ORDER,
            timeout=options.timeout,
            interval=1,
        )
    node_ready_after = time.monotonic() - started_at
    with step("cluster: DNS"):
        wait_for(
            "CoreDNS Ready",
            lambda: dns_available(layout, settings),
            layout=layout,
            watch=START_ORDER,
            timeout=options.timeout,
            interval=1,
        )
    with step("cluster: listening sockets"):
        listeners.check(layout, settings.node_ip)
    return UpResult(
        layout.kubeconfig,
        CONTEXT,
        node_ready_after,
        time.monotonic() - started_at,
        started,
        already,
    )


# --- down -------------------------------------------------------------------------------------


@dataclass
class DownResult:
    stopped: dict[str, str]
    sandboxes_removed: bool
    leftovers_killed: list[int]
    unmounted: list[str]
    wiped: bool


def remove_pod_sandboxes(layout: Layout, crictl: Path) -> bool:
    """Stop and remove every pod sandbox through CRI: containers, netns, CNI IPs, mounts.

    The kubelet must be stopped first or it recreates them; it does so on the next `up`
    (the pods themselves stay in etcd).
    """
    if running_pid(layout, "containerd") is None:
        return False
    cmd.run(
        [str(crictl), "--config", str(layout.config / "crictl.yaml"), "rmp", "--all", "--force"],
        step="pods",
        check=False,
        timeout=180,
    )
    return True


def _down(options: ClusterOptions, *, wipe: bool = False) -> DownResult:
    layout = options.layout
    stopped: dict[str, str] = {}
    tools_dir = cluster_build.kubernetes_dir(options.kubernetes_version)
    crictl = tools_dir / "tools" / f"crictl-{cluster_build.CRI_TOOLS_VERSION}"
    removed = False
    with step("cluster: stop the kubelet and remove pods"):
        stopped["kubelet"] = stop_process(layout, "kubelet")
        if crictl.exists():
            removed = remove_pod_sandboxes(layout, crictl)
    with step("cluster: stop the control plane"):
        for name in STOP_ORDER[1:]:
            stopped[name] = stop_process(layout, name)
        network_policy.remove_rules()
        remove_kube_proxy_chains()
        isolation.remove_pod_isolation()
    leftovers = cluster_leftovers(layout)
    for pid in leftovers:
        warn(f"killing leftover cluster process {pid}: {' '.join(cmdline(pid) or [])}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    unmounted = []
    if layout.root.exists():
        for point in mounts_under(layout.root):
            result = cmd.run(["umount", point], step="umount", check=False, quiet=True)
            if result.returncode != 0:
                cmd.run(["umount", "-l", point], step="umount", check=False, quiet=True)
            unmounted.append(point)
    # Recreated by the bridge plugin with the first pod of the next `up`.
    if Path(f"/sys/class/net/{CNI_BRIDGE}").exists():
        cmd.run(["ip", "link", "delete", CNI_BRIDGE], step="network", check=False, quiet=True)
    if wipe:
        with step("cluster: wipe state"):
            _wipe(layout, options)
    return DownResult(stopped, removed, leftovers, unmounted, wipe)


def _wipe(layout: Layout, options: ClusterOptions) -> None:
    import shutil

    remaining = mounts_under(layout.root) if layout.root.exists() else []
    if remaining:
        raise ReleaseError(
            f"still mounted under {layout.root}: {remaining[0]}",
            f"unmount it (umount -l {remaining[0]}) and run down --wipe again",
        )
    # The kubelet links container logs into /var/log/containers whatever its root dir is.
    links = Path("/var/log/containers")
    if links.is_dir():
        for link in links.iterdir():
            with contextlib.suppress(OSError):
                if link.is_symlink() and str(os.readlink(link)).startswith(str(layout.root)):
                    link.unlink()
    remove_host_chains(
        pod_network=Settings(node_ip="").pod_cidr,
        another_cluster=ownership.foreign_cluster(layout.containerd_socket, []),
    )
    ownership.remove_cgroup_root()
    cni_cache = Path("/var/lib/cni/results")
    if cni_cache.is_dir():
        for entry in cni_cache.glob(f"{CNI_NETWORK}-*"):
            entry.unlink(missing_ok=True)
    if layout.root.exists():
        shutil.rmtree(layout.root)
    if options.merge_kubeconfig and options.kubeconfig_path.exists():
        existing = yaml.safe_load(options.kubeconfig_path.read_text()) or {}
        ours = {
            "clusters": [{"name": CONTEXT}],
            "users": [{"name": f"{CONTEXT}-admin"}],
            "contexts": [{"name": CONTEXT}],
            "current-context": CONTEXT,
        }
        trimmed = cluster_pki.remove_from_kubeconfig(existing, ours)
        if trimmed != existing:
            cluster_pki.write_kubeconfig(options.kubeconfig_path, trimmed)


# --- one at a time ----------------------------------------------------------------------------


@contextlib.contextmanager
def _exclusive(layout: Layout, doing: str):
    """One `up` or `down` at a time: two at once start every component twice and leave
    processes no pid file records. The lock lives beside the state dir (--wipe removes it)."""
    busy = ReleaseError(
        f"cannot {doing}: another cluster.up or cluster.down is running on {layout.root}",
        "wait for it to finish, then run this again",
    )
    with locks.lock_or_fail(layout.root.parent / f".{layout.root.name}.lock", busy):
        yield


def up(options: ClusterOptions) -> UpResult:
    """Start (or complete) the local cluster; see _up."""
    with _exclusive(options.layout, "start the cluster"):
        return _up(options)


def down(options: ClusterOptions, *, wipe: bool = False) -> DownResult:
    """Stop the local cluster (and with wipe remove its state); see _down."""
    with _exclusive(options.layout, "stop the cluster"):
        return _down(options, wipe=wipe)
