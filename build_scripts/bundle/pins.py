"""The image references in the bundle's manifests: checked against the images the bundle
holds, and pointed at another registry without losing their digests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from build_scripts.core.errors import VerificationFailed

POD_SPEC_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet")


@dataclass(frozen=True)
class Reference:
    repository: str
    tag: str
    digest: str

    @classmethod
    def parse(cls, text: str) -> Reference:
        """`[registry/]path[:tag][@sha256:…]`."""
        name, _, digest = text.partition("@")
        slash = name.rfind("/")
        colon = name.rfind(":")
        if colon > slash:
            return cls(name[:colon], name[colon + 1 :], digest)
        return cls(name, "", digest)

    def names(self, image: str) -> bool:
        """Is this a reference to `image` (traderadmin/backend), from any registry?"""
        return self.repository == image or self.repository.endswith("/" + image)


def _containers(document: dict) -> Iterator[dict]:
    spec = document.get("spec") or {}
    if document.get("kind") == "Pod":
        pod = spec
    elif document.get("kind") in POD_SPEC_KINDS:
        pod = ((spec.get("template") or {}).get("spec")) or {}
    else:
        return
    for key in ("initContainers", "containers"):
        yield from pod.get(key) or []


def documents(text: str, source: str) -> list[dict]:
    try:
        return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        raise VerificationFailed(f"{source} is not valid YAML") from exc


def pin_problems(source: str, text: str, images: dict[str, tuple[str, str]]) -> list[str]:
    """What in one manifests file does not pin the bundle's images.

    images: component -> (image name such as traderadmin/backend, digest in the bundle).
    Every container must run one of them, by that digest; every image must be run.
    """
    problems = []
    seen = set()
    for document in documents(text, source):
        for container in _containers(document):
            reference = Reference.parse(str(container.get("image", "")))
            where = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
            component = next((c for c, (n, _) in images.items() if reference.names(n)), None)
            if component is None:
                problems.append(f"{source}: {where} runs {reference.repository}, not in the bundle")
                continue
            seen.add(component)
            held = images[component][1]
            if reference.digest != held:
                pinned = reference.digest or "no digest (a tag only)"
                problems.append(
                    f"{source}: {where} pins {component} to {pinned}, but the bundle holds {held}"
                )
    problems += [f"{source} runs no {c} image" for c in sorted(set(images) - seen)]
    return problems


def repointed(text: str, images: dict[str, tuple[str, str]], registry: str, source: str) -> str:
    """The manifests with every image pulled from `registry` by the same digest.

    The bundle's manifests name the environment's registry (or none, for the local cluster);
    the site pushes the bundle's images to its own. Only `image` and `imagePullPolicy` change:
    the digest, and so the bytes that run, stay the bundle's.
    """
    changed = []
    for document in documents(text, source):
        for container in _containers(document):
            reference = Reference.parse(str(container.get("image", "")))
            for name, digest in images.values():
                if reference.names(name) and reference.digest == digest:
                    tag = f":{reference.tag}" if reference.tag else ""
                    container["image"] = f"{registry}/{name}{tag}@{digest}"
                    # The image must come from the registry: a node may not hold it.
                    container["imagePullPolicy"] = "IfNotPresent"
        changed.append(document)
    return yaml.safe_dump_all(changed, sort_keys=False)
