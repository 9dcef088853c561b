"""deploy.*: the day-2 tasks on a deployed release (status, logs, undeploy, backup, restore);
tasks/deploy.py puts them in the `deploy` collection beside apply, render, validate, diff."""

from __future__ import annotations

import sys
from pathlib import Path

from build_scripts.core import metadata
from build_scripts.core.components import COMPONENTS
from build_scripts.core.errors import ConfigError
from build_scripts.core.progress import say, step
from build_scripts.kube import backup as backups
from build_scripts.kube import logs as pod_logs
from build_scripts.kube import status as release_status
from build_scripts.kube import target as kube_target
from build_scripts.kube import undeploy as undeploying
from build_scripts.ship import environment as environment_values
from build_scripts.tasks._base import release_task

HELP = {
    "environment": "values from deploy/environments/<name>.yaml (default: local)",
    "version": "release version (SemVer); default: this checkout's",
    "context": "kubeconfig context (default: from invoke config)",
    "kubeconfig": "kubeconfig file (default: from invoke config)",
}
TARGET_HELP = {k: HELP[k] for k in ("environment", "context", "kubeconfig")}


def target_of(c, context, kubeconfig) -> kube_target.Target:
    cfg = c.config.deploy
    return kube_target.Target(kubeconfig or cfg.kubeconfig, context or cfg.context)


def release_of(c, version) -> metadata.Release:
    return metadata.current_release(version or c.config.release.version)


def ask(question: str) -> bool:
    """--confirm's question, answered on the terminal."""
    if not sys.stdin.isatty():
        raise ConfigError("--confirm needs a terminal to answer on", "run it interactively")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _values(environment: str | None, c) -> dict:
    return environment_values.load_values(environment or c.config.deploy.environment)


@release_task(help=TARGET_HELP)
def status(c, environment=None, context=None, kubeconfig=None):
    """Each workload: version, ready/desired, restarts, rollout state, last event."""
    api = target_of(c, context, kubeconfig).api()
    rows = release_status.release_status(api, _values(environment, c)["namespace"])
    print(release_status.table(rows) if rows else "nothing deployed")


@release_task(
    help={
        **TARGET_HELP,
        "component": "backend or orchestrator (repeatable; default: both)",
        "follow": "keep streaming new lines",
        "tail": "lines of history per pod",
    },
    iterable=["component"],
)
def logs(
    c, environment=None, context=None, kubeconfig=None, component=None, follow=False, tail=100
):
    """Log lines of the release's pods, prefixed with the pod name."""
    unknown = [x for x in component or [] if x not in COMPONENTS]
    if unknown:
        raise ConfigError(f"unknown component {unknown[0]!r}", f"choose: {', '.join(COMPONENTS)}")
    api = target_of(c, context, kubeconfig).api()
    namespace = _values(environment, c)["namespace"]
    pod_logs.show_logs(api, namespace, list(component or COMPONENTS), follow=follow, tail=int(tail))


@release_task(help={**TARGET_HELP, "delete_data": "also delete the volume claim and Secrets"})
def undeploy(c, environment=None, context=None, kubeconfig=None, delete_data=False):
    """Remove the release's workloads; the data volume and Secrets stay unless --delete-data."""
    api = target_of(c, context, kubeconfig).api()
    namespace = _values(environment, c)["namespace"]
    with step(f"undeploy from {namespace}"):
        for item in undeploying.undeploy(api, namespace, delete_data=delete_data):
            say(f"  removed {item}")


@release_task(help={**TARGET_HELP, "directory": "where the archive goes (default: backups/)"})
def backup(c, environment=None, context=None, kubeconfig=None, directory="backups"):
    """Archive the configuration and audit log to a timestamped local .tar.gz."""
    values = _values(environment, c)
    api = target_of(c, context, kubeconfig).api()
    with step("backup"):
        archive = backups.backup(
            api, values["namespace"], Path(directory), values["admin_token_secret"]
        )
    print(archive)


@release_task(help={**TARGET_HELP, "archive": "a file written by deploy.backup"})
def restore(c, archive, environment=None, context=None, kubeconfig=None):
    """Put an archived configuration back; verified by its ETag."""
    values = _values(environment, c)
    api = target_of(c, context, kubeconfig).api()
    with step(f"restore {archive}"):
        etag = backups.restore(
            api, values["namespace"], Path(archive), values["admin_token_secret"]
        )
    say(f"configuration restored: ETag {etag}, as in the backup")
