"""Who owns which firewall table on the node, and a check that every owner's rules are there.

Why two iptables back-ends. kube-router (the NetworkPolicy engine, network_policy.py) writes
its rules by saving the whole `filter` table with `iptables-save`, editing the text and loading
it back with `iptables-restore -T filter` without `--noflush` (pkg/utils/iptables.go, to this
day upstream), every few seconds while pods change. Anything another program adds to that table
between the save and the restore is wiped: Docker's FORWARD rules for a network it just made
(Docker's FORWARD policy is DROP, so containers on that network stop reaching each other: the
container-images scenario's ConnectTimeout), kube-proxy's Service rules, the CNI firewall
plugin's per-pod ACCEPTs. Retrying around that only hides it.

So kube-router gets a table nobody else writes to: the iptables back-end that the host's
`iptables` command does *not* use. On Debian 12 `iptables` is iptables-nft, so Docker,
kube-proxy, the kubelet and the CNI plugins write to nftables' `ip filter` table, and kube-router
runs with a PATH whose `iptables`, `iptables-save` and `iptables-restore` are the legacy
(x_tables) programs: its full-table restore replaces only its own rules. Both back-ends hook the
same netfilter points, so a packet passes both: an ACCEPT in one table ends only that table's
chain, a REJECT in either ends the packet. kube-router's verdicts are rejects (policies) and
accepts that merely stop its own evaluation, so policies hold as before, and its marks
(0x10000, 0x20000) do not overlap kube-proxy's (0x4000, 0x8000). Our pod isolation is an
nftables table of its own (isolation.py) at a priority before both.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import cmd
from build_scripts.core.errors import ReleaseError

BACKENDS = ("nft", "legacy")
# What `iptables -V` prints in brackets for each back-end.
_VERSION_MODE = {"nf_tables": "nft", "legacy": "legacy"}
# The programs kube-router looks up on PATH (go-iptables, and utils.IPTablesSaveRestore).
ENGINE_PROGRAMS = (
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ip6tables",
    "ip6tables-save",
    "ip6tables-restore",
)


def host_backend() -> str:
    """The back-end of the host's `iptables` command: the one Docker and Kubernetes use."""
    version = cmd.output_of(["iptables", "-V"], step="iptables")
    match = re.search(r"\((\w+)\)", version)
    if not match or match.group(1) not in _VERSION_MODE:
        raise ReleaseError(
            f"cannot tell the iptables back-end from {version.strip()!r}",
            "install Debian's iptables package (apt-get install iptables)",
        )
    return _VERSION_MODE[match.group(1)]


def policy_engine_backend() -> str:
    """The back-end nobody but the NetworkPolicy engine writes to."""
    return "legacy" if host_backend() == "nft" else "nft"


def backend_program(backend: str, program: str = "iptables") -> str:
    """`iptables-legacy-save` and the like: one back-end's program by its Debian name."""
    family, _, verb = program.partition("-")
    return f"{family}-{backend}" + (f"-{verb}" if verb else "")


def engine_path_dir(under: Path, backend: str) -> Path:
    """A folder whose iptables programs are `backend`'s, for the front of the engine's PATH.

    The multi-call binaries choose by the name they are run as, so each link carries the plain
    name (`iptables-save`) and points at the back-end's binary.
    """
    multi = Path(f"/usr/sbin/xtables-{backend}-multi")
    if not multi.exists():
        raise ReleaseError(f"{multi} is missing", "install it with: apt-get install iptables")
    folder = under / f"iptables-{backend}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ENGINE_PROGRAMS:
        link = folder / name
        if link.is_symlink() and os.readlink(link) == str(multi):
            continue
        tmp = folder / f".{name}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(multi)
        os.replace(tmp, link)
    return folder


# --- what each owner expects in the host's filter table ----------------------------------------


@dataclass(frozen=True)
class ExpectedRule:
    owner: str
    what: str
    # Every (option, value) pair must stand in one rule line of `iptables -S`, in any order.
    words: tuple[tuple[str, str], ...]


def filter_rules(program: str = "iptables") -> list[list[str]]:
    listing = cmd.output_of([program, "-w", "-t", "filter", "-S"], step="iptables")
    return [shlex.split(line) for line in listing.splitlines() if line.startswith("-A ")]


def option_pairs(rule: list[str]) -> set[tuple[str, str]]:
    """(option, value) pairs of one `-S` rule; a negated option is `!-o` (`! -o br0` is not
    `-o br0`)."""
    pairs, negated = set(), False
    for option, value in itertools.pairwise(rule):
        if option == "!":
            negated = True
            continue
        pairs.add((f"!{option}" if negated else option, value))
        negated = False
    return pairs


def has_rule(rules: list[list[str]], words: tuple[tuple[str, str], ...]) -> bool:
    """Whether one rule holds every (option, value) pair of `words`, in any order."""
    return any(set(words) <= option_pairs(rule) for rule in rules)


def docker_expectations(bridges: list[str]) -> list[ExpectedRule]:
    """Docker's rules for traffic inside each of its bridge networks (its FORWARD policy is DROP,
    so without them containers on one network cannot reach each other)."""
    return [
        ExpectedRule(
            "docker",
            f"containers on {bridge} reach each other",
            (("-i", bridge), ("-o", bridge), ("-j", "ACCEPT")),
        )
        for bridge in bridges
    ]


def kube_proxy_expectations() -> list[ExpectedRule]:
    return [
        ExpectedRule("kube-proxy", "FORWARD jumps to KUBE-FORWARD", (("-j", "KUBE-FORWARD"),)),
        ExpectedRule(
            "kube-proxy",
            "FORWARD jumps to KUBE-SERVICES",
            (("-A", "FORWARD"), ("-j", "KUBE-SERVICES")),
        ),
        ExpectedRule(
            "kube-proxy",
            "KUBE-FORWARD accepts established Service traffic",
            (("-A", "KUBE-FORWARD"), ("-j", "ACCEPT")),
        ),
    ]


def cni_expectations(pod_ips: list[str]) -> list[ExpectedRule]:
    """The CNI firewall plugin's per-pod ACCEPT in CNI-FORWARD, for each running pod."""
    return [
        ExpectedRule(
            "cni-firewall",
            f"CNI-FORWARD accepts pod {ip}",
            (("-A", "CNI-FORWARD"), ("-d", f"{ip}/32"), ("-j", "ACCEPT")),
        )
        for ip in pod_ips
    ]


def engine_expectations() -> list[ExpectedRule]:
    return [
        ExpectedRule(
            "kube-router",
            "FORWARD jumps to KUBE-ROUTER-FORWARD",
            (("-A", "FORWARD"), ("-j", "KUBE-ROUTER-FORWARD")),
        )
    ]


def missing_rules(
    *, docker_bridges: list[str], pod_ips: list[str], with_cluster: bool = True
) -> list[ExpectedRule]:
    """The expected rules of every owner that are not in its table right now."""
    host = filter_rules("iptables")
    expected = docker_expectations(docker_bridges)
    if with_cluster:
        expected += kube_proxy_expectations() + cni_expectations(pod_ips)
    missing = [rule for rule in expected if not has_rule(host, rule.words)]
    if with_cluster:
        engine = filter_rules(backend_program(policy_engine_backend()))
        missing += [rule for rule in engine_expectations() if not has_rule(engine, rule.words)]
    return missing
