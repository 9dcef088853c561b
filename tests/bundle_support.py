"""A small, real bundle for the tests: an OCI layout with made-up blobs, manifests pinning
it, an SBOM, SHA256SUMS and a gpg signature by a throwaway key (no release build needed)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

from build_scripts.bundle import signing
from build_scripts.core import sums

TOP = "TraderAdmin-1.0.0-bundle"
NAME = "traderadmin/backend"


def make_keys(home: Path, name: str) -> tuple[Path, Path]:
    """(secret key file, public key file) of a new ed25519 key, in a home of their own."""
    home.mkdir(mode=0o700, parents=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    uid = f"{name} <{name}@example.invalid>"
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    secret, public = home / "secret.asc", home / "public.asc"
    for path, option in ((secret, "--export-secret-keys"), (public, "--export")):
        path.write_bytes(
            subprocess.run(
                ["gpg", "--batch", "--armor", option], env=env, check=True, capture_output=True
            ).stdout
        )
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)
    return secret, public


def _blob(layout: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def manifests_text(reference: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: backend}\nspec:\n"
        "  template:\n    spec:\n      containers:\n"
        f"        - name: backend\n          image: {reference}\n"
    )


def make_folder(root: Path) -> tuple[Path, str]:
    """The bundle's folder without SHA256SUMS; (folder, the image's manifest digest)."""
    folder = root / TOP
    (folder / "desktop").mkdir(parents=True)
    (folder / "TraderAdmin_Setup_v1.0.0.exe").write_bytes(b"MZ" + bytes(range(256)) * 8)
    layout = folder / "images" / "backend"
    layout.mkdir(parents=True)
    layer = _blob(layout, b"a layer's bytes " * 64)
    config = _blob(layout, b'{"architecture":"amd64","os":"linux"}')
    manifest = json.dumps({"schemaVersion": 2, "config": config, "layers": [layer]}).encode()
    descriptor = _blob(layout, manifest)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    digest = descriptor["digest"]
    (folder / "deploy").mkdir()
    (folder / "deploy" / "local.yaml").write_text(manifests_text(f"{NAME}:1.0.0@{digest}"))
    (folder / "sbom").mkdir()
    (folder / "sbom" / "image-backend.cdx.json").write_text('{"bomFormat": "CycloneDX"}')
    description = {
        "format": 1,
        "version": "1.0.0",
        "images": {
            "backend": {
                "name": NAME,
                "tag": "1.0.0",
                "layout": "images/backend",
                "digest": digest,
                "sbom": "sbom/image-backend.cdx.json",
            }
        },
        "environments": {"local": {"manifests": "deploy/local.yaml", "local_cluster": True}},
    }
    (folder / "bundle.json").write_text(json.dumps(description))
    return folder, digest


def seal(folder: Path, secret: Path | None) -> None:
    """Write SHA256SUMS over every file (and SHA256SUMS.asc with a key)."""
    for name in (sums.FILE_NAME, signing.SIGNATURE_NAME):
        (folder / name).unlink(missing_ok=True)
    digests = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }
    text = sums.format_sums(digests).encode()
    (folder / sums.FILE_NAME).write_bytes(text)
    if secret is not None:
        signature, _ = signing.sign(text, signing.Signer(secret))
        (folder / signing.SIGNATURE_NAME).write_bytes(signature)


def tar_folder(folder: Path, destination: Path) -> Path:
    with tarfile.open(destination, "w") as archive:
        archive.add(folder, arcname=folder.name)
    return destination


def flip_byte(bundle: Path, member_suffix: str, offset: int) -> None:
    """Change one byte of one member in place (the tar stays well-formed)."""
    with tarfile.open(bundle) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith(member_suffix))
    with open(bundle, "r+b") as handle:
        handle.seek(member.offset_data + offset)
        byte = handle.read(1)
        handle.seek(member.offset_data + offset)
        handle.write(bytes([byte[0] ^ 0x01]))
