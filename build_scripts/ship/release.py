"""Shipping the release this checkout builds (or --version): its images from the local Docker
engine or the environment's registry, its manifests rendered from deploy/templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from build_scripts.core.components import COMPONENTS
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.kube import deploy_records, manifests, release_deploy
from build_scripts.kube import target as kube_target
from build_scripts.kube.manifests import RenderedManifests
from build_scripts.ship import environment as environment_values
from build_scripts.ship import images
from build_scripts.ship.sequence import Shipment, ship


@dataclass(frozen=True)
class ReleaseManifests:
    """The release's manifests for one environment: deploy/templates rendered with its values,
    pinned to the images the source pinned; --image overrides stay as given."""

    release: Release
    environment: str
    values: dict
    overrides: dict[str, str]

    def pinned_to(self, pinned: dict[str, images.PinnedImage], to: Path | None):
        return manifests.write_rendered(
            self.release,
            self.environment,
            self.values,
            images.digests(pinned),
            self.overrides,
            to=to or deploy_records.manifests_path(self.release, self.environment),
        )

    def token_secrets(self) -> dict[str, str]:
        return environment_values.token_secrets(self.values)


def shipment(release: Release, environment: str, image_flags: list[str] | None) -> Shipment:
    """The release for an environment; --image COMPONENT=REFERENCE runs that image as given
    (not imported, not pinned). The environment's values are loaded here, once per deploy."""
    values = environment_values.load_values(environment)
    overrides = manifests.parse_image_overrides(image_flags, COMPONENTS)
    wanted = tuple(c for c in COMPONENTS if c not in overrides)
    return Shipment(
        release.version_text,
        images.source_for(release, values, environment, wanted),
        ReleaseManifests(release, environment, values, overrides),
    )


def deploy_release(
    release: Release,
    environment: str,
    image_flags: list[str] | None,
    target: kube_target.Target,
    options: release_deploy.Options,
) -> None:
    planned = shipment(release, environment, image_flags)
    ship(planned, target, options, title=f"deploy {release.version_text} to {target.describe()}")


def _recorded_digests(release: Release, values: dict) -> dict[str, str] | None:
    return deploy_records.recorded_image_digests(release, images.where(values)) or None


def pinned_text(release: Release, environment: str) -> str:
    """The manifests pinned to the digests recorded so far (by tag if there are none)."""
    values = environment_values.load_values(environment)
    return manifests.render(release, environment, values, _recorded_digests(release, values))


def write_pinned(release: Release, environment: str, to: Path | None = None) -> RenderedManifests:
    """pinned_text, written beside the release (kube/deploy_records.py), never into its folder."""
    values = environment_values.load_values(environment)
    return manifests.write_rendered(
        release,
        environment,
        values,
        _recorded_digests(release, values),
        to=to or deploy_records.manifests_path(release, environment),
    )


def validate(release: Release, environment: str, target: kube_target.Target | None) -> None:
    """The schema check of the pinned manifests, then (with a target that answers, and the
    environment's namespace there) the server-side dry run."""
    rendered = write_pinned(release, environment)
    path = rendered.path
    schema = release_deploy.check_offline(rendered)
    say(f"✓ {path}: every object matches the Kubernetes {schema} schema")
    if target is None:
        return
    try:
        api = target.api()
        namespaces = {n.name for n in api.get("namespaces")}
    except Exception as exc:  # unreachable cluster: the offline check is what we can do
        say(f"no server-side dry run: cluster not reachable ({str(exc).splitlines()[0]})")
        return
    namespace = rendered.namespace()
    if namespace not in namespaces:
        say(f"no server-side dry run: namespace {namespace} does not exist yet (deploy makes it)")
        return
    release_deploy.dry_run(target, rendered)
    say(f"✓ {path}: the API server admits every object (server-side dry run)")


def diff(release: Release, environment: str, target: kube_target.Target) -> str:
    """What a deploy of the pinned manifests would change (server-side diff)."""
    return release_deploy.diff(target, write_pinned(release, environment))
