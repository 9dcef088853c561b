"""Verifying a bundle offline: signature, every checksum, every image against its pins, an
SBOM for each image. Nothing here opens a network connection (the scenario proves it with
`unshare -n`).

Order matters, for the message and for the work a hostile tar can cause: the headers are
walked first (members.py refuses what no bundle holds); SHA256SUMS and its signature are read
within small bounds and the signature says SHA256SUMS is ours; a file SHA256SUMS does not list
is refused before any file is read; then the listed files are hashed and must match; the
image layouts are checked by content (each blob named by its digest) and against the digests
the manifests pin. The first failure found names the file that does not match and ends
verification with exit code 5 (VerificationFailed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from build_scripts.bundle import members, names, oci, pins, signing
from build_scripts.bundle.contents import (
    MAX_SIGNATURE,
    MAX_SUMS,
    Contents,
    hash_listed,
    read_describing,
)
from build_scripts.core import sums
from build_scripts.core.artifacts import human_size
from build_scripts.core.errors import VerificationFailed
from build_scripts.core.progress import warn

DESCRIBING = (sums.FILE_NAME, signing.SIGNATURE_NAME)


@dataclass(frozen=True)
class Report:
    top: str
    signed_by: str  # a key fingerprint, or "unsigned"
    files: int
    size: int
    images: dict[str, str]  # component -> digest
    description: dict
    digests: dict[str, str]  # every file SHA256SUMS lists -> its sha256, as verified

    def lines(self) -> list[str]:
        found = [
            f"✓ signature: {self.signed_by}",
            f"✓ checksums: {self.files} files ({human_size(self.size)}) match SHA256SUMS",
        ]
        found += [
            f"✓ image {c}: {d}, pinned by every environment's manifests, with its SBOM"
            for c, d in sorted(self.images.items())
        ]
        return found


def _fail(problems: list[str], what: str) -> None:
    if problems:
        more = (
            f" (and {len(problems) - 1} more: {'; '.join(problems[1:4])})" if problems[1:] else ""
        )
        raise VerificationFailed(f"{problems[0]}{more}", what)


def check_signature(
    sums_text: bytes, signature: bytes | None, public_key: Path | None, *, allow_unsigned: bool
) -> str:
    if signature is None:
        if not allow_unsigned:
            raise VerificationFailed(
                f"the bundle is unsigned (no {signing.SIGNATURE_NAME})",
                "accept an unsigned bundle only knowingly: --allow-unsigned",
            )
        warn("the bundle is unsigned: only its checksums are checked (--allow-unsigned)")
        return signing.UNSIGNED
    if public_key is None:
        if not allow_unsigned:
            raise VerificationFailed(
                f"the bundle is signed ({signing.SIGNATURE_NAME}) but no public key was given",
                "pass --public-key FILE (the release signing key's public half)",
            )
        warn("no --public-key: the signature is not checked (--allow-unsigned)")
        return "not checked"
    return signing.verify(sums_text, signature, public_key, data_name=sums.FILE_NAME)


def listing_problems(present: set[str], listed: dict[str, str]) -> list[str]:
    """Files in the tar SHA256SUMS does not list, and listed files the tar lacks: found from
    the headers, before any file is read."""
    problems = [
        f"{path} is in the bundle but not listed in {sums.FILE_NAME}"
        for path in sorted(present - set(DESCRIBING) - set(listed))
    ]
    problems += [
        f"{path} is listed in {sums.FILE_NAME} but missing from the bundle"
        for path in sorted(set(listed) - present)
    ]
    return problems


def checksum_problems(contents: Contents, listed: dict[str, str]) -> list[str]:
    return [
        f"{path} does not match {sums.FILE_NAME} (sha256 {contents.digests[path]}, "
        f"listed {listed[path]})"
        for path in sorted(listed)
        if contents.digests[path] != listed[path]
    ]


def read_description(contents: Contents) -> dict:
    try:
        found = json.loads(contents.small[names.DESCRIPTION])
        found["images"].items()
        found["environments"].items()
    except (KeyError, ValueError, AttributeError, TypeError) as exc:
        raise VerificationFailed(f"{names.DESCRIPTION} is missing or malformed") from exc
    return found


def image_problems(contents: Contents, description: dict) -> tuple[list[str], dict[str, str]]:
    """Layouts by content, their digests against bundle.json and every manifests file, and
    an SBOM for each image."""
    problems: list[str] = []
    held: dict[str, tuple[str, str]] = {}
    for component, facts in sorted(description["images"].items()):
        layout = facts.get("layout", "")
        found = oci.layout_problems(layout, contents.digests, contents.small)
        problems += found
        if not found:
            index = json.loads(contents.small[f"{layout}/{oci.INDEX}"])
            digest = oci.manifest_digest(index, layout)
            if digest != facts.get("digest"):
                problems.append(
                    f"{layout}/{oci.INDEX} holds {digest}, but {names.DESCRIPTION} says "
                    f"{facts.get('digest')}"
                )
            held[component] = (facts.get("name", ""), digest)
        problems += sbom_problems(contents, facts.get("sbom", ""), component)
    if problems:
        return problems, {}
    for environment, facts in sorted(description["environments"].items()):
        source = facts.get("manifests", "")
        if source not in contents.small:
            problems.append(f"{source or environment}: the manifests of {environment} are missing")
            continue
        problems += pins.pin_problems(source, contents.small[source].decode(), held)
    return problems, {c: digest for c, (_, digest) in held.items()}


def sbom_problems(contents: Contents, path: str, component: str) -> list[str]:
    if path not in contents.digests:
        return [f"{path or component}: no SBOM for the image {component} in the bundle"]
    try:
        bom = json.loads(contents.small[path])
        assert bom["bomFormat"] == "CycloneDX"
    except (KeyError, ValueError, AssertionError, TypeError):
        return [f"{path} is not a CycloneDX JSON SBOM"]
    return []


def verify(bundle: Path, public_key: Path | None, *, allow_unsigned: bool = False) -> Report:
    """Check the bundle tar offline; what it holds, or VerificationFailed naming the file."""
    listing = members.scan(bundle)
    sums_text = read_describing(listing, sums.FILE_NAME, MAX_SUMS)
    if sums_text is None:
        raise VerificationFailed(f"{sums.FILE_NAME} is missing from the bundle")
    signature = read_describing(listing, signing.SIGNATURE_NAME, MAX_SIGNATURE)
    signed_by = check_signature(sums_text, signature, public_key, allow_unsigned=allow_unsigned)
    listed = sums.parse_sums(sums_text.decode(errors="replace"))
    _fail(listing_problems(set(listing.files), listed), "the bundle was changed after it was made")
    contents = hash_listed(listing, listed)
    _fail(checksum_problems(contents, listed), "the bundle was changed after it was made")
    description = read_description(contents)
    problems, images = image_problems(contents, description)
    _fail(problems, "the bundle's images do not match what its manifests pin")
    size = sum(contents.sizes.values())
    return Report(
        contents.top, signed_by, len(listed), size, images, description, dict(contents.digests)
    )
