"""The cluster a deploy talks to, and the objects a deploy makes before applying: the
namespace and the API token Secret. (The pods' states are kube/status.py.)

The Kubernetes API is used through kr8s. kr8s has no server-side apply, so that one call goes
through the one kubectl wrapper (kube/apply.py). Judging the rollout is kube/rollout.py and
kube/wait.py; the whole sequence is kube/release_deploy.py.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from build_scripts.core import on_first_use
from build_scripts.core.errors import ReleaseError
from build_scripts.kube.apply import server_side_apply
from build_scripts.kube.manifests import RenderedManifests

kr8s = on_first_use.module("kr8s")
kr8s_objects = on_first_use.module("kr8s.objects")

FIELD_MANAGER = "traderadmin-release"


@dataclass(frozen=True)
class Target:
    """Which cluster: a kubeconfig file (None: the default) and a context in it."""

    kubeconfig: str | None
    context: str | None

    def api(self) -> kr8s.Api:
        try:
            return kr8s.api(kubeconfig=self.kubeconfig, context=self.context)
        except Exception as exc:  # kr8s raises several unrelated types for a bad kubeconfig
            raise ReleaseError(
                f"cannot reach the cluster ({self.describe()}): {exc}",
                "is it running? for the local one: invoke cluster.up",
            ) from exc

    def kubectl_args(self) -> list[str]:
        args = []
        if self.kubeconfig:
            args += ["--kubeconfig", self.kubeconfig]
        if self.context:
            args += ["--context", self.context]
        return args

    def describe(self) -> str:
        return f"context {self.context or '(current)'} in {self.kubeconfig or '~/.kube/config'}"


def ensure_namespace(api: kr8s.Api, manifests: RenderedManifests) -> str:
    """Create the namespace from the manifests if it does not exist yet; return its name."""
    name = manifests.namespace()
    spec = next(d for d in manifests.documents if d["kind"] == "Namespace")
    namespace = kr8s_objects.Namespace(spec, api=api)
    if not namespace.exists():
        namespace.create()
    return name


def ensure_token_secret(api: kr8s.Api, namespace: str, name: str) -> bool:
    """One API role's token Secret (key `token`); generated once, never overwritten, so a
    token an operator set or rotated stays. Returns whether it was created."""
    secret = kr8s_objects.Secret(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque",
            "data": {"token": base64.b64encode(secrets.token_urlsafe(32).encode()).decode()},
        },
        api=api,
    )
    if secret.exists():
        return False
    secret.create()
    return True


def apply_manifests(target: Target, manifests: RenderedManifests) -> None:
    server_side_apply(
        manifests.path, field_manager=FIELD_MANAGER, kubectl_args=target.kubectl_args()
    )
