"""The listening-socket check of cluster.up against README's table (the allow-list)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from build_scripts.cluster import listeners
from build_scripts.core.errors import ReleaseError

ROOT = Path(__file__).resolve().parent.parent
SS = """\
tcp   LISTEN 0      4096       127.0.0.1:2379       0.0.0.0:*    users:(("etcd",pid=101,fd=7))
tcp LISTEN 0 4096 192.0.2.10:6443 0.0.0.0:* users:(("kube-apiserver",pid=102,fd=3))
tcp   LISTEN 0      4096               *:10250            *:*    users:(("kubelet",pid=103,fd=20))
tcp LISTEN 0 4096 *:20244 *:* users:(("kube-router",pid=104,fd=9))
udp   UNCONN 0      0          127.0.0.53%lo:53        0.0.0.0:*    users:(("other",pid=999,fd=1))
tcp   LISTEN 0      128          0.0.0.0:2024       0.0.0.0:*
"""
COMPONENTS = {101: "etcd", 102: "kube-apiserver", 103: "kubelet", 104: "network-policy"}


def test_ss_lines_become_sockets_with_their_processes():
    sockets = listeners.parse_ss(SS)
    assert (sockets[0].address, sockets[0].port, sockets[0].pids) == ("127.0.0.1", 2379, (101,))
    assert sockets[2].address == "*" and sockets[4].address == "127.0.0.53"
    assert sockets[5].pids == ()


def test_the_readme_table_is_the_allow_list():
    table = listeners.documented((ROOT / "README.md").read_text())
    assert table["kube-apiserver"] == {(listeners.NODE, 6443)}
    assert (listeners.ANY, 10250) in table["kubelet"]
    assert table["network-policy"] == set()


def test_a_listener_of_ours_on_a_public_address_that_the_table_omits_is_refused():
    table = listeners.documented((ROOT / "README.md").read_text())
    unexpected, missing = listeners.problems(
        listeners.parse_ss(SS), COMPONENTS, table, node_ip="192.0.2.10"
    )
    # kube-router's health port; the unowned 2024 and loopback sockets are not ours to judge.
    assert unexpected == [
        "network-policy listens on tcp *:20244, which README's 'What listens where' does not list"
    ]
    # Documented addresses of running components that nothing listens on (etcd's peer port,
    # kubelet's healthz) are reported the other way round.
    assert "README lists 127.0.0.1:2380 for etcd, but nothing of it listens there" in missing


def test_a_child_process_counts_as_its_component():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert listeners.owner((child.pid,), {os.getpid(): "kubelet"}) == "kubelet"
        assert listeners.owner((child.pid,), {12345678: "kubelet"}) is None
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("*", "0.0.0.0"),
        ("::", "0.0.0.0"),
        ("::1", "127.0.0.1"),
        ("::ffff:192.0.2.10", "<node IP>"),
        ("127.0.0.53", "127.0.0.1"),
        ("10.0.0.9", "10.0.0.9"),
    ],
)
def test_addresses_are_named_as_the_table_names_them(address, expected):
    assert listeners.where(address, "192.0.2.10") == expected


def test_a_readme_without_the_table_says_how_to_fix_it():
    with pytest.raises(ReleaseError) as caught:
        listeners.documented("# nothing here\n")
    assert "What listens where" in caught.value.hint
