"""deploy: render, validate, diff and roll out a release to a cluster; day-2 tasks."""

from __future__ import annotations

import sys
from pathlib import Path

from invoke import Collection

from build_scripts.bundle import image_source as bundle_source
from build_scripts.core.errors import ConfigError
from build_scripts.images import transfer
from build_scripts.kube import release_deploy
from build_scripts.ship import release as shipping
from build_scripts.tasks import operate
from build_scripts.tasks._base import release_task
from build_scripts.tasks.operate import HELP, ask, release_of, target_of


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
        confirm=ask if confirm else None,
    )
    target = target_of(c, context, kubeconfig)
    if bundle:
        if image or version:
            raise ConfigError("--bundle deploys exactly the bundle: no --image, no --version")
        key = Path(public_key) if public_key else None
        hub = transfer.parse_registry(registry) if registry else None
        request = bundle_source.Request(Path(bundle), environment, hub, key, allow_unsigned)
        bundle_source.deploy_bundle(request, target, options)
    elif registry or public_key or allow_unsigned:
        raise ConfigError("--registry, --public-key and --allow-unsigned go with --bundle")
    else:
        shipping.deploy_release(release_of(c, version), environment, image, target, options)


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
    release = release_of(c, version)
    if output == "-":
        sys.stdout.write(shipping.pinned_text(release, environment))
        return
    print(shipping.write_pinned(release, environment, Path(output) if output else None).path)


@release_task(help={**HELP, "offline": "only the schema check, even if a cluster is reachable"})
def validate(c, environment=None, version=None, context=None, kubeconfig=None, offline=False):
    """Check the manifests against the Kubernetes schema, and by a server-side dry run."""
    environment = environment or c.config.deploy.environment
    target = None if offline else target_of(c, context, kubeconfig)
    shipping.validate(release_of(c, version), environment, target)


@release_task(help={**HELP})
def diff(c, environment=None, version=None, context=None, kubeconfig=None):
    """Show what `deploy` would change on the cluster (server-side diff)."""
    environment = environment or c.config.deploy.environment
    changes = shipping.diff(release_of(c, version), environment, target_of(c, context, kubeconfig))
    print(changes or "no changes: the cluster already matches the manifests")


day2 = (operate.status, operate.logs, operate.undeploy, operate.backup, operate.restore)
ns = Collection(apply, render, validate, diff, *day2)
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
