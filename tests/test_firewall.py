"""Who owns which firewall table: the back-end choice, the engine's PATH, the owners' rule check,
and the slowest-scenario report of a validate run."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from build_scripts.cluster import firewall, network_policy
from build_scripts.validation import slowest

DOCKER_AND_KUBE = """\
-P FORWARD DROP
-N DOCKER
-N KUBE-FORWARD
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -j KUBE-SERVICES
-A FORWARD -i br-0123456789ab -o br-0123456789ab -j ACCEPT
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A CNI-FORWARD -d 10.88.0.7/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A CNI-FORWARD -s 10.88.0.7/32 -j ACCEPT
"""


def _rules(text: str) -> list[list[str]]:
    return [shlex.split(line) for line in text.splitlines() if line.startswith("-A ")]


def test_every_owner_rule_is_found_in_a_complete_table():
    rules = _rules(DOCKER_AND_KUBE)
    expected = (
        firewall.docker_expectations(["br-0123456789ab"])
        + firewall.kube_proxy_expectations()
        + firewall.cni_expectations(["10.88.0.7"])
    )
    assert [e.what for e in expected if not firewall.has_rule(rules, e.words)] == []


@pytest.mark.parametrize(
    "dropped, owner",
    [
        ("-A FORWARD -i br-0123456789ab -o br-0123456789ab -j ACCEPT", "docker"),
        (
            '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
            "kube-proxy",
        ),
        (
            "-A CNI-FORWARD -d 10.88.0.7/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "cni-firewall",
        ),
    ],
)
def test_a_rule_that_was_wiped_is_named_with_its_owner(dropped, owner):
    rules = _rules(DOCKER_AND_KUBE.replace(dropped + "\n", ""))
    expected = (
        firewall.docker_expectations(["br-0123456789ab"])
        + firewall.kube_proxy_expectations()
        + firewall.cni_expectations(["10.88.0.7"])
    )
    missing = [e for e in expected if not firewall.has_rule(rules, e.words)]
    assert [e.owner for e in missing] == [owner]


def test_a_negated_option_is_not_the_option():
    # Docker's rule for traffic leaving the network: not the one for traffic inside it.
    rules = _rules("-A FORWARD -i br-aaaaaaaaaaaa ! -o br-aaaaaaaaaaaa -j ACCEPT\n")
    (expected,) = firewall.docker_expectations(["br-aaaaaaaaaaaa"])
    assert not firewall.has_rule(rules, expected.words)


def test_a_rule_for_another_bridge_does_not_count():
    rules = _rules("-A FORWARD -i br-aaaaaaaaaaaa -o br-bbbbbbbbbbbb -j ACCEPT\n")
    (expected,) = firewall.docker_expectations(["br-aaaaaaaaaaaa"])
    assert not firewall.has_rule(rules, expected.words)


def test_program_names_of_each_backend():
    assert firewall.backend_program("legacy") == "iptables-legacy"
    assert firewall.backend_program("legacy", "iptables-save") == "iptables-legacy-save"
    assert firewall.backend_program("nft", "ip6tables-restore") == "ip6tables-nft-restore"


def test_the_engine_path_runs_the_other_backend_under_the_plain_names(tmp_path):
    folder = firewall.engine_path_dir(tmp_path, "legacy")
    assert sorted(p.name for p in folder.iterdir()) == sorted(firewall.ENGINE_PROGRAMS)
    version = subprocess.run(
        [folder / "iptables", "-V"], capture_output=True, text=True, check=True
    ).stdout
    assert "(legacy)" in version
    # A second call changes nothing (the links are already right).
    before = {p.name: os.readlink(p) for p in folder.iterdir()}
    firewall.engine_path_dir(tmp_path, "legacy")
    assert {p.name: os.readlink(p) for p in folder.iterdir()} == before


def test_the_engine_runs_with_its_own_iptables_first_on_a_fixed_path(monkeypatch, tmp_path):
    monkeypatch.setattr(network_policy, "binary_path", lambda *_: tmp_path / "kube-router")
    monkeypatch.setattr(firewall, "policy_engine_backend", lambda: "legacy")
    monkeypatch.setenv("PATH", "/somewhere/else")
    path = network_policy.environment()["PATH"].split(os.pathsep)
    assert path[0] == str(tmp_path / "iptables-legacy")
    assert "/somewhere/else" not in path and "/usr/sbin" in path


def test_the_slowest_scenarios_come_from_this_run_only(tmp_path):
    old = tmp_path / "TESTS-old.xml"
    old.write_text('<testsuite><testcase classname="old" name="gone" time="999"/></testsuite>')
    os.utime(old, (1000, 1000))
    (tmp_path / "TESTS-new.xml").write_text(
        "<testsuite>"
        '<testcase classname="images" name="fast" status="passed" time="1.5"/>'
        '<testcase classname="cluster" name="slow" status="failed" time="80"/>'
        "</testsuite>"
    )
    (tmp_path / "TESTS-broken.xml").write_text("<testsuite>")
    times = slowest.scenario_times(tmp_path, since=2000)
    assert [(t.scenario, t.status) for t in slowest.slowest(times, 10)] == [
        ("slow", "failed"),
        ("fast", "passed"),
    ]
    text = slowest.report(tmp_path, tmp_path / "out.json", since=2000, count=1)
    assert "1 slowest of 2 scenarios" in text and "cluster: slow" in text
    assert '"scenario": "slow"' in (tmp_path / "out.json").read_text()


def test_a_part_of_the_scenarios_counts_only_its_own_features(tmp_path):
    for name, seconds in (("images", 5), ("desktop", 9)):
        (tmp_path / f"TESTS-{name}.xml").write_text(
            f'<testsuite><testcase classname="{name}" name="s" time="{seconds}"/></testsuite>'
        )
    times = slowest.scenario_times(tmp_path, features=["features/images.feature"])
    assert [t.feature for t in times] == ["images"]
