"""Steps for the local Kubernetes cluster itself: up, its node and components, a crashed
component, and what `down` leaves behind.

The cluster is driven through the tasks a user runs (`invoke cluster.up/down/status`); the API
is read with kr8s. The workloads on it are cluster_workload_steps.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from _support import cluster_api, cluster_layout, run, shown, wait_until
from behave import given, then

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import host, ownership, status, supervise
from build_scripts.cluster import options as cluster_options
from build_scripts.core import daemon, paths

# --- the cluster ------------------------------------------------------------------------------


@given("the local cluster is up")
def step_cluster_up(context):
    # Tasks put the engine's bin dir (kubectl) on PATH; so do we, for the commands we run.
    context.env_overrides["PATH"] = os.pathsep.join(
        [os.environ.get("PATH", ""), str(paths.bin_dir())]
    )
    started = time.monotonic()
    result = run(context, ["invoke", "cluster.up"])
    assert result.returncode == 0, shown(result, limit=6000)
    context.cluster_up_seconds = time.monotonic() - started
    context.kube = None


@then("the node is Ready")
def step_node_ready(context):
    node = next(iter(cluster_api(context).get("nodes")))
    conditions = {c["type"]: c["status"] for c in node.raw["status"]["conditions"]}
    assert conditions.get("Ready") == "True", node.raw["status"]


@then("every component of the cluster is running")
def step_every_component_running(context):
    result = status.status(cluster_options.ClusterOptions(state_dir=cluster_layout().root))
    assert result.healthy, status.format_status(result)


@given('the cluster component "{name}" has crashed')
def step_component_crashed(context, name):
    layout = cluster_layout()
    pid = supervise.running_pid(layout, name)
    assert pid is not None, f"{name} is not running"
    # SIGKILL, so nothing is cleaned up: the pid file stays, as after a real crash.
    os.kill(pid, 9)
    wait_until(f"{name} to die", lambda: supervise.running_pid(layout, name) is None, 30)


@then('the output shows the last line of the "{name}" log')
def step_output_shows_log_tail(context, name):
    last = daemon.log_tail(cluster_layout().log(name), 1)
    assert last, f"the {name} log is empty"
    assert f"| {last[0]}" in context.result.stdout, shown(context.result, limit=6000)


@then("no process of the local cluster is left")
def step_no_cluster_process(context):
    layout = cluster_layout()
    bin_dir = paths.cache_dir() / "kubernetes"
    survivors = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = daemon.cmdline(int(entry.name))
        if not argv:
            continue  # gone, or a zombie waiting to be reaped
        ours = argv[0].startswith(str(bin_dir)) or any(str(layout.root) in a for a in argv)
        try:
            cgroups = (entry / "cgroup").read_text()
        except OSError:
            cgroups = ""
        in_pods = any(f":{ownership.CGROUP_ROOT}/" in line for line in cgroups.splitlines())
        if ours or in_pods:
            survivors.append(f"{entry.name}: {' '.join(argv)}")
    assert not survivors, "\n".join(survivors)
    result = status.status(cluster_options.ClusterOptions(state_dir=layout.root))
    assert {c.state for c in result.components} == {"stopped"}, status.format_status(result)


@then("nothing is mounted under the cluster's state directory")
def step_nothing_mounted(context):
    root = cluster_layout().root
    mounts = host.mounts_under(root) if root.exists() else []
    assert not mounts, "\n".join(mounts)


@then("the cluster's state directory is gone")
def step_state_gone(context):
    assert not cluster_layout().root.exists(), sorted(os.listdir(cluster_layout().root))


@then('the user\'s kubeconfig has no "{name}" context')
def step_no_context(context, name):
    import yaml

    path = Path.home() / ".kube" / "config"
    if not path.exists():
        return
    config = yaml.safe_load(path.read_text()) or {}
    names = [c.get("name") for c in config.get("contexts") or []]
    assert name not in names, names


@given('the cluster program "{name}" is owned by another user')
def step_program_owned_by_another_user(context, name):
    program = cluster_build.kubernetes_dir() / "bin" / name
    before = program.stat()
    os.chown(program, 1000, 1000)
    context.add_cleanup(os.chown, program, before.st_uid, before.st_gid)
