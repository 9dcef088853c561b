"""Steps proving that the firewall's owners do not overwrite each other's rules
(build_scripts/cluster/firewall.py says who owns which table)."""

from __future__ import annotations

import secrets

from _support import cluster_layout, run, shown
from behave import given, then, when
from python_on_whales import docker

from build_scripts.cluster import firewall, firewall_churn


@when("pods and Docker networks are created and removed side by side for {rounds:d} rounds")
def step_churn(context, rounds):
    context.churn_results = firewall_churn.churn(cluster_layout(), rounds)


@then("the NetworkPolicy engine wrote its table back during every round")
def step_engine_synced(context):
    for result in context.churn_results:
        assert result.engine_syncs > 0, f"round {result.number}: no engine sync\n{result}"
        assert not result.error, f"round {result.number}: {result.error}"


@then("after every round each owner's firewall rules are all present")
def step_rules_present(context):
    for result in context.churn_results:
        assert result.pods_made and result.networks_made, f"round {result.number}: {result}"
        assert not result.missing, f"round {result.number} lost rules: {result.missing}"


@then("the NetworkPolicy engine's rules are in a table no other program writes to")
def step_engine_table_apart(context):
    engine = firewall.policy_engine_backend()
    assert engine != firewall.host_backend()
    host_rules = firewall.filter_rules("iptables")
    assert not any(r[1].startswith("KUBE-ROUTER") for r in host_rules), host_rules
    engine_rules = firewall.filter_rules(firewall.backend_program(engine))
    owners = {r[1] for r in engine_rules}
    assert "KUBE-ROUTER-FORWARD" in owners, engine_rules
    foreign = [r for r in engine_rules if r[1].startswith(("DOCKER", "KUBE-SERVICES", "CNI-"))]
    assert not foreign, f"other programs' rules in the engine's table: {foreign}"


@given("a Docker network whose rule for traffic inside it was deleted by hand")
def step_network_rule_deleted(context):
    network = docker.network.create(f"traderadmin-scenario-{secrets.token_hex(3)}")
    context.docker_made.append(("network", network.name))
    bridge = f"br-{network.id[:12]}"
    context.damaged_bridge = bridge
    result = run(
        context, ["iptables", "-w", "-D", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"]
    )
    assert result.returncode == 0, shown(result)


@then("the firewall check names that network's rule as missing")
def step_check_names_missing(context):
    missing = firewall.missing_rules(docker_bridges=[context.damaged_bridge], pod_ips=[])
    assert [rule.owner for rule in missing] == ["docker"], missing
    assert context.damaged_bridge in missing[0].what, missing
