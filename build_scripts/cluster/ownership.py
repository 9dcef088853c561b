"""What this cluster owns on the host, so `cluster.down` removes that and nothing else.

Another Kubernetes on the same machine (k3s, kubeadm, a second kubelet) uses the same default
names: the kubelet's cgroup root `/kubepods` (`/kubepods.slice` under systemd), kube-proxy's
KUBE-* chains, the CNI firewall plugin's CNI-FORWARD. `kube-proxy --cleanup` deletes every
service chain (KUBE-SVC-*, KUBE-SEP-*, …) whoever made it, and killing everything under
`/kubepods` kills the other cluster's pods. So:
- our pods live under a cgroup root of their own (the kubelet's `cgroupRoot`);
- a process is ours when its cgroup is under that root, its command line names our containerd
  socket (the shims), or one of its ancestors is such a shim;
- kube-proxy's chains are ours when reachable from the chains our kube-proxy creates (a second
  kube-proxy would share those names and fight ours, so `cluster.up` refuses to start beside
  another cluster: `foreign_cluster`);
- the CNI plugin's shared chain keeps every rule that is not about our pod network.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shlex
from collections.abc import Iterable
from pathlib import Path

from build_scripts.core.daemon import cmdline
from build_scripts.core.errors import ReleaseError

# The kubelet puts pods in <root>/kubepods/{burstable,besteffort,pod…}; containerd follows it.
CGROUP_ROOT = "/traderadmin"
CGROUP_FS = Path("/sys/fs/cgroup")

# The chains kube-proxy (iptables mode) creates under fixed names; its per-Service chains
# (KUBE-SVC-*, KUBE-SEP-*, KUBE-EXT-*, KUBE-FW-*, KUBE-SVL-*) hang below these.
KUBE_PROXY_CHAINS = frozenset(
    {
        "KUBE-SERVICES",
        "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",
        "KUBE-MARK-MASQ",
        "KUBE-FORWARD",
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-PROXY-FIREWALL",
        "KUBE-PROXY-CANARY",
    }
)

# Programs of a Kubernetes node; one of these that we did not start means another cluster.
NODE_PROGRAMS = frozenset({"kubelet", "kube-proxy", "k3s", "k3s-server", "k3s-agent", "rke2"})


# --- processes --------------------------------------------------------------------------------


def cgroup_paths(cgroup_text: str) -> list[str]:
    """The paths of a /proc/<pid>/cgroup text (one per hierarchy)."""
    return [line.split(":", 2)[2] for line in cgroup_text.splitlines() if line.count(":") >= 2]


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def in_pod_cgroups_of_another_kubelet(cgroup_text: str) -> bool:
    """In a kubelet's default pod cgroups (`/kubepods`, `/kubepods.slice`), not under ours."""
    return any(
        p.startswith("/kubepods") and not under(p, CGROUP_ROOT) for p in cgroup_paths(cgroup_text)
    )


def _process_table() -> dict[int, tuple[int, list[str], str]]:
    """pid → (parent pid, argv, cgroup text) of every process that could be read."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            argv = cmdline(int(entry.name)) or []
            table[int(entry.name)] = (parent, argv, (entry / "cgroup").read_text())
    return table


def our_processes(containerd_socket: Path, exclude: Iterable[int] = ()) -> list[int]:
    """Processes our cluster started indirectly: containerd's shims (started with `-address
    <our socket>`), everything below them, and whatever sits in our pod cgroups."""
    table = _process_table()
    socket_path = str(containerd_socket)
    shims = {pid for pid, (_, argv, _) in table.items() if socket_path in argv}

    def ours(pid: int) -> bool:
        seen = set()
        while pid in table and pid not in seen and pid > 1:
            seen.add(pid)
            parent, _, cgroups = table[pid]
            if pid in shims or any(under(p, CGROUP_ROOT) for p in cgroup_paths(cgroups)):
                return True
            pid = parent
        return False

    skip = {os.getpid(), *exclude}
    return sorted(pid for pid in table if pid not in skip and ours(pid))


def foreign_cluster(containerd_socket: Path, our_pids: Iterable[int]) -> str | None:
    """Evidence of another Kubernetes on this machine (one line), or None."""
    ours = set(our_pids) | set(our_processes(containerd_socket))
    for pid, (_, argv, cgroups) in sorted(_process_table().items()):
        if pid in ours or pid == os.getpid() or not argv:
            continue
        program = Path(argv[0]).name
        if program in NODE_PROGRAMS:
            return f"process {pid} ({program}) is a node program this cluster did not start"
        if in_pod_cgroups_of_another_kubelet(cgroups):
            path = next(p for p in cgroup_paths(cgroups) if p.startswith("/kubepods"))
            return f"process {pid} ({program}) runs in another kubelet's pod cgroup {path}"
    return None


def refuse_beside_another_cluster(containerd_socket: Path, our_pids: Iterable[int]) -> None:
    """Two clusters on one host share kube-proxy's and the kubelet's iptables chains and fight
    over them: start only when no other Kubernetes runs here."""
    another = foreign_cluster(containerd_socket, our_pids)
    if another:
        raise ReleaseError(
            f"another Kubernetes runs on this machine: {another}",
            "stop that cluster first: both would write kube-proxy's and the kubelet's chains",
        )


# --- cgroups ----------------------------------------------------------------------------------


def cgroup_root_dirs() -> list[Path]:
    """Our cgroup root in every mounted hierarchy (cgroup v2: one; v1: one per controller)."""
    if (CGROUP_FS / "cgroup.controllers").exists():
        return [CGROUP_FS / CGROUP_ROOT.lstrip("/")]
    return [
        hierarchy / CGROUP_ROOT.lstrip("/")
        for hierarchy in sorted(CGROUP_FS.iterdir())
        if not hierarchy.is_symlink() and (hierarchy / "cgroup.procs").exists()
    ]


def ensure_cgroup_root() -> None:
    """The kubelet refuses a cgroupRoot that does not exist; make it in every hierarchy. A new
    cpuset cgroup starts with no CPUs and no memory nodes: copy the parent's."""
    for directory in cgroup_root_dirs():
        directory.mkdir(exist_ok=True)
        for name in ("cpuset.cpus", "cpuset.mems"):
            mine = directory / name
            if mine.exists() and not mine.read_text().strip():
                mine.write_text((directory.parent / name).read_text())


def remove_cgroup_root() -> list[Path]:
    """Remove our (empty) cgroup tree, deepest first; returns what could not be removed."""
    kept = []
    for root in cgroup_root_dirs():
        if not root.exists():
            continue
        below = [d for d in root.rglob("*") if d.is_dir()]
        for directory in [*sorted(below, key=lambda d: len(d.parts), reverse=True), root]:
            try:
                directory.rmdir()
            except OSError:
                kept.append(directory)
    return kept


# --- iptables ---------------------------------------------------------------------------------


def _rules(listing: str) -> list[list[str]]:
    # Comments are quoted: --comment "kubernetes service portals".
    return [shlex.split(line) for line in listing.splitlines() if line.startswith("-A ")]


def _target(rule: list[str]) -> str | None:
    return rule[rule.index("-j") + 1] if "-j" in rule else None


def chains_reachable(listing: str, entries: Iterable[str]) -> set[str]:
    """The chains of one table's `iptables -S` listing reachable from `entries` (those present)."""
    present = {line.split()[1] for line in listing.splitlines() if line.startswith("-N ")}
    jumps: dict[str, set[str]] = {}
    for rule in _rules(listing):
        target = _target(rule)
        if target in present:
            jumps.setdefault(rule[1], set()).add(target)
    found = set()
    todo = [chain for chain in entries if chain in present]
    while todo:
        chain = todo.pop()
        if chain not in found:
            found.add(chain)
            todo.extend(jumps.get(chain, ()))
    return found


def chain_removal_commands(table: str, listing: str, chains: set[str]) -> list[list[str]]:
    """iptables arguments that remove `chains` from one table: jumps into them from other
    chains first, then flush, then delete."""
    commands = [
        ["-t", table, "-D", *rule[1:]]
        for rule in _rules(listing)
        if _target(rule) in chains and rule[1] not in chains
    ]
    commands += [["-t", table, "-F", chain] for chain in sorted(chains)]
    commands += [["-t", table, "-X", chain] for chain in sorted(chains)]
    return commands


def kube_proxy_commands(table: str, listing: str) -> list[list[str]]:
    """Remove what our kube-proxy made in one table, and nothing another program made."""
    return chain_removal_commands(table, listing, chains_reachable(listing, KUBE_PROXY_CHAINS))


def about_network(rule: list[str], network: str) -> bool:
    """Whether a rule's -s/-d address lies in `network`."""
    net = ipaddress.ip_network(network)
    for flag in ("-s", "-d"):
        if flag in rule:
            with contextlib.suppress(ValueError):
                if ipaddress.ip_network(rule[rule.index(flag) + 1], strict=False).subnet_of(net):
                    return True
    return False


def shared_chain_commands(
    table: str, listing: str, chains: Iterable[str], pod_network: str
) -> list[list[str]]:
    """Remove our rules from chains other clusters' plugins also use (CNI-FORWARD): the rules
    about our pod network go; a chain left with only jumps into the others of `chains` goes
    with them; a chain holding anyone else's rule stays."""
    chains = [c for c in chains if f"-N {c}" in listing.splitlines()]
    rules = _rules(listing)
    ours = [r for r in rules if r[1] in chains and about_network(r, pod_network)]
    foreign = [r for r in rules if r[1] in chains and r not in ours and _target(r) not in chains]
    if foreign:
        return [["-t", table, "-D", *rule[1:]] for rule in ours]
    return chain_removal_commands(table, listing, set(chains))
