"""Deploying a release from its bundle alone: no Docker engine, no source tree, no dist/.

The bundle tar is verified first, as `invoke bundle.verify` does (nothing is written before);
then only the files its SHA256SUMS lists are extracted into a new private temporary folder,
each hashed again as it is written (the bytes used are the bytes checked). Then the images go
where the cluster takes them from:

- the local cluster (an environment whose images are imported, never pulled): each OCI layout
  is imported into the cluster's containerd with `ctr images import`, named
  `<name>:<tag>` and `<name>@<digest>` (the name the CRI resolves a pinned reference by);
- a registry (`--registry HOST:PORT`): skopeo pushes each layout keeping its digests, and the
  manifests are pointed at that registry by the same digests.

The bundle is one image source among three (ship/images.py: BundleImages here); the
environment's manifests from the bundle (already pinned) then go through the one deploy
sequence (ship/sequence.py, kube/release_deploy.py): schema check, dry run, apply, judged
rollout, rollback.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path

from build_scripts.bundle import contents, oci, pins, verify
from build_scripts.cluster import image_digests
from build_scripts.cluster.config import Layout
from build_scripts.cluster.images import ctr_import
from build_scripts.cluster.options import default_state_dir
from build_scripts.cluster.supervise import running_pid
from build_scripts.core import atomic
from build_scripts.core.errors import ConfigError, ReleaseError, VerificationFailed
from build_scripts.core.progress import say, step
from build_scripts.kube import release_deploy
from build_scripts.kube import target as kube_target
from build_scripts.kube.manifests import RenderedManifests
from build_scripts.ship.images import PinnedImage, Preview
from build_scripts.ship.sequence import Shipment, ship


@dataclass(frozen=True)
class Request:
    bundle: Path
    environment: str
    registry: str | None
    public_key: Path | None
    allow_unsigned: bool


def environment_of(description: dict, environment: str, registry: str | None) -> dict:
    """The environment's facts from bundle.json; ConfigError if it cannot be deployed so."""
    found = description["environments"].get(environment)
    if found is None:
        raise ConfigError(
            f"the bundle has no environment {environment!r}",
            f"choose one of: {', '.join(sorted(description['environments']))}",
        )
    if not registry and not found.get("local_cluster"):
        raise ConfigError(
            f"environment {environment} pulls its images from "
            f"{found.get('registry') or 'a registry'}, and no --registry was given",
            "push the bundle's images to your registry: --registry HOST:PORT",
        )
    return found


def import_into_local_cluster(
    folder: Path, images: dict[str, dict], scratch: Path, state_dir: Path | None = None
) -> None:
    """Each layout into the local cluster's containerd; the digest it holds must be the
    bundle's."""
    layout = Layout(state_dir or default_state_dir())
    if running_pid(layout, "containerd") is None:
        raise ReleaseError("the local cluster is not running", "run: invoke cluster.up")
    for component, facts in sorted(images.items()):
        archive = oci.archive_of_layout(folder / facts["layout"], scratch / f"{component}.tar")
        full = image_digests.normalized(facts["name"])
        # The layout names its manifest by tag only: --base-name makes it <name>:<tag>, and
        # the digest name <name>@<digest> is what pinned references resolve to.
        ctr_import(layout, archive, step=f"import {component}", base_name=full)
        reference = f"{facts['name']}:{facts['tag']}"
        held = image_digests.imported_digest(reference, state_dir=layout.root)
        if held != facts["digest"]:
            raise VerificationFailed(
                f"containerd holds {reference} as {held}, not the bundle's {facts['digest']}"
            )
        image_digests.name_by_digest(reference, held, state_dir=layout.root)
        archive.unlink()


def push_to_registry(folder: Path, images: dict[str, dict], registry: str) -> None:
    for component, facts in sorted(images.items()):
        target = f"{registry}/{facts['name']}:{facts['tag']}"
        stored = oci.push(folder / facts["layout"], facts["tag"], target)
        if stored != facts["digest"]:
            raise VerificationFailed(
                f"{registry} stored {component} as {stored}, not the bundle's {facts['digest']}"
            )
        say(f"  {component}: {target}@{stored}")


def manifests_to_apply(
    folder: Path, description: dict, environment: str, registry: str | None, scratch: Path
) -> Path:
    source = description["environments"][environment]["manifests"]
    if not registry:
        return folder / source
    held = {c: (f["name"], f["digest"]) for c, f in description["images"].items()}
    text = pins.repointed((folder / source).read_text(), held, registry, source)
    problems = pins.pin_problems(source, text, held)
    if problems:
        raise VerificationFailed(problems[0])
    return atomic.write_text(scratch / f"{environment}-{registry.replace(':', '_')}.yaml", text)


class BundleManifests:
    """The bundle's manifests (pinned already, repointed to --registry): no rendering; parsed
    once, when first needed (the --confirm preview, or the deploy after the images are in
    place), as a rendered release's are parsed once when rendered."""

    def __init__(self, path: Path, facts: dict):
        self._path = path
        self._facts = facts

    @functools.cached_property
    def _read(self) -> RenderedManifests:
        return release_deploy.read_manifests(self._path)

    def pinned_to(self, images: dict[str, PinnedImage], to: Path | None) -> RenderedManifests:
        return self._read

    def token_secrets(self) -> dict[str, str]:
        # Read when asked (the --confirm preview, or the deploy), not when the shipment is
        # made: a bundle whose description lacks it is refused on the way there first.
        return dict(self._facts["token_secrets"])


@dataclass(frozen=True)
class BundleImages:
    """The bundle's images as a deploy's image source (ship/images.py): its OCI layouts,
    imported into the local cluster's containerd or pushed to --registry, each checked to
    hold the digest the bundle names."""

    folder: Path
    images: dict[str, dict]
    registry: str | None
    scratch: Path
    state_dir: Path | None = None

    def preview(self) -> Preview:
        where = f"push to {self.registry}" if self.registry else "import into the cluster"
        return Preview({}, [f"{where}: the bundle's image {name}" for name in sorted(self.images)])

    def pin(self) -> dict[str, PinnedImage]:
        if self.registry:
            push_to_registry(self.folder, self.images, self.registry)
        else:
            import_into_local_cluster(self.folder, self.images, self.scratch, self.state_dir)
        prefix = f"{self.registry}/" if self.registry else ""
        return {
            component: PinnedImage(
                component, f"{prefix}{facts['name']}:{facts['tag']}", facts["digest"]
            )
            for component, facts in sorted(self.images.items())
        }


def deploy_bundle(
    request: Request,
    target: kube_target.Target,
    options: release_deploy.Options,
    *,
    state_dir: Path | None = None,
) -> verify.Report:
    with tempfile.TemporaryDirectory(prefix="traderadmin-bundle-deploy-") as scratch_name:
        scratch = Path(scratch_name)
        with step(f"verify {request.bundle.name}"):
            report = verify.verify(
                request.bundle, request.public_key, allow_unsigned=request.allow_unsigned
            )
            for line in report.lines():
                say(line)
        with step(f"extract {request.bundle.name}"):
            folder = contents.extract_verified(request.bundle, report.digests, scratch / "bundle")
        description = report.description
        facts = environment_of(description, request.environment, request.registry)
        # The bundle's manifests are pinned already (repointed to --registry): no rendering.
        path = manifests_to_apply(
            folder, description, request.environment, request.registry, scratch
        )
        source = BundleImages(folder, description["images"], request.registry, scratch, state_dir)
        pin_title = (
            f"push the bundle's images to {request.registry}"
            if request.registry
            else "import the bundle's images into the local cluster"
        )
        shipment = Shipment(description["version"], source, BundleManifests(path, facts))
        ship(
            shipment,
            target,
            options,
            title=f"deploy {description['version']} from the bundle to {target.describe()}",
            pin_title=pin_title,
        )
    return report
