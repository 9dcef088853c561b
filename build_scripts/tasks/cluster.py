"""cluster.up, cluster.down, cluster.status: the local single-node Kubernetes cluster."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from build_scripts.cluster import background_build
from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import lifecycle as cluster
from build_scripts.cluster import options as cluster_options
from build_scripts.cluster import status as cluster_status
from build_scripts.cluster.config import CONTEXT, COREDNS_VERSION
from build_scripts.core.progress import format_seconds, say
from build_scripts.tasks._base import release_task


def _options(c) -> cluster_options.ClusterOptions:
    settings = c.config.cluster
    return cluster_options.ClusterOptions(
        state_dir=Path(settings.state_dir).expanduser()
        if settings.state_dir
        else cluster_options.default_state_dir(),
        kubernetes_version=settings.kubernetes_version,
        coredns_version=settings.coredns_version,
        node_ip=settings.node_ip or None,
        merge_kubeconfig=bool(settings.merge_kubeconfig),
        timeout=float(settings.timeout),
        build_jobs=int(settings.build_jobs),
    )


@release_task
def up(c):
    """Start the local Kubernetes cluster (builds the binaries once; idempotent)."""
    options = _options(c)
    result = cluster.up(options)
    say(
        f"cluster up in {format_seconds(result.seconds_total)} "
        f"(node Ready after {format_seconds(result.seconds_to_node_ready)}); "
        f"started: {', '.join(result.started) or 'nothing'}; "
        f"already running: {', '.join(result.already_running) or 'nothing'}"
    )
    if options.merge_kubeconfig:
        say(f"context {CONTEXT} merged into {options.kubeconfig_path}")
    say(f"export KUBECONFIG={result.kubeconfig}")
    say(f"kubectl: {cluster_build.paths.bin_dir() / 'kubectl'}")


@release_task(
    help={
        "background": "start the build detached and return at once (log in the cluster's state "
        "folder); a later cluster.up waits for it"
    }
)
def build(c, background=False):
    """Build every program the local cluster runs (once per version), without starting it."""
    options = _options(c)
    if background:
        pid, log = background_build.build_in_background(options)
        say(f"building the cluster's programs in the background: pid {pid}, log {log}")
        return
    toolset, _, _ = cluster.build_programs(options)
    say(f"the cluster's programs are in {toolset.bin_dir.parent}")


@release_task(help={"wipe": "also delete all cluster state (etcd data, volumes, certificates)"})
def down(c, wipe=False):
    """Stop every process the cluster started (by pid); --wipe also removes its state."""
    result = cluster.down(_options(c), wipe=wipe)
    for name, what in result.stopped.items():
        say(f"  {name:<24} {what}")
    if result.leftovers_killed:
        say(f"  killed leftover processes: {result.leftovers_killed}")
    say("cluster down" + (", state wiped" if result.wiped else ""))


@release_task
def status(c):
    """Show each cluster process (running/crashed with its log tail) and node/DNS readiness."""
    result = cluster_status.status(_options(c))
    say(cluster_status.format_status(result))
    cluster_status.require_healthy(result)


ns = Collection(up, down, status, build)
ns.configure(
    {
        "cluster": {
            # Default: <cache>/state/cluster (TRADERADMIN_CACHE moves the cache).
            "state_dir": None,
            "kubernetes_version": cluster_build.KUBERNETES_VERSION,
            "coredns_version": COREDNS_VERSION,
            # Default: the address of the interface holding the default route.
            "node_ip": None,
            # Add the traderadmin-local context to ~/.kube/config (removed again by down --wipe).
            "merge_kubeconfig": True,
            "timeout": 180,
            "build_jobs": cluster_build.BUILD_JOBS,
        }
    }
)
