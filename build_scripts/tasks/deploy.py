"""deploy: render the Kubernetes manifests for a release and roll them out to a cluster."""

from __future__ import annotations

from invoke import Collection

from build_scripts.cluster import images as cluster_images
from build_scripts.core import metadata
from build_scripts.core.components import COMPONENTS
from build_scripts.core.progress import say, step
from build_scripts.kube import deploy as deploying
from build_scripts.kube import manifests
from build_scripts.tasks._base import release_task

HELP = {
    "environment": "values from deploy/environments/<name>.yaml (default: local)",
    "version": "release version (SemVer); default: this checkout's",
    "context": "kubeconfig context (default: from invoke config)",
    "kubeconfig": "kubeconfig file (default: from invoke config)",
}


def _target(c, context, kubeconfig) -> deploying.Target:
    cfg = c.config.deploy
    return deploying.Target(kubeconfig or cfg.kubeconfig, context or cfg.context)


@release_task(help={**HELP, "timeout": "seconds to wait for every pod to be Ready"}, default=True)
def apply(c, environment=None, version=None, context=None, kubeconfig=None, timeout=180):
    """Render the manifests, apply them, and wait until every pod is Running and Ready."""
    environment = environment or c.config.deploy.environment
    release = metadata.current_release(version or c.config.release.version)
    path = manifests.write(release, environment)
    target = _target(c, context, kubeconfig)
    api = target.api()
    with step(f"deploy {release.version_text} to {target.describe()}"):
        values = manifests.load_values(environment)
        if values.get("load_images_into_local_cluster"):
            cluster_images.load_release_images(release, COMPONENTS)
        namespace = deploying.ensure_namespace(api, path)
        for role, key in manifests.TOKEN_SECRET_VALUES.items():
            if deploying.ensure_token_secret(api, namespace, values[key]):
                say(f"  created Secret {namespace}/{values[key]} with a new {role} token")
        deploying.apply_manifests(target, path)
        deploying.wait_until_ready(api, path, float(timeout))


@release_task(help={k: HELP[k] for k in ("environment", "version")})
def render(c, environment=None, version=None):
    """Write dist/<version>/deploy/<environment>.yaml from deploy/templates."""
    environment = environment or c.config.deploy.environment
    release = metadata.current_release(version or c.config.release.version)
    print(manifests.write(release, environment))


ns = Collection(apply, render)
ns.configure(
    {"deploy": {"environment": "local", "context": "traderadmin-local", "kubeconfig": None}}
)
