"""TraderAdmin's deployable components and the names of their images: images/ builds them,
kube/ deploys them, cluster/ imports them."""

from __future__ import annotations

from build_scripts.core.metadata import Release

COMPONENTS = ("backend", "orchestrator")
# The non-root user every image runs as (distroless' "nonroot"); the manifests' securityContext
# and the base-image recipe name the same uid.
RUNTIME_UID = 65532


def image_name(release: Release, component: str) -> str:
    return f"{release.image_prefix}/{component}"


def image_reference(release: Release, component: str, registry: str | None = None) -> str:
    """<prefix>/<component>:<version tag>, behind `registry/` when one is given."""
    name = f"{image_name(release, component)}:{release.image_tag}"
    return f"{registry.rstrip('/')}/{name}" if registry else name
