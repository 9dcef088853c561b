"""The local single-node Kubernetes cluster: up, down, status.

Assembled from upstream parts the way Kubernetes' hack/local-up-cluster.sh does, because kind,
k3s and minikube need node images that cannot be pulled here: etcd (Debian), our own containerd
instance (Debian's containerd with its own config, root, state and socket: Docker's managed
containerd has CRI disabled) with runc and the bridge CNI plugin, and kube-apiserver,
kube-controller-manager, kube-scheduler, kubelet and kube-proxy built from the Kubernetes Go
module (cluster_build.py). Cluster DNS is CoreDNS built from its Go module and run as a pod; the
default StorageClass is served by a small host-path provisioner (cluster_storage.py).

etcd speaks TLS on 127.0.0.1 to clients with a certificate from its own CA (cluster_etcd.py);
kube-apiserver listens on the node IP only (pods reach it there through the `kubernetes`
Service) with anonymous auth off. The README's *The local cluster* lists what listens where.

Every process runs detached with its pid, argv and log under the state directory; `down` stops
exactly those pids (after checking each one still runs the recorded argv), then removes pod
sandboxes through CRI so no container, shim, netns or mount is left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import shlex
import signal
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from build_scripts import (
    cluster_build,
    cluster_etcd,
    cluster_isolation,
    cluster_pki,
    cmd,
    paths,
    tools,
)
from build_scripts import cluster_config as config
from build_scripts.cluster_config import (
    CNI_BRIDGE,
    CNI_NETWORK,
    CONTEXT,
    COREDNS_IMAGE,
    COREDNS_VERSION,
    NODE_NAME,
    PAUSE_IMAGE,
    PAUSE_VERSION,
    Layout,
    Settings,
)
from build_scripts.errors import ConfigError, ReleaseError, VerificationFailed
from build_scripts.progress import format_seconds, say, step, warn

# Start order. `down` stops the kubelet first (else it recreates the pods `down` removes), then
# the rest from the top of the stack down to containerd.
COMPONENTS = (
    "containerd",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "storage-provisioner",
)
STOP_ORDER = (
    "kubelet",
    "storage-provisioner",
    "kube-proxy",
    "kube-scheduler",
    "kube-controller-manager",
    "kube-apiserver",
    "etcd",
    "containerd",
)
# Needed to run the cluster; go and gcc are only needed (and checked) when building.
HOST_TOOLS = ("containerd", "ctr", "runc", "etcd", "iptables", "conntrack")
LOG_VERBOSITY = "1"
LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class ClusterOptions:
    """What `cluster.*` tasks read from `c.config.cluster` (see tasks/cluster.py)."""

    state_dir: Path
    kubernetes_version: str = cluster_build.KUBERNETES_VERSION
    coredns_version: str = COREDNS_VERSION
    node_ip: str | None = None
    merge_kubeconfig: bool = True
    kubeconfig_path: Path = Path.home() / ".kube" / "config"
    timeout: float = 180.0
    build_jobs: int = cluster_build.BUILD_JOBS

    @property
    def layout(self) -> Layout:
        return Layout(self.state_dir)


def default_state_dir() -> Path:
    return paths.state_dir() / "cluster"


# --- processes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    # Files the process reads at start-up: a change restarts it on the next `up`.
    inputs: tuple[Path, ...] = ()

    def fingerprint(self) -> str:
        digest = hashlib.sha256(json.dumps([self.argv, sorted(self.env.items())]).encode())
        for path in self.inputs:
            with contextlib.suppress(FileNotFoundError):
                digest.update(path.read_bytes())
        return digest.hexdigest()


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    if state in ("Z", "X"):
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]


def recorded_argv(layout: Layout, name: str) -> list[str] | None:
    try:
        return json.loads(layout.argv_record(name).read_text())
    except (FileNotFoundError, ValueError):
        return None


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of our `name` process if it still runs exactly the argv we started it with.

    Checking the argv guards against a recycled pid: we never signal a process we did not start.
    """
    pid = _read_pid(layout.pid(name))
    argv = recorded_argv(layout, name)
    if pid is None or argv is None:
        return None
    return pid if _cmdline(pid) == argv else None


def ensure_process(layout: Layout, process: Process) -> tuple[int, str]:
    """Start `process` unless it already runs as configured; restart it if anything changed.

    Returns (pid, "started" | "restarted" | "already running").
    """
    fingerprint = process.fingerprint()
    pid = running_pid(layout, process.name)
    what = "started"
    if pid is not None:
        recorded = layout.fingerprint(process.name)
        if recorded.exists() and recorded.read_text() == fingerprint:
            return pid, "already running"
        # Same component, other arguments or configuration: replace it.
        _terminate(pid, process.name)
        what = "restarted"
    layout.log(process.name).parent.mkdir(parents=True, exist_ok=True)
    with open(layout.log(process.name), "a") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {process.name}\n")
    pid = cmd.start_background(
        process.argv,
        name=process.name,
        log_path=layout.log(process.name),
        pid_path=layout.pid(process.name),
        env=process.env or None,
        cwd=process.cwd,
    )
    # Record what we started, as /proc shows it, to recognise the process later.
    seen = None
    for _ in range(100):
        seen = _cmdline(pid)
        if seen:
            break
        time.sleep(0.02)
    _write_json(layout.argv_record(process.name), seen or process.argv)
    layout.fingerprint(process.name).write_text(fingerprint)
    return pid, what


def _write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, path)


def _terminate(pid: int, name: str, grace: float = 20.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _cmdline(pid) is None:
            return
        time.sleep(0.1)
    warn(f"{name} (pid {pid}) ignored SIGTERM for {grace:.0f}s; killing it")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        if _cmdline(pid) is None:
            return
        time.sleep(0.1)


def stop_process(layout: Layout, name: str) -> str:
    pid = running_pid(layout, name)
    result = "not running"
    if pid is not None:
        started = time.monotonic()
        _terminate(pid, name)
        result = f"stopped (pid {pid}, {format_seconds(time.monotonic() - started)})"
    for path in (layout.pid(name), layout.argv_record(name), layout.fingerprint(name)):
        path.unlink(missing_ok=True)
    return result


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:]


def _crashed_error(layout: Layout, name: str, doing: str) -> ReleaseError:
    tail = log_tail(layout.log(name))
    say(f"--- last lines of {layout.log(name)} ---")
    for line in tail:
        say(f"  {line}")
    last = tail[-1].strip() if tail else "no log output"
    return ReleaseError(f"{name} exited while {doing}: {last}", f"see {layout.log(name)}")


def wait_for(
    what: str,
    check: Callable[[], bool],
    *,
    layout: Layout,
    watch: tuple[str, ...],
    timeout: float,
    interval: float = 0.5,
) -> float:
    """Poll `check` until true; fail early with the log tail if a watched process died."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        try:
            if check():
                return time.monotonic() - started
        except (OSError, httpx.HTTPError, ssl.SSLError):
            pass
        for name in watch:
            if running_pid(layout, name) is None:
                raise _crashed_error(layout, name, f"waiting for {what}")
        if time.monotonic() > deadline:
            hint = f"see the logs in {layout.logs}"
            raise ReleaseError(
                f"timed out after {format_seconds(timeout)} waiting for {what}", hint
            )
        time.sleep(interval)


# --- host -------------------------------------------------------------------------------------


def detect_node_ip() -> str:
    """The address of the interface holding the default route (what the kubelet picks too)."""
    try:
        routes = Path("/proc/net/route").read_text().splitlines()[1:]
    except FileNotFoundError:
        routes = []
    if not any(r.split()[1] == "00000000" for r in routes if len(r.split()) > 1):
        raise ConfigError(
            "this machine has no default route, so the node has no address pods can reach",
            "set cluster.node_ip (e.g. INVOKE_CLUSTER_NODE_IP=192.0.2.2) to a local address",
        )
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # connect() on UDP sends nothing; it only asks the kernel which source address it
        # would use for the default route.
        probe.connect(("192.0.2.123", 9))
        return probe.getsockname()[0]
    finally:
        probe.close()


KERNEL_SETTINGS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
    "net/bridge/bridge-nf-call-ip6tables": "1",
}


def configure_kernel() -> None:
    """Forwarding and bridge netfilter, which pod traffic and kube-proxy's rules depend on."""
    for key, value in KERNEL_SETTINGS.items():
        target = Path("/proc/sys") / key
        if not target.exists():
            raise ReleaseError(
                f"/proc/sys/{key} does not exist",
                "the kernel needs br_netfilter (modprobe br_netfilter, or build it in)",
            )
        if target.read_text().strip() != value:
            target.write_text(value)


def preflight() -> None:
    if os.geteuid() != 0:
        raise ReleaseError(
            "the local cluster runs a kubelet and containerd, which need root",
            "run the task as root (sudo -E invoke cluster.up)",
        )
    for tool in HOST_TOOLS:
        tools.require(tool)
    if not (config.CNI_BIN_DIR / "bridge").exists():
        tools.require("cni-bridge")
    if not Path("/dev/kmsg").exists():
        raise ReleaseError(
            "/dev/kmsg is missing; the kubelet's OOM watcher needs it",
            "run on a machine (or VM) that provides /dev/kmsg",
        )
    configure_kernel()


# --- the cluster's pieces ---------------------------------------------------------------------


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


def write_configs(layout: Layout, settings: Settings, pki: Pki) -> None:
    from build_scripts import atomic

    files = {
        layout.config / "containerd.toml": config.containerd_config(layout),
        layout.cni_conf_dir / f"10-{CNI_NETWORK}.conflist": config.cni_config(layout, settings),
        layout.config / "kubelet.yaml": config.kubelet_config(layout, settings),
        layout.config / "kube-proxy.yaml": config.kube_proxy_config(layout, settings),
        layout.config / "kube-scheduler.yaml": config.scheduler_config(layout),
        layout.config / "admission.yaml": config.admission_config(),
        layout.config / "bootstrap.yaml": config.bootstrap_manifests(settings),
        layout.config / "crictl.yaml": config.crictl_config(layout),
    }
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            atomic.write_text(path, text)
    for name in (
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
        "storage-provisioner",
    ):
        user = CLIENT_IDENTITIES[name].user
        kubeconfig = cluster_pki.kubeconfig(
            name=CONTEXT, server=settings.server_url, ca=pki.ca, client=pki.clients[name], user=user
        )
        _write_kubeconfig_if_changed(layout.component_kubeconfig(name), kubeconfig)
    _write_kubeconfig_if_changed(layout.kubeconfig, admin_kubeconfig(pki, settings))


def _write_kubeconfig_if_changed(path: Path, kubeconfig: dict) -> None:
    with contextlib.suppress(FileNotFoundError, yaml.YAMLError):
        if yaml.safe_load(path.read_text()) == kubeconfig:
            return
    cluster_pki.write_kubeconfig(path, kubeconfig)


def processes(
    layout: Layout, settings: Settings, toolset: cluster_build.Toolset
) -> dict[str, Process]:
    pki = layout.pki
    cfg = layout.config
    k8s = toolset.path
    specs = {
        "containerd": Process(
            "containerd",
            [
                tools.require("containerd"),
                "--config",
                str(cfg / "containerd.toml"),
            ],
        ),
        "etcd": Process("etcd", cluster_etcd.argv(tools.require("etcd"), layout, settings)),
        "kube-apiserver": Process(
            "kube-apiserver",
            [
                str(k8s("kube-apiserver")),
                f"--advertise-address={settings.node_ip}",
                f"--bind-address={settings.node_ip}",
                f"--secure-port={settings.api_port}",
                # Every client has a certificate or a service-account token; kubelet probes
                # go to the pods, not here.
                "--anonymous-auth=false",
                *cluster_etcd.apiserver_flags(layout, settings),
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
                f"--kubelet-certificate-authority={pki / 'ca.crt'}",
                "--kubelet-preferred-address-types=InternalIP,Hostname",
                f"--service-account-issuer=https://kubernetes.default.svc.{settings.cluster_domain}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={settings.service_cidr}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction,PodSecurity",
                f"--admission-control-config-file={cfg / 'admission.yaml'}",
                "--profiling=false",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kube-controller-manager": Process(
            "kube-controller-manager",
            [
                str(k8s("kube-controller-manager")),
                f"--kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
                f"--authentication-kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
                f"--authorization-kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
                "--bind-address=127.0.0.1",
                f"--cluster-name={CONTEXT}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                "--use-service-account-credentials=true",
                "--controllers=*",
                "--allocate-node-cidrs=true",
                f"--cluster-cidr={settings.pod_cidr}",
                "--node-cidr-mask-size=24",
                f"--service-cluster-ip-range={settings.service_cidr}",
                "--leader-elect=false",
                "--profiling=false",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kube-scheduler": Process(
            "kube-scheduler",
            [
                str(k8s("kube-scheduler")),
                f"--config={cfg / 'kube-scheduler.yaml'}",
                f"--authentication-kubeconfig={layout.component_kubeconfig('kube-scheduler')}",
                f"--authorization-kubeconfig={layout.component_kubeconfig('kube-scheduler')}",
                "--bind-address=127.0.0.1",
                "--profiling=false",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kubelet": Process(
            "kubelet",
            [
                str(k8s("kubelet")),
                f"--config={cfg / 'kubelet.yaml'}",
                f"--kubeconfig={layout.component_kubeconfig('kubelet')}",
                f"--root-dir={layout.kubelet_root}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={settings.node_ip}",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kube-proxy": Process(
            "kube-proxy",
            [
                str(k8s("kube-proxy")),
                f"--config={cfg / 'kube-proxy.yaml'}",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "storage-provisioner": Process(
            "storage-provisioner",
            [
                sys.executable,
                "-m",
                "build_scripts.cluster_storage",
                "--kubeconfig",
                str(layout.component_kubeconfig("storage-provisioner")),
                "--root",
                str(layout.volumes),
            ],
            env={"PYTHONPATH": str(paths.repo_root())},
            cwd=paths.repo_root(),
        ),
    }
    kubeconfig = layout.component_kubeconfig
    inputs = {
        "containerd": (cfg / "containerd.toml",),
        "etcd": cluster_etcd.inputs(layout),
        "kube-apiserver": (
            cfg / "admission.yaml",
            pki / "apiserver.crt",
            pki / "ca.crt",
            pki / "sa.pub",
        ),
        "kube-controller-manager": (kubeconfig("kube-controller-manager"), pki / "ca.crt"),
        "kube-scheduler": (cfg / "kube-scheduler.yaml", kubeconfig("kube-scheduler")),
        "kubelet": (cfg / "kubelet.yaml", kubeconfig("kubelet"), pki / "kubelet-serving.crt"),
        "kube-proxy": (cfg / "kube-proxy.yaml", kubeconfig("kube-proxy")),
        "storage-provisioner": (
            kubeconfig("storage-provisioner"),
            Path(__file__).with_name("cluster_storage.py"),
        ),
    }
    return {
        name: dataclasses.replace(spec, inputs=inputs.get(name, ())) for name, spec in specs.items()
    }


# --- talking to the cluster -------------------------------------------------------------------


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


def apply_manifests(kubectl: Path, kubeconfig: Path, manifests: Path) -> None:
    """Server-side apply, idempotent across `up` runs.

    kr8s has no server-side apply, so this one call goes through kubectl.
    """
    cmd.run(
        [
            str(kubectl),
            "--kubeconfig",
            str(kubeconfig),
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=traderadmin-cluster",
            "-f",
            str(manifests),
        ],
        step="apply",
    )


def import_images(layout: Layout, archives: list[Path]) -> None:
    """Import (again) the images the cluster itself needs.

    containerd 1.6 does not pin its sandbox image, so the kubelet's image GC may have removed
    pause; importing an unchanged archive is cheap and changes nothing.
    """
    for archive in archives:
        ctr_import(layout, archive, step="images", quiet=True)


def ctr_import(layout: Layout, archive: Path, *, step: str, quiet: bool = False) -> None:
    """Import an image archive into the cluster's containerd, namespace k8s.io (the CRI's)."""
    cmd.run(
        [
            "ctr",
            "--address",
            layout.containerd_socket,
            "--namespace",
            "k8s.io",
            "images",
            "import",
            archive,
        ],
        step=step,
        quiet=quiet,
    )


def import_docker_image(reference: str, *, state_dir: Path | None = None) -> None:
    """Copy an image from the local Docker engine into the cluster's containerd (k8s.io).

    Pods use it with imagePullPolicy IfNotPresent/Never: there is no registry here.
    """
    import tempfile

    from python_on_whales import docker

    layout = Layout(state_dir or default_state_dir())
    if running_pid(layout, "containerd") is None:
        raise ReleaseError("the local cluster is not running", "run: invoke cluster.up")
    with tempfile.TemporaryDirectory(prefix="traderadmin-image-") as scratch:
        archive = Path(scratch) / "image.tar"
        docker.image.save(reference, output=archive)
        ctr_import(layout, archive, step="image import")


def ensure_images(options: ClusterOptions, toolset: cluster_build.Toolset) -> list[Path]:
    images = cluster_build.kubernetes_dir(options.kubernetes_version) / "images"
    pause_binary = cluster_build.build_pause(
        options.kubernetes_version, PAUSE_VERSION, images / f"pause-{PAUSE_VERSION}"
    )
    pause = cluster_build.scratch_image_archive(
        pause_binary,
        PAUSE_IMAGE,
        images / f"pause-{PAUSE_VERSION}.tar",
        entrypoint=["/pause"],
        user="65535:65535",
    )
    coredns = cluster_build.scratch_image_archive(
        toolset.coredns,
        COREDNS_IMAGE,
        images / f"coredns-{options.coredns_version}.tar",
        entrypoint=["/coredns"],
        user="65532:65532",
        exposed_ports=("53/udp", "53/tcp", "9153/tcp"),
    )
    return [pause, coredns]


def merge_user_kubeconfig(path: Path, ours: dict) -> None:
    existing = None
    with contextlib.suppress(FileNotFoundError):
        existing = yaml.safe_load(path.read_text()) or None
    merged = cluster_pki.merge_kubeconfig(existing, ours)
    if merged != existing:
        cluster_pki.write_kubeconfig(path, merged)


# --- up ---------------------------------------------------------------------------------------


@dataclass
class UpResult:
    kubeconfig: Path
    context: str
    seconds_to_node_ready: float
    seconds_total: float
    started: list[str]
    already_running: list[str]


def _up(options: ClusterOptions) -> UpResult:
    started_at = time.monotonic()
    layout = options.layout
    with step("cluster: preflight"):
        preflight()
        layout.root.mkdir(parents=True, exist_ok=True)
        os.chmod(layout.root, 0o700)
    with step("cluster: programs"):
        toolset = cluster_build.build_toolset(
            options.kubernetes_version,
            coredns_version=options.coredns_version,
            jobs=options.build_jobs,
        )
        kubectl = cluster_build.install_kubectl(toolset.bin_dir)
        images = ensure_images(options, toolset)
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
        cluster_isolation.install_pod_isolation(settings.service_cidr, CNI_BRIDGE)
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
            lambda: _unix_socket_answers(layout.containerd_socket),
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
        apply_manifests(kubectl, layout.kubeconfig, layout.config / "bootstrap.yaml")
        ensure("storage-provisioner")
    with step("cluster: node Ready"):
        wait_for(
            f"node {NODE_NAME} Ready",
            lambda: node_ready(layout, settings, started_at_epoch.get("kubelet")),
            layout=layout,
            watch=COMPONENTS,
            timeout=options.timeout,
            interval=1,
        )
    node_ready_after = time.monotonic() - started_at
    with step("cluster: DNS"):
        wait_for(
            "CoreDNS Ready",
            lambda: dns_available(layout, settings, started_at_epoch.get("kubelet")),
            layout=layout,
            watch=COMPONENTS,
            timeout=options.timeout,
            interval=1,
        )
    return UpResult(
        layout.kubeconfig,
        CONTEXT,
        node_ready_after,
        time.monotonic() - started_at,
        started,
        already,
    )


def _unix_socket_answers(path: Path) -> bool:
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


# --- down -------------------------------------------------------------------------------------


@dataclass
class DownResult:
    stopped: dict[str, str]
    sandboxes_removed: bool
    leftovers_killed: list[int]
    unmounted: list[str]
    wiped: bool


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()) + "/"
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            mounts.append(point)
    return sorted(set(mounts), key=lambda p: p.count("/"), reverse=True)


def _cluster_leftovers(layout: Layout) -> list[int]:
    """Processes our cluster started indirectly and that outlived it.

    containerd's shims are started with `-address <our socket>`; pod processes live in the
    kubelet's `kubepods` cgroups. Nothing else matches either test.
    """
    socket_path = str(layout.containerd_socket)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = _cmdline(int(entry.name))
        if not argv:
            continue
        if socket_path in argv:
            found.append(int(entry.name))
            continue
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            cgroups = (entry / "cgroup").read_text()
            if any(
                line.split(":", 2)[2].startswith("/kubepods")
                for line in cgroups.splitlines()
                if line.count(":") >= 2
            ):
                found.append(int(entry.name))
    return found


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
    kube_proxy = tools_dir / "bin" / "kube-proxy"
    removed = False
    with step("cluster: stop the kubelet and remove pods"):
        stopped["kubelet"] = stop_process(layout, "kubelet")
        if crictl.exists():
            removed = remove_pod_sandboxes(layout, crictl)
    with step("cluster: stop the control plane"):
        for name in STOP_ORDER[1:]:
            stopped[name] = stop_process(layout, name)
        if kube_proxy.exists() and any(line.startswith("KUBE-") for line in _iptables_chains()):
            # kube-proxy's own cleanup removes its Service rules (KUBE-* chains).
            cmd.run(
                [str(kube_proxy), "--cleanup", "--v=0"],
                step="kube-proxy cleanup",
                check=False,
                quiet=True,
            )
        cluster_isolation.remove_pod_isolation()
    leftovers = _cluster_leftovers(layout)
    for pid in leftovers:
        warn(f"killing leftover cluster process {pid}: {' '.join(_cmdline(pid) or [])}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    unmounted = []
    if layout.root.exists():
        for point in _mounts_under(layout.root):
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


def _iptables_chains() -> list[str]:
    try:
        out = cmd.output_of(["iptables", "-t", "nat", "-S"], step="iptables")
    except ReleaseError:
        return []
    return [line.split()[1] for line in out.splitlines() if line.startswith("-N ")]


# Chains the kubelet and the CNI firewall plugin add to the host's tables (kube-proxy's own
# are removed by `kube-proxy --cleanup` on every down). Only these names are touched.
HOST_CHAINS = (
    "KUBE-FIREWALL",
    "KUBE-KUBELET-CANARY",
    "KUBE-IPTABLES-HINT",
    "CNI-FORWARD",
    "CNI-ADMIN",
    cluster_isolation.ISOLATION_CHAIN,
)


def host_chain_commands(table: str, rules: str) -> list[list[str]]:
    """iptables arguments that remove HOST_CHAINS from one table's `-S` listing."""
    commands = []
    for line in rules.splitlines():
        if not line.startswith("-A "):
            continue
        parts = shlex.split(line)  # comments are quoted: --comment "CNI firewall plugin rules"
        target = parts[parts.index("-j") + 1] if "-j" in parts else None
        # Rules inside our chains go with the chains; jumps into them from others go first.
        if target in HOST_CHAINS and parts[1] not in HOST_CHAINS:
            commands.append(["-t", table, "-D", *parts[1:]])
    present = [line.split()[1] for line in rules.splitlines() if line.startswith("-N ")]
    for chain in HOST_CHAINS:
        if chain in present:
            commands.append(["-t", table, "-F", chain])
    for chain in HOST_CHAINS:
        if chain in present:
            commands.append(["-t", table, "-X", chain])
    return commands


def remove_host_chains() -> None:
    for program in ("iptables", "ip6tables"):
        if tools.find(tools.Tool(program, "", "", (program,))) is None:
            continue
        for table in ("filter", "nat", "mangle"):
            listing = cmd.run(
                [program, "-t", table, "-S"], step="iptables", check=False, capture=True, quiet=True
            )
            if listing.returncode != 0:
                continue
            for arguments in host_chain_commands(table, listing.output):
                cmd.run([program, *arguments], step="iptables", check=False, quiet=True)


def _wipe(layout: Layout, options: ClusterOptions) -> None:
    import shutil

    remaining = _mounts_under(layout.root) if layout.root.exists() else []
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
    remove_host_chains()
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


# --- status -----------------------------------------------------------------------------------


@dataclass
class ComponentStatus:
    name: str
    state: str  # running | crashed | stopped
    pid: int | None
    log: Path
    tail: list[str] = field(default_factory=list)


@dataclass
class ClusterStatus:
    components: list[ComponentStatus]
    api_ready: bool
    node_ready: bool
    dns_ready: bool
    kubeconfig: Path

    @property
    def running(self) -> bool:
        return any(c.state == "running" for c in self.components)

    @property
    def healthy(self) -> bool:
        return (
            all(c.state == "running" for c in self.components)
            and self.api_ready
            and self.node_ready
            and self.dns_ready
        )

    @property
    def crashed(self) -> list[ComponentStatus]:
        return [c for c in self.components if c.state == "crashed"]


def status(options: ClusterOptions) -> ClusterStatus:
    layout = options.layout
    components = []
    for name in COMPONENTS:
        pid = running_pid(layout, name)
        if pid is not None:
            components.append(ComponentStatus(name, "running", pid, layout.log(name)))
        elif layout.pid(name).exists():
            # A pid file that `down` did not remove: the process died on its own.
            components.append(
                ComponentStatus(
                    name,
                    "crashed",
                    _read_pid(layout.pid(name)),
                    layout.log(name),
                    log_tail(layout.log(name)),
                )
            )
        else:
            components.append(ComponentStatus(name, "stopped", None, layout.log(name)))
    api = node = dns = False
    if layout.pki.joinpath("admin.crt").exists() and any(
        c.state == "running" for c in components if c.name == "kube-apiserver"
    ):
        settings = _current_settings(layout)
        with contextlib.suppress(OSError, httpx.HTTPError, ssl.SSLError):
            api = api_ready(layout, settings)
            node = api and node_ready(layout, settings)
            dns = api and dns_available(layout, settings)
    return ClusterStatus(components, api, node, dns, layout.kubeconfig)


def _current_settings(layout: Layout) -> Settings:
    """Settings as the running cluster was started (the node IP is in the argv of
    kube-apiserver and the kubelet)."""
    argv = (recorded_argv(layout, "kube-apiserver") or []) + (
        recorded_argv(layout, "kubelet") or []
    )
    flags = ("--advertise-address=", "--node-ip=")
    node_ip = next((a.split("=", 1)[1] for a in argv if a.startswith(flags)), None)
    return Settings(node_ip=node_ip or "127.0.0.1")


def format_status(result: ClusterStatus) -> str:
    lines = []
    for component in result.components:
        pid = f"pid {component.pid}" if component.pid else ""
        lines.append(f"  {component.name:<24} {component.state:<8} {pid:<12} {component.log}")
        if component.state == "crashed":
            lines += [f"      | {line}" for line in component.tail]
    lines.append(
        f"  api /readyz: {'ok' if result.api_ready else 'not ready'}; "
        f"node {NODE_NAME}: {'Ready' if result.node_ready else 'not Ready'}; "
        f"CoreDNS: {'available' if result.dns_ready else 'not available'}"
    )
    lines.append(f"  kubeconfig: {result.kubeconfig} (context {CONTEXT})")
    return "\n".join(lines)


def require_healthy(result: ClusterStatus) -> None:
    if not result.running and not result.crashed:
        raise ReleaseError("the local cluster is not running", "run: invoke cluster.up")
    if result.crashed:
        names = ", ".join(c.name for c in result.crashed)
        raise VerificationFailed(
            f"cluster component(s) crashed: {names}",
            "see the log tails above; `invoke cluster.up` restarts them",
        )
    if not result.healthy:
        raise VerificationFailed(
            "the local cluster is running but not healthy",
            "see the status above and the logs it names",
        )


@contextlib.contextmanager
def _exclusive(layout: Layout, doing: str):
    """One `up` or `down` at a time: two at once start every component twice and leave
    processes no pid file records. The lock lives beside the state dir (--wipe removes it)."""
    lock_path = layout.root.parent / f".{layout.root.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReleaseError(
                f"cannot {doing}: another cluster.up or cluster.down is running on {layout.root}",
                "wait for it to finish, then run this again",
            ) from None
        yield


def up(options: ClusterOptions) -> UpResult:
    """Start (or complete) the local cluster; see _up."""
    with _exclusive(options.layout, "start the cluster"):
        return _up(options)


def down(options: ClusterOptions, *, wipe: bool = False) -> DownResult:
    """Stop the local cluster (and with wipe remove its state); see _down."""
    with _exclusive(options.layout, "stop the cluster"):
        return _down(options, wipe=wipe)
