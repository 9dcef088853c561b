"""Another Kubernetes on the same host, played for real: a process in the default pod cgroup
another kubelet uses (`/kubepods.slice`), chains named as another kube-proxy names its own, and
a rule for another cluster's pod in the CNI plugin's shared chain. `cluster.down` must leave all
of it, and `cluster.up` must refuse to start beside it. Everything is removed after the scenario.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from _support import background, cluster_layout, run
from behave import given, then

CGROUP_FS = Path("/sys/fs/cgroup")
FOREIGN_POD_IP = "10.42.0.9/32"  # k3s' default pod network: not ours (10.244.0.0/16)


def _foreign_cgroup(path: str) -> Path:
    """The cgroup `path` in cgroup v2, or in the v1 `pids` hierarchy (any one will do: a process
    in it has that path in /proc/<pid>/cgroup)."""
    if (CGROUP_FS / "cgroup.controllers").exists():
        return CGROUP_FS / path.lstrip("/")
    return CGROUP_FS / "pids" / path.lstrip("/")


@given('a process of another cluster runs in the pod cgroup "{path}"')
def step_foreign_pod_process(context, path):
    cgroup = _foreign_cgroup(f"{path}/traderadmin-test-foreign-pod")
    cgroup.mkdir(parents=True, exist_ok=True)

    def remove():  # after background() has stopped the process (cleanups run last first)
        for directory in (cgroup, cgroup.parent):
            # The parent stays if another cgroup (of a real other cluster) lives there too.
            with contextlib.suppress(OSError):
                directory.rmdir()

    context.add_cleanup(remove)
    process = background(context, ["sleep", "900"], new_session=True)
    (cgroup / "cgroup.procs").write_text(str(process.pid))
    context.foreign_process = process
    line = next(
        entry
        for entry in Path(f"/proc/{process.pid}/cgroup").read_text().splitlines()
        if path in entry
    )
    assert line, f"process {process.pid} did not join {cgroup}"


def _iptables(*arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(None, ["iptables", *arguments], check=check)


def _chain_exists(table: str, chain: str) -> bool:
    return _iptables("-t", table, "-S", chain, check=False).returncode == 0


def _foreign_cni_rule(context) -> None:
    made_cni_chain = not _chain_exists("filter", "CNI-FORWARD")
    if made_cni_chain:
        _iptables("-N", "CNI-FORWARD")
        context.add_cleanup(_iptables, "-X", "CNI-FORWARD", check=False)
    rule = ["CNI-FORWARD", "-s", FOREIGN_POD_IP, "-j", "ACCEPT"]
    _iptables("-A", *rule)
    context.add_cleanup(_iptables, "-D", *rule, check=False)
    context.foreign_rule = rule
    context.foreign_chains = []


@given("a rule for another cluster's pod in the CNI plugin's chain")
def step_foreign_cni_rule(context):
    _foreign_cni_rule(context)


@given("another cluster's kube-proxy chains and a rule for its pod in the CNI plugin's chain")
def step_foreign_chains(context):
    # Named as kube-proxy names a Service's chains: `kube-proxy --cleanup` deletes these. Put
    # there while our kube-proxy is stopped: a running one deletes, on its next sync, every
    # KUBE-SVC-*/KUBE-SEP-* chain it does not know (two kube-proxies fight over these names,
    # which is why cluster.up refuses to start beside another cluster).
    assert not _kube_proxy_running(), "the cluster's kube-proxy runs: stop the cluster first"
    _foreign_cni_rule(context)
    chains = [("nat", "KUBE-SVC-TESTFOREIGN00001"), ("nat", "KUBE-SEP-TESTFOREIGN00001")]
    for table, chain in chains:
        _iptables("-t", table, "-N", chain)
        context.add_cleanup(_iptables, "-t", table, "-X", chain, check=False)
    # Cleanups run last first: every chain is flushed before any is deleted (a chain another
    # one jumps to cannot be deleted).
    for table, chain in chains:
        context.add_cleanup(_iptables, "-t", table, "-F", chain, check=False)
    _iptables("-t", "nat", "-A", chains[0][1], "-j", chains[1][1])
    context.foreign_chains = chains


def _kube_proxy_running() -> bool:
    from build_scripts.cluster import supervise

    return supervise.running_pid(cluster_layout(), "kube-proxy") is not None


@given("the local cluster is stopped")
def step_cluster_stopped(context):
    run(context, "invoke cluster.down")
    assert context.result.returncode == 0, context.result.stderr[-2000:]


@then("the other cluster's process still runs")
def step_foreign_process_runs(context):
    assert context.foreign_process.poll() is None, (
        f"process {context.foreign_process.pid} in another kubelet's pod cgroup was killed"
    )


@then("the other cluster's chains and its rule in the CNI plugin's chain are still there")
def step_foreign_chains_there(context):
    missing = [f"{t}/{c}" for t, c in context.foreign_chains if not _chain_exists(t, c)]
    assert not missing, f"another cluster's chains were removed: {missing}"
    rule = context.foreign_rule
    assert _iptables("-C", *rule, check=False).returncode == 0, (
        f"another cluster's rule was removed: -A {' '.join(rule)}"
    )


@then("nothing of the local cluster's own cgroup root is left")
def step_own_cgroup_root_gone(context):
    from build_scripts.cluster import ownership

    left = [str(d) for d in ownership.cgroup_root_dirs() if d.exists()]
    assert not left, f"left behind: {left}"


@then("pods ran under the cluster's own cgroup root")
def step_pods_under_own_root(context):
    from build_scripts.cluster import ownership

    result = run(context, ["pgrep", "-f", "coredns"])
    pids = result.stdout.split()
    assert pids, "no CoreDNS process: is the cluster up?"
    cgroups = Path(f"/proc/{pids[0]}/cgroup").read_text()
    assert f":{ownership.CGROUP_ROOT}/kubepods" in cgroups, cgroups
