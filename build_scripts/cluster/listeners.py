"""What the local cluster listens on, held against the README's "What listens where" table.

That table is the allow-list: `cluster.up` ends by listing the node's listening sockets, finds
the ones our cluster's processes own, and refuses any on a non-loopback address that the table
does not name (a port another program on the node, or a pod, could reach). Loopback listeners
are not refused: only this machine reaches them. The documentation scenario checks the other
direction too: every address the table names is really listening.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from build_scripts.cluster.components import START_ORDER
from build_scripts.cluster.config import Layout
from build_scripts.cluster.supervise import running_pid
from build_scripts.core import cmd, paths
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import warn

TABLE_HEADER = re.compile(r"^\s*\|\s*process\s*\|\s*listens on\s*\|", re.I)
# `127.0.0.1:2379`, `https://<node IP>:6443`, `0.0.0.0:10250`
DOCUMENTED_ADDRESS = re.compile(r"`(?:https?://)?(127\.0\.0\.1|0\.0\.0\.0|<node IP>):(\d+)`")
LOOPBACK, ANY, NODE = "127.0.0.1", "0.0.0.0", "<node IP>"
_USERS = re.compile(r'\("([^"]+)",pid=(\d+),')


@dataclass(frozen=True)
class Socket:
    protocol: str
    address: str
    port: int
    pids: tuple[int, ...]


def documented(readme: str) -> dict[str, set[tuple[str, int]]]:
    """process -> {(address, port)}, from the README table headed `| process | listens on |`.

    The address is 127.0.0.1, 0.0.0.0 or <node IP>. A process the table names with no address
    (kube-router, the storage provisioner) is allowed nothing.
    """
    lines = readme.splitlines()
    start = next((i for i, line in enumerate(lines) if TABLE_HEADER.match(line)), None)
    if start is None:
        raise ReleaseError(
            "README.md has no '| process | listens on |' table",
            "restore the table under 'What listens where' in README.md",
        )
    table: dict[str, set[tuple[str, int]]] = {}
    for line in lines[start + 2 :]:
        if not line.strip().startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        process = cells[0].strip("`").split()[0].strip("`")
        table[process] = {(a, int(p)) for a, p in DOCUMENTED_ADDRESS.findall(cells[1])}
    return table


def parse_ss(listing: str) -> list[Socket]:
    """`ss -Hltunp` lines: netid, state, queues, local address:port, peer, process."""
    sockets = []
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        address, _, port = fields[4].rpartition(":")
        if not port.isdigit():
            continue
        address = address.strip("[]").split("%", 1)[0]
        pids = tuple(int(pid) for _, pid in _USERS.findall(line))
        sockets.append(Socket(fields[0], address, int(port), pids))
    return sockets


def listening_sockets() -> list[Socket]:
    return parse_ss(
        cmd.output_of(
            ["ss", "-H", "-l", "-t", "-u", "-n", "-p"], step="ss", hint="apt-get install iproute2"
        )
    )


def where(address: str, node_ip: str) -> str:
    """The table's name for a socket's address."""
    if address in ("*", "0.0.0.0", "::"):
        return ANY
    ip = ipaddress.ip_address(address)
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return LOOPBACK
    return NODE if str(ip) == node_ip else str(ip)


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def owner(pids: tuple[int, ...], components: dict[int, str]) -> str | None:
    """The component that owns one of these pids, itself or as an ancestor."""
    for pid in pids:
        seen = pid
        for _ in range(8):
            if seen in components:
                return components[seen]
            parent = _parent(seen)
            if not parent or parent <= 1:
                break
            seen = parent
    return None


def problems(
    sockets: list[Socket],
    components: dict[int, str],
    allowed: dict[str, set[tuple[str, int]]],
    node_ip: str,
) -> tuple[list[str], list[str]]:
    """(unexpected, missing): non-loopback listeners of ours the table does not name, and
    addresses the table names for a running component on which nothing of it listens."""
    unexpected, seen = [], set()
    for socket in sockets:
        name = owner(socket.pids, components)
        if name is None:
            continue
        place = where(socket.address, node_ip)
        seen.add((name, place, socket.port))
        if place == LOOPBACK or (place, socket.port) in allowed.get(name, set()):
            continue
        unexpected.append(
            f"{name} listens on {socket.protocol} {socket.address}:{socket.port}, "
            "which README's 'What listens where' does not list"
        )
    running = set(components.values())
    missing = [
        f"README lists {place}:{port} for {name}, but nothing of it listens there"
        for name, entries in sorted(allowed.items())
        if name in running
        for place, port in sorted(entries)
        if (name, place, port) not in seen
    ]
    return unexpected, missing


def running_components(layout: Layout) -> dict[int, str]:
    pids = {name: running_pid(layout, name) for name in START_ORDER}
    return {pid: name for name, pid in pids.items() if pid is not None}


def check(layout: Layout, node_ip: str, readme: Path | None = None) -> None:
    """After `up`: refuse a non-loopback listener of ours that README does not list; warn for
    a listed address nothing listens on (the README is out of date)."""
    readme = readme or paths.repo_root() / "README.md"
    allowed = documented(readme.read_text(encoding="utf-8"))
    unexpected, missing = problems(
        listening_sockets(), running_components(layout), allowed, node_ip
    )
    for line in missing:
        warn(line)
    if unexpected:
        raise ReleaseError(
            "; ".join(unexpected),
            "bind it to 127.0.0.1 or turn it off; if it must be reachable, add it to the "
            "'What listens where' table in README.md",
        )
