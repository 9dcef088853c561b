"""One deploy, in the order the user sees: (with --confirm: preview and ask before the first
change,) pin the images, have the manifests pinned to them (rendered once, or a bundle's handed
on), then the deploy sequence of kube/release_deploy.py on the objects parsed then (schema check,
namespace and token Secrets, dry run, apply, the judged rollout, rollback).

What is shipped travels one way, down: the caller (ship/release.py, bundle/image_source.py)
resolves the environment into a Shipment first; this module only hands its parts to kube/."""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from build_scripts.core.progress import step
from build_scripts.kube import release_deploy
from build_scripts.kube import target as kube_target
from build_scripts.kube.manifests import RenderedManifests
from build_scripts.ship.images import ImageSource, PinnedImage


class ShippedManifests(Protocol):
    """The manifests a deploy applies: the release's, rendered from deploy/templates with the
    environment's values (ship/release.py), or a bundle's, pinned already and only handed on
    (bundle/image_source.py)."""

    def pinned_to(self, images: dict[str, PinnedImage], to: Path | None) -> RenderedManifests:
        """Written to `to` (None: where the deploy keeps them) and parsed once."""
        ...

    def token_secrets(self) -> dict[str, str]:
        """API role -> the name of its token Secret."""
        ...


@dataclass(frozen=True)
class Shipment:
    """What one deploy ships: the release version, where its images come from, its manifests."""

    version: str
    source: ImageSource
    manifests: ShippedManifests


def ship(
    shipment: Shipment,
    target: kube_target.Target,
    options: release_deploy.Options,
    *,
    title: str,
    pin_title: str | None = None,
) -> None:
    """The deploy under the step line `title`. With `pin_title` (a bundle's import or push),
    the images are made available in a step of their own, after the question and before the
    cluster is asked for anything else; without, they are pinned inside the deploy's step (the
    release's own images), and so is the question."""
    # The release's deploy reaches the cluster first (nothing to do without it); a bundle's
    # images are imported or pushed before the cluster is asked for anything but the preview.
    api = target.api() if pin_title is None else None
    with contextlib.ExitStack() as deploying:
        if pin_title is None:
            deploying.enter_context(step(title))
        if options.confirm is not None:
            preview = shipment.source.preview()
            with tempfile.TemporaryDirectory(prefix="traderadmin-preview-") as scratch:
                rendered = shipment.manifests.pinned_to(preview.known, Path(scratch) / "m.yaml")
                release_deploy.ask_first(
                    api or target.api(),
                    target,
                    rendered,
                    shipment.manifests.token_secrets(),
                    options.confirm,
                    before=preview.changes,
                )
        if pin_title is None:
            pinned = shipment.source.pin()
        else:
            with step(pin_title):
                pinned = shipment.source.pin()
            api = target.api()
            deploying.enter_context(step(title))
        release_deploy.deploy(
            api,
            target,
            shipment.manifests.pinned_to(pinned, None),
            token_secrets=shipment.manifests.token_secrets(),
            release_version=shipment.version,
            options=options,
        )
