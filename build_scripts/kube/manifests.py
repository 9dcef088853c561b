"""Kubernetes manifests: Jinja2 templates in deploy/templates, rendered for one release with
an environment's values (deploy/environments/<name>.yaml, loaded by ship/environment.py and
handed in) into dist/<version>/deploy/<name>.yaml.

Values that must agree across manifests (namespace, the non-root uid, labels, the image
reference with the release's tag) are computed here once, so templates stay declarative.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from build_scripts.core import atomic, paths
from build_scripts.core.components import COMPONENTS, RUNTIME_UID, image_reference
from build_scripts.core.errors import ConfigError, ReleaseError
from build_scripts.core.metadata import Release

TEMPLATES = (
    "namespace.yaml.j2",
    "backend.yaml.j2",
    "orchestrator.yaml.j2",
    "networkpolicy.yaml.j2",
)
REQUIRED_VALUES = (
    "namespace",
    "image_pull_policy",
    "admin_token_secret",
    "orchestrator_token_secret",
    "progress_deadline_seconds",
    "dns",
    "admin_ingress",
    "backend",
    "orchestrator",
)
# The Secret of each API role, by the value naming it.
TOKEN_SECRET_VALUES = {"admin": "admin_token_secret", "orchestrator": "orchestrator_token_secret"}
# Pod-template annotation with the image id (config digest) the release built: a new image
# under the same tag is a new pod template, so it rolls out.
IMAGE_ID_ANNOTATION = "traderadmin.io/image-id"


# What the release reads here (release/code_inputs.py): the manifest templates and values.
RELEASE_READS = ("deploy",)


# Every pod of the release runs under Pod Security `restricted`, as the images' non-root user
# (RUNTIME_UID); the scenarios' own pods copy these from here.
POD_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": RUNTIME_UID,
    "runAsGroup": RUNTIME_UID,
    "fsGroup": RUNTIME_UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


@dataclass(frozen=True)
class RenderedManifests:
    """One environment's manifests as rendered: the file kubectl takes (`-f FILE`: server-side
    apply, its dry run, the diff) and its objects, parsed once where they were rendered (or,
    for a bundle's, read: kube/release_deploy.read_manifests). A deploy's checks and steps use
    these objects; none reads the file again."""

    path: Path
    documents: tuple[dict, ...]

    def namespace(self) -> str:
        spec = next((d for d in self.documents if d["kind"] == "Namespace"), None)
        if spec is None:
            raise ReleaseError(f"{self.path} has no Namespace")
        return spec["metadata"]["name"]

    def deployments(self) -> list[str]:
        return [d["metadata"]["name"] for d in self.documents if d["kind"] == "Deployment"]


def deploy_dir() -> Path:
    return paths.repo_root() / "deploy"


def _flow(value: object) -> str:
    """A value as a one-line YAML flow mapping (JSON is YAML)."""
    return json.dumps(value, sort_keys=False)


def pinned_image(
    release: Release,
    component: str,
    registry: str | None,
    digests: dict[str, str] | None,
    overrides: dict[str, str] | None = None,
) -> str:
    """The image reference, pinned to the digest deploy was given (`name:tag@sha256:…`).

    An override (deploy --image COMPONENT=REFERENCE) is used exactly as given.
    """
    if overrides and component in overrides:
        return overrides[component]
    reference = image_reference(release, component, registry)
    digest = (digests or {}).get(component)
    return f"{reference}@{digest}" if digest else reference


def render(
    release: Release,
    environment: str,
    values: dict,
    digests: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    image_ids: dict[str, str] | None = None,
) -> str:
    """All manifests of one environment as one multi-document YAML text, validated.

    digests (component -> sha256:…) pin the images; without them images are named by tag.
    image_ids (component -> Docker image id) go into each pod template's annotation.
    values: the environment's (ship/environment.py loads them, once per deploy).
    """
    return _render(release, environment, values, digests, overrides, image_ids)[0]


def _render(
    release: Release,
    environment: str,
    values: dict,
    digests: dict[str, str] | None,
    overrides: dict[str, str] | None,
    image_ids: dict[str, str] | None,
) -> tuple[str, list[dict]]:
    """The text and its objects (parsed once, by validate)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(deploy_dir() / "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )

    def labels(component: str) -> str:
        return _flow(
            {
                "app.kubernetes.io/name": component,
                "app.kubernetes.io/part-of": "traderadmin",
                "app.kubernetes.io/version": release.image_tag,
            }
        )

    context = {
        **values,
        "storage_class": values.get("storage_class"),
        "labels": labels,
        "image": lambda c: pinned_image(
            release, c, values.get("image_registry"), digests, overrides
        ),
        "image_id": lambda c: (image_ids or {}).get(c, ""),
        "image_annotations": lambda c: _flow({IMAGE_ID_ANNOTATION: (image_ids or {})[c]}),
        "dns": {**values["dns"], "pod_labels": _flow(values["dns"]["pod_labels"])},
        "admin_ingress": _flow(values["admin_ingress"]) if values["admin_ingress"] else "",
        "pod_security_context": _flow(POD_SECURITY_CONTEXT),
        "container_security_context": _flow(CONTAINER_SECURITY_CONTEXT),
    }
    for component in COMPONENTS:
        context[component] = {
            **values[component],
            "resources": _flow(values[component]["resources"]),
        }
    parts = []
    for name in TEMPLATES:
        try:
            parts.append(env.get_template(name).render(**context))
        except jinja2.UndefinedError as exc:
            raise ConfigError(
                f"deploy/templates/{name}: {exc.message}",
                f"add the value to deploy/environments/{environment}.yaml",
            ) from exc
    text = "---\n".join(parts)
    documents = validate(text)
    pinning = "images pinned by digest" if digests else "images by tag (no digests given)"
    if image_ids:
        pinning += f", image ids in {IMAGE_ID_ANNOTATION}"
    header = (
        f"# TraderAdmin {release.version_text} ({release.commit[:12]}), environment "
        f"{environment}: {len(documents)} objects, {pinning}. Generated by `invoke deploy`.\n"
    )
    return header + text, documents


def validate(text: str) -> list[dict]:
    """Parse the rendered YAML and check every object has what the API server requires."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as exc:
        raise ConfigError(f"rendered manifests are not valid YAML: {exc}".splitlines()[0]) from exc
    for doc in documents:
        for key in ("apiVersion", "kind", "metadata"):
            if key not in doc:
                raise ConfigError(f"a rendered manifest lacks {key}: {str(doc)[:80]}")
        if "name" not in doc["metadata"]:
            raise ConfigError(f"a rendered {doc['kind']} has no metadata.name")
    return documents


def manifests_path(release: Release, environment: str) -> Path:
    return release.dist_dir / "deploy" / f"{environment}.yaml"


def write_rendered(
    release: Release,
    environment: str,
    values: dict,
    digests: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    image_ids: dict[str, str] | None = None,
    to: Path | None = None,
) -> RenderedManifests:
    """The manifests of one environment written to `to`, or into the release folder (the release
    step), with the objects as they were parsed when rendered (a deploy's input)."""
    text, documents = _render(release, environment, values, digests, overrides, image_ids)
    path = atomic.write_text(to or manifests_path(release, environment), text)
    return RenderedManifests(path, tuple(documents))


def parse_image_overrides(items: list[str] | None, components: tuple[str, ...]) -> dict[str, str]:
    """`COMPONENT=REFERENCE` items (deploy --image) as a dict; bad input is a ConfigError."""
    overrides = {}
    for item in items or []:
        component, _, reference = item.partition("=")
        if component not in components or not reference.strip():
            raise ConfigError(
                f"invalid --image {item!r}",
                f"give COMPONENT=REFERENCE with COMPONENT one of: {', '.join(components)}",
            )
        overrides[component] = reference.strip()
    return overrides
