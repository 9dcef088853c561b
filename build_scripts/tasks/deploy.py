"""deploy: render, validate, diff and roll out a release to a cluster; day-2 tasks."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from invoke import Collection

from build_scripts.bundle import deploy as bundle_deploy
from build_scripts.cluster import image_digests
from build_scripts.cluster import images as cluster_images
from build_scripts.core import atomic, metadata
from build_scripts.core.components import COMPONENTS, image_reference
from build_scripts.core.errors import ConfigError
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say, step
from build_scripts.images import transfer
from build_scripts.kube import backup as backups
from build_scripts.kube import deploy as deploying
from build_scripts.kube import deployed, manifests, release_deploy
from build_scripts.kube import logs as pod_logs
from build_scripts.kube import status as release_status
from build_scripts.kube import undeploy as undeploying
from build_scripts.tasks._base import release_task

HELP = {
    "environment": "values from deploy/environments/<name>.yaml (default: local)",
    "version": "release version (SemVer); default: this checkout's",
    "context": "kubeconfig context (default: from invoke config)",
    "kubeconfig": "kubeconfig file (default: from invoke config)",
}
TARGET_HELP = {k: HELP[k] for k in ("environment", "context", "kubeconfig")}


def _target(c, context, kubeconfig) -> deploying.Target:
    cfg = c.config.deploy
    return deploying.Target(kubeconfig or cfg.kubeconfig, context or cfg.context)


def _release(c, version) -> Release:
    return metadata.current_release(version or c.config.release.version)


def _where(values: dict) -> str:
    """Where the images come from: the local cluster's containerd, or a registry."""
    if values.get("load_images_into_local_cluster"):
        return "local"
    return values.get("image_registry") or ""


def _import_local_images(release: Release, components: tuple[str, ...]) -> dict[str, str]:
    """Copy the release's images into the local cluster (those it does not hold yet); record
    and return the digests containerd holds for them."""
    from python_on_whales import DockerException, docker

    digests = {}
    for component in components:
        reference = image_reference(release, component)
        try:
            image_id = docker.image.inspect(reference).id
        except DockerException as exc:
            raise ConfigError(
                f"there is no image {reference} in Docker",
                f"build it first: invoke images.build --version {release.version_text}",
            ) from exc
        digest = image_digests.digest_if_current(reference, image_id)
        if digest:
            say(f"  {reference}: already in the cluster as {digest[:19]}")
        else:
            cluster_images.import_docker_image(reference)
            digest = image_digests.imported_digest(reference)
        image_digests.name_by_digest(reference, digest)
        digests[component] = digest
    if digests:
        deployed.record_image_digests(release, "local", digests)
    return digests


def _deploy_digests(
    release: Release, values: dict, environment: str, overridden: dict[str, str]
) -> dict[str, str]:
    """The digests deploy pins: of the imported images (local) or of the pushed ones."""
    wanted = tuple(c for c in COMPONENTS if c not in overridden)
    where = _where(values)
    if where == "local":
        return _import_local_images(release, wanted)
    digests = deployed.recorded_image_digests(release, where)
    missing = [c for c in wanted if c not in digests]
    if missing:
        raise ConfigError(
            f"no pushed digest of {', '.join(missing)} {release.version_text} for registry "
            f"{where!r} (environment {environment}) in {deployed.deploy_dir(release)}",
            f"push the images first: invoke images.push --registry {where}",
        )
    return digests


def _ask_before_any_change(
    release: Release,
    environment: str,
    values: dict,
    overrides: dict[str, str],
    target: deploying.Target,
    options: release_deploy.Options,
) -> None:
    """--confirm: the preview and the question come before the images are imported."""
    from python_on_whales import DockerException, docker

    known, pending = {}, []
    wanted = tuple(c for c in COMPONENTS if c not in overrides)
    if _where(values) == "local":
        for component in wanted:
            reference = image_reference(release, component)
            try:
                image_id = docker.image.inspect(reference).id
            except DockerException:
                continue  # _deploy_digests says how to build it
            digest = image_digests.digest_if_current(reference, image_id)
            if digest:
                known[component] = digest
            else:
                pending.append(f"import the image {reference} into the local cluster")
    else:
        known = deployed.recorded_image_digests(release, _where(values))
    with tempfile.TemporaryDirectory(prefix="traderadmin-preview-") as scratch:
        path = manifests.write(release, environment, known, overrides, to=Path(scratch) / "m.yaml")
        release_deploy.ask_first(
            target.api(),
            target,
            path,
            {role: values[key] for role, key in manifests.TOKEN_SECRET_VALUES.items()},
            options.confirm,
            before=pending,
        )


def _pinned(release: Release, environment: str) -> str:
    """The manifests pinned to the digests recorded so far (by tag if there are none)."""
    values = manifests.load_values(environment)
    digests = deployed.recorded_image_digests(release, _where(values)) or None
    return manifests.render(release, environment, digests)


def _render(release: Release, environment: str, to: Path | None = None) -> Path:
    """_pinned, written beside the release (kube/deployed.py), never into its folder."""
    path = to or deployed.manifests_path(release, environment)
    return atomic.write_text(path, _pinned(release, environment))


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        raise ConfigError("--confirm needs a terminal to answer on", "run it interactively")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


@release_task(
    help={
        **HELP,
        "timeout": "seconds the whole rollout may take (default: deploy.timeout in config)",
        "rollback": "roll the release back if a Deployment fails (--no-rollback keeps it)",
        "confirm": "show the server-side diff and ask before applying",
        "image": "COMPONENT=REFERENCE: run this image as given for a component (already on the "
        "nodes or in the registry: not imported, not pinned); repeatable",
        "bundle": "deploy from this …-bundle.tar alone (verified first; no Docker needed)",
        "registry": "with --bundle: push its images to HOST:PORT and pull them from there",
        "public-key": "with --bundle: the release signing key's public half",
        "allow-unsigned": "with --bundle: accept it unsigned (checksums and digests still checked)",
    },
    iterable=["image"],
    default=True,
)
def apply(
    c,
    environment=None,
    version=None,
    context=None,
    kubeconfig=None,
    timeout=None,
    rollback=True,
    confirm=False,
    image=None,
    bundle=None,
    registry=None,
    public_key=None,
    allow_unsigned=False,
):
    """Validate, apply and judge the rollout; a failed release is rolled back as a whole."""
    environment = environment or c.config.deploy.environment
    options = release_deploy.Options(
        timeout=float(timeout or c.config.deploy.timeout),
        readiness_bound=float(c.config.deploy.readiness_bound),
        rollback=rollback,
        confirm=_ask if confirm else None,
    )
    if bundle:
        if image or version:
            raise ConfigError("--bundle deploys exactly the bundle: no --image, no --version")
        bundle_deploy.deploy_bundle(
            bundle_deploy.Request(
                Path(bundle),
                environment,
                transfer.parse_registry(registry) if registry else None,
                Path(public_key) if public_key else None,
                allow_unsigned,
            ),
            _target(c, context, kubeconfig),
            options,
        )
        return
    if registry or public_key or allow_unsigned:
        raise ConfigError("--registry, --public-key and --allow-unsigned go with --bundle")
    release = _release(c, version)
    values = manifests.load_values(environment)
    overrides = manifests.parse_image_overrides(image, COMPONENTS)
    target = _target(c, context, kubeconfig)
    api = target.api()
    token_secrets = {role: values[key] for role, key in manifests.TOKEN_SECRET_VALUES.items()}
    with step(f"deploy {release.version_text} to {target.describe()}"):
        if options.confirm is not None:
            _ask_before_any_change(release, environment, values, overrides, target, options)
        digests = _deploy_digests(release, values, environment, overrides)
        path = manifests.write(
            release,
            environment,
            digests,
            overrides,
            to=deployed.manifests_path(release, environment),
        )
        release_deploy.deploy(
            api,
            target,
            path,
            token_secrets=token_secrets,
            release_version=release.version_text,
            options=options,
        )


@release_task(
    help={
        **{k: HELP[k] for k in ("environment", "version")},
        "output": "write the manifests to this file, - for standard output "
        "(default: the release's deploy state folder; the path is printed)",
    }
)
def render(c, environment=None, version=None, output=None):
    """Render deploy/templates for an environment, pinned to the digests recorded so far."""
    environment = environment or c.config.deploy.environment
    release = _release(c, version)
    if output == "-":
        sys.stdout.write(_pinned(release, environment))
        return
    print(_render(release, environment, Path(output) if output else None))


@release_task(help={**HELP, "offline": "only the schema check, even if a cluster is reachable"})
def validate(c, environment=None, version=None, context=None, kubeconfig=None, offline=False):
    """Check the manifests against the Kubernetes schema, and by a server-side dry run."""
    environment = environment or c.config.deploy.environment
    path = _render(_release(c, version), environment)
    schema = release_deploy.check_offline(path)
    say(f"✓ {path}: every object matches the Kubernetes {schema} schema")
    if offline:
        return
    target = _target(c, context, kubeconfig)
    try:
        api = target.api()
        namespaces = {n.name for n in api.get("namespaces")}
    except Exception as exc:  # unreachable cluster: the offline check is what we can do
        say(f"no server-side dry run: cluster not reachable ({str(exc).splitlines()[0]})")
        return
    namespace = manifests.load_values(environment)["namespace"]
    if namespace not in namespaces:
        say(f"no server-side dry run: namespace {namespace} does not exist yet (deploy makes it)")
        return
    release_deploy.dry_run(target, path)
    say(f"✓ {path}: the API server admits every object (server-side dry run)")


@release_task(help={**HELP})
def diff(c, environment=None, version=None, context=None, kubeconfig=None):
    """Show what `deploy` would change on the cluster (server-side diff)."""
    environment = environment or c.config.deploy.environment
    path = _render(_release(c, version), environment)
    changes = release_deploy.diff(_target(c, context, kubeconfig), path)
    print(changes or "no changes: the cluster already matches the manifests")


def _namespace(environment: str | None, c) -> str:
    return manifests.load_values(environment or c.config.deploy.environment)["namespace"]


@release_task(help=TARGET_HELP)
def status(c, environment=None, context=None, kubeconfig=None):
    """Each workload: version, ready/desired, restarts, rollout state, last event."""
    api = _target(c, context, kubeconfig).api()
    rows = release_status.release_status(api, _namespace(environment, c))
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
    api = _target(c, context, kubeconfig).api()
    pod_logs.show_logs(
        api,
        _namespace(environment, c),
        list(component or COMPONENTS),
        follow=follow,
        tail=int(tail),
    )


@release_task(help={**TARGET_HELP, "delete_data": "also delete the volume claim and Secrets"})
def undeploy(c, environment=None, context=None, kubeconfig=None, delete_data=False):
    """Remove the release's workloads; the data volume and Secrets stay unless --delete-data."""
    api = _target(c, context, kubeconfig).api()
    namespace = _namespace(environment, c)
    with step(f"undeploy from {namespace}"):
        for item in undeploying.undeploy(api, namespace, delete_data=delete_data):
            say(f"  removed {item}")


@release_task(help={**TARGET_HELP, "directory": "where the archive goes (default: backups/)"})
def backup(c, environment=None, context=None, kubeconfig=None, directory="backups"):
    """Archive the configuration and audit log to a timestamped local .tar.gz."""
    values = manifests.load_values(environment or c.config.deploy.environment)
    api = _target(c, context, kubeconfig).api()
    with step("backup"):
        archive = backups.backup(
            api, values["namespace"], Path(directory), values["admin_token_secret"]
        )
    print(archive)


@release_task(help={**TARGET_HELP, "archive": "a file written by deploy.backup"})
def restore(c, archive, environment=None, context=None, kubeconfig=None):
    """Put an archived configuration back; verified by its ETag."""
    values = manifests.load_values(environment or c.config.deploy.environment)
    api = _target(c, context, kubeconfig).api()
    with step(f"restore {archive}"):
        etag = backups.restore(
            api, values["namespace"], Path(archive), values["admin_token_secret"]
        )
    say(f"configuration restored: ETag {etag}, as in the backup")


ns = Collection(apply, render, validate, diff, status, logs, undeploy, backup, restore)
ns.configure(
    {
        "deploy": {
            "environment": "local",
            "context": "traderadmin-local",
            "kubeconfig": None,
            "timeout": 180,
            # Seconds a container may run without ever passing readiness before deploy fails.
            "readiness_bound": release_deploy.READINESS_BOUND_SECONDS,
        }
    }
)
