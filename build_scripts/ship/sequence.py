"""One deploy, in the order the user sees: (with --confirm: preview and ask before the first
change,) pin the images, render the environment's manifests once with them, then the deploy
sequence of kube/release_deploy.py on the objects parsed then (schema check, namespace and
token Secrets, dry run, apply, the judged rollout, rollback)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core.progress import step
from build_scripts.kube import release_deploy
from build_scripts.kube import target as kube_target
from build_scripts.kube.manifests import RenderedManifests
from build_scripts.ship.images import ImageSource, PinnedImage


@dataclass(frozen=True)
class Shipment:
    """What one deploy ships, and where its images come from."""

    version: str
    source: ImageSource
    # API role -> the name of its token Secret; read when the question or the deploy needs
    # it (a bundle's description is only trusted that far once its images are in place).
    token_secrets: Callable[[], dict[str, str]]
    # The manifests pinned to these images, written to the path given (None: where the
    # deploy keeps them) and parsed once; a bundle's are pinned already and only handed on.
    manifests: Callable[[dict[str, PinnedImage], Path | None], RenderedManifests]
    # The deploy's step line; "{target}" stands for the cluster.
    title: str
    # A step of their own for making the images available (a bundle's import or push),
    # after the question and before the cluster is asked for anything else; None: the images
    # are pinned inside the deploy's step (the release's own images).
    pin_title: str | None = None


def ship(shipment: Shipment, target: kube_target.Target, options: release_deploy.Options) -> None:
    title = shipment.title.replace("{target}", target.describe())
    if shipment.pin_title is None:
        api = target.api()
        with step(title):
            if options.confirm is not None:
                ask_first(shipment, target, options)
            rendered = shipment.manifests(shipment.source.pin(), None)
            _deploy(shipment, api, target, rendered, options)
        return
    if options.confirm is not None:
        ask_first(shipment, target, options)
    with step(shipment.pin_title):
        pinned = shipment.source.pin()
    rendered = shipment.manifests(pinned, None)
    api = target.api()
    with step(title):
        _deploy(shipment, api, target, rendered, options)


def ask_first(
    shipment: Shipment, target: kube_target.Target, options: release_deploy.Options
) -> None:
    """--confirm: the preview (images to import or push first, then what the manifests would
    change) and the question, before any change."""
    assert options.confirm is not None
    preview = shipment.source.preview()
    with tempfile.TemporaryDirectory(prefix="traderadmin-preview-") as scratch:
        rendered = shipment.manifests(preview.known, Path(scratch) / "m.yaml")
        release_deploy.ask_first(
            target.api(),
            target,
            rendered,
            shipment.token_secrets(),
            options.confirm,
            before=preview.changes,
        )


def _deploy(
    shipment, api, target, rendered: RenderedManifests, options: release_deploy.Options
) -> None:
    release_deploy.deploy(
        api,
        target,
        rendered,
        token_secrets=shipment.token_secrets(),
        release_version=shipment.version,
        options=options,
    )
