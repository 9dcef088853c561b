"""The bundle's verification: each kind of tampering is caught and names the file."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from build_scripts.bundle import contents, pins, signing, verify
from build_scripts.core import sums
from build_scripts.core.errors import VerificationFailed
from tests import bundle_support as support


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("keys")
    return {name: support.make_keys(root / name, name) for name in ("release", "stranger")}


@pytest.fixture
def signed_bundle(tmp_path, keys) -> tuple[Path, str]:
    folder, digest = support.make_folder(tmp_path / "made")
    support.seal(folder, keys["release"][0])
    return support.tar_folder(folder, tmp_path / "bundle.tar"), digest


def _verify(bundle: Path, public: Path | None, allow_unsigned: bool = False) -> verify.Report:
    return verify.verify(bundle, public, allow_unsigned=allow_unsigned)


def test_an_untouched_signed_bundle_verifies(signed_bundle, keys):
    bundle, digest = signed_bundle
    report = _verify(bundle, keys["release"][1])
    assert report.images == {"backend": digest}
    assert report.files == 9  # installer, 3 blobs, index, oci-layout, manifests, SBOM, bundle.json
    assert len(report.signed_by) == 40


@pytest.mark.parametrize(
    ("member", "offset", "named"),
    [
        ("TraderAdmin_Setup_v1.0.0.exe", 100, "TraderAdmin_Setup_v1.0.0.exe does not match"),
        ("SHA256SUMS", 5, "SHA256SUMS does not match its signature"),
        ("SHA256SUMS.asc", 60, "SHA256SUMS.asc is not a valid signature"),
    ],
)
def test_a_flipped_byte_fails_naming_the_file(signed_bundle, keys, member, offset, named):
    bundle, _ = signed_bundle
    support.flip_byte(bundle, f"/{member}", offset)
    with pytest.raises(VerificationFailed, match=named) as failed:
        _verify(bundle, keys["release"][1])
    assert failed.value.exit_code == 5


def test_a_flipped_byte_in_an_image_layer_names_the_blob(tmp_path, keys):
    folder, _ = support.make_folder(tmp_path / "made")
    support.seal(folder, keys["release"][0])
    bundle = support.tar_folder(folder, tmp_path / "bundle.tar")
    with tarfile.open(bundle) as archive:
        layer = max(
            (m for m in archive.getmembers() if "/blobs/" in m.name), key=lambda m: m.size
        ).name
    support.flip_byte(bundle, layer, 7)
    relative = layer.split("/", 1)[1]
    with pytest.raises(VerificationFailed, match=f"{relative} does not match SHA256SUMS"):
        _verify(bundle, keys["release"][1])


def test_a_changed_manifest_digest_is_caught_by_the_sums(signed_bundle, keys):
    bundle, digest = signed_bundle
    with tarfile.open(bundle) as archive:
        text = archive.extractfile(f"{support.TOP}/deploy/local.yaml").read()
    offset = text.index(digest.encode()) + len("sha256:")
    support.flip_byte(bundle, "/deploy/local.yaml", offset)
    with pytest.raises(VerificationFailed, match=r"deploy/local\.yaml does not match SHA256SUMS"):
        _verify(bundle, keys["release"][1])


def test_resealed_without_the_key_a_changed_pin_still_fails(tmp_path):
    """Someone who rewrote the manifests and SHA256SUMS but cannot sign: with
    --allow-unsigned, the pin check itself names the manifests file."""
    folder, _ = support.make_folder(tmp_path / "made")
    other = "sha256:" + "0" * 64
    (folder / "deploy" / "local.yaml").write_text(
        support.manifests_text(f"{support.NAME}:1.0.0@{other}")
    )
    support.seal(folder, None)
    bundle = support.tar_folder(folder, tmp_path / "bundle.tar")
    with pytest.raises(VerificationFailed, match=f"deploy/local.yaml: .* pins backend to {other}"):
        _verify(bundle, None, allow_unsigned=True)


def test_a_blob_not_named_by_its_digest_fails(tmp_path):
    folder, _ = support.make_folder(tmp_path / "made")
    blobs = folder / "images" / "backend" / "blobs" / "sha256"
    stray = blobs / ("f" * 64)
    stray.write_bytes(b"not what the name says")
    support.seal(folder, None)
    bundle = support.tar_folder(folder, tmp_path / "bundle.tar")
    with pytest.raises(VerificationFailed, match=f"blobs/sha256/{'f' * 64} does not match its"):
        _verify(bundle, None, allow_unsigned=True)


def test_unsigned_fails_unless_allowed(tmp_path):
    folder, _ = support.make_folder(tmp_path / "made")
    support.seal(folder, None)
    bundle = support.tar_folder(folder, tmp_path / "bundle.tar")
    with pytest.raises(VerificationFailed, match="unsigned"):
        _verify(bundle, None)
    assert _verify(bundle, None, allow_unsigned=True).signed_by == "unsigned"


def test_a_signature_by_another_key_fails(signed_bundle, keys):
    bundle, _ = signed_bundle
    with pytest.raises(VerificationFailed, match="not made by the given public key"):
        _verify(bundle, keys["stranger"][1])


def test_a_file_not_in_the_sums_and_a_missing_one_are_named(tmp_path):
    folder, _ = support.make_folder(tmp_path / "made")
    support.seal(folder, None)
    (folder / "extra.txt").write_text("slipped in")
    bundle = support.tar_folder(folder, tmp_path / "extra.tar")
    with pytest.raises(VerificationFailed, match=r"extra\.txt is in the bundle but not listed"):
        _verify(bundle, None, allow_unsigned=True)
    (folder / "extra.txt").unlink()
    (folder / "sbom" / "image-backend.cdx.json").unlink()
    bundle = support.tar_folder(folder, tmp_path / "missing.tar")
    with pytest.raises(
        VerificationFailed, match=r"image-backend\.cdx\.json is listed .* but missing"
    ):
        _verify(bundle, None, allow_unsigned=True)


def test_a_link_in_the_tar_is_refused(tmp_path):
    folder, _ = support.make_folder(tmp_path / "made")
    support.seal(folder, None)
    bundle = support.tar_folder(folder, tmp_path / "bundle.tar")
    with tarfile.open(bundle, "a") as archive:
        link = tarfile.TarInfo(f"{support.TOP}/evil")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(VerificationFailed, match="evil: not a regular file"):
        _verify(bundle, None, allow_unsigned=True)
    with pytest.raises(VerificationFailed, match="evil: not a regular file"):
        contents.extract_verified(bundle, {}, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_member_outside_the_top_folder_is_refused(tmp_path):
    folder, _ = support.make_folder(tmp_path / "made")
    bundle = support.tar_folder(folder, tmp_path / "bundle.tar")
    with tarfile.open(bundle, "a") as archive:
        archive.add(folder / "bundle.json", arcname="../bundle.json")
    with pytest.raises(VerificationFailed, match="outside the bundle's folder"):
        _verify(bundle, None, allow_unsigned=True)


def test_verified_then_extracted_holds_exactly_the_listed_files(signed_bundle, keys, tmp_path):
    bundle, digest = signed_bundle
    report = _verify(bundle, keys["release"][1])
    assert report.images == {"backend": digest}
    folder = contents.extract_verified(bundle, report.digests, tmp_path / "out")
    assert folder == tmp_path / "out" / support.TOP
    written = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    listed = sums.parse_sums((tmp_path / "made" / support.TOP / sums.FILE_NAME).read_text())
    assert written == set(report.digests) == set(listed)  # not SHA256SUMS(.asc): not listed
    assert [p.name for p in (tmp_path / "out").iterdir()] == [support.TOP]


# --- the pure parts ----------------------------------------------------------------------


def test_sums_round_trip_and_strict_parsing():
    digests = {"b/x": "a" * 64, "a": "b" * 64}
    text = sums.format_sums(digests)
    assert text.splitlines()[0] == f"{'b' * 64}  a"
    assert sums.parse_sums(text) == digests
    assert sums.parse_sums(f"{'c' * 64} *binary\n") == {"binary": "c" * 64}
    for bad, why in (
        (f"{'a' * 63}  short\n", "line 1 is not"),
        (f"{'a' * 64}  ../escape\n", "unsafe path"),
        (f"{'a' * 64}  /abs\n", "unsafe path"),
        (f"{'a' * 64}  x\n{'b' * 64}  x\n", "lists x twice"),
        ("", "is empty"),
    ):
        with pytest.raises(VerificationFailed, match=why):
            sums.parse_sums(bad)


def test_references_are_parsed_with_and_without_registry_tag_digest():
    digest = "sha256:" + "1" * 64
    parsed = pins.Reference.parse(f"127.0.0.1:5000/traderadmin/backend:1.0@{digest}")
    assert parsed == pins.Reference("127.0.0.1:5000/traderadmin/backend", "1.0", digest)
    assert parsed.names("traderadmin/backend") and not parsed.names("x/backend")
    assert pins.Reference.parse("traderadmin/backend") == pins.Reference(
        "traderadmin/backend", "", ""
    )
    assert pins.Reference.parse("host:5000/a") == pins.Reference("host:5000/a", "", "")


def test_pin_problems_name_the_file_and_what_is_wrong():
    digest = "sha256:" + "1" * 64
    held = {"backend": ("traderadmin/backend", digest)}
    good = support.manifests_text(f"reg.example/traderadmin/backend:1@{digest}")
    assert pins.pin_problems("deploy/p.yaml", good, held) == []
    by_tag = support.manifests_text("traderadmin/backend:1")
    assert "pins backend to no digest" in pins.pin_problems("deploy/p.yaml", by_tag, held)[0]
    stranger = support.manifests_text(f"evil/miner@{digest}")
    found = pins.pin_problems("deploy/p.yaml", stranger, held)
    assert found[0].startswith("deploy/p.yaml: Deployment/backend runs evil/miner, not in")
    assert found[1] == "deploy/p.yaml runs no backend image"


def test_repointed_keeps_the_digest_and_pulls_from_the_registry():
    digest = "sha256:" + "1" * 64
    held = {"backend": ("traderadmin/backend", digest)}
    text = support.manifests_text(f"registry.example.com/team/traderadmin/backend:1@{digest}")
    moved = pins.repointed(text, held, "127.0.0.1:5000", "deploy/p.yaml")
    assert f"image: 127.0.0.1:5000/traderadmin/backend:1@{digest}" in moved
    assert "imagePullPolicy: IfNotPresent" in moved
    assert pins.pin_problems("p", moved, held) == []


def test_gpg_status_is_judged():
    fpr = "A" * 40
    valid = f"[GNUPG:] GOODSIG X u\n[GNUPG:] VALIDSIG {'B' * 40} 2026 1 0 4 0 22 10 00 {fpr}\n"
    assert signing.judge(0, valid, [fpr], data_name="SHA256SUMS") == fpr
    with pytest.raises(VerificationFailed, match="not a valid signature"):
        signing.judge(0, valid, ["C" * 40], data_name="SHA256SUMS")
    with pytest.raises(VerificationFailed, match="SHA256SUMS does not match its signature"):
        signing.judge(1, "[GNUPG:] BADSIG X u\n", [fpr], data_name="SHA256SUMS")
    with pytest.raises(VerificationFailed, match="not made by the given public key"):
        signing.judge(2, "[GNUPG:] ERRSIG K 22 10 00 1700000000 9 -\n", [fpr], data_name="S")
    assert signing.fingerprints("sec:u:255\nfpr:::::::::ABC:\nuid:x\n", "sec") == ["ABC"]


# --- a real bundle made by make_bundle (skopeo, gpg, the real manifests) -------------------


def _made(tmp_path, monkeypatch, signer) -> tuple[Path, dict]:
    from build_scripts.bundle import make, names
    from build_scripts.cluster.images import scratch_image_archive
    from build_scripts.release import provenance
    from tests.support import pinned_release

    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    release = pinned_release("1.0.0")
    files = {"TraderAdmin_Setup_v1.0.0.exe": tmp_path / "setup.exe"}
    (tmp_path / "setup.exe").write_bytes(b"MZ installer")
    images = []
    for component in ("backend", "orchestrator"):
        binary = tmp_path / component
        binary.write_bytes(f"#!{component}\n".encode())
        reference = f"traderadmin/{component}:1.0.0"
        archive = scratch_image_archive(
            binary, reference, tmp_path / f"{component}.tar", entrypoint=[f"/{component}"]
        )
        images.append(make.Image(component, f"traderadmin/{component}", "1.0.0", archive))
        sbom = tmp_path / f"image-{component}.cdx.json"
        sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5"}')
        files[names.image_sbom(component)] = sbom
    plan = make.Plan(files, images, ["local", "production"])
    artifact = make.make_bundle(
        release,
        plan,
        signer=signer,
        provenance=lambda subjects: provenance.statement(release, subjects, {}, dirty=False),
    )
    assert artifact.path == names.bundle_path(release)
    return artifact.path, make.facts(release)


def test_make_bundle_writes_a_bundle_that_verifies(tmp_path, monkeypatch, keys):
    bundle, facts = _made(tmp_path, monkeypatch, signing.Signer(keys["release"][0]))
    report = _verify(bundle, keys["release"][1])
    assert report.images == facts["bundle"]["images"]
    assert sorted(report.description["environments"]) == ["local", "production"]
    with tarfile.open(bundle) as archive:
        listed = archive.getnames()
        production = archive.extractfile("TraderAdmin-1.0.0-bundle/deploy/production.yaml").read()
    assert all(name.startswith("TraderAdmin-1.0.0-bundle") for name in listed)
    assert listed[-2:] == [
        "TraderAdmin-1.0.0-bundle/SHA256SUMS",
        "TraderAdmin-1.0.0-bundle/SHA256SUMS.asc",
    ]
    digest = facts["bundle"]["images"]["backend"]
    assert f"traderadmin/backend:1.0.0@{digest}".encode() in production
    assert not [p for p in bundle.parent.iterdir() if p.name.startswith(".")]


def test_an_unsigned_bundle_is_the_same_bytes_each_time(tmp_path, monkeypatch):
    first, facts = _made(tmp_path, monkeypatch, None)
    assert facts["bundle"]["signature"] == "unsigned"
    kept = first.read_bytes()
    second, _ = _made(tmp_path, monkeypatch, None)
    assert second.read_bytes() == kept


def test_a_failed_bundle_keeps_the_previous_one(tmp_path, monkeypatch):
    from build_scripts.core.errors import ConfigError

    good, _ = _made(tmp_path, monkeypatch, None)
    kept = good.read_bytes()
    not_a_key = tmp_path / "not-a-key.asc"
    not_a_key.write_text("this is no OpenPGP key\n")
    with pytest.raises(ConfigError, match="holds no usable OpenPGP secret key"):
        _made(tmp_path, monkeypatch, signing.Signer(not_a_key))
    assert good.read_bytes() == kept
    assert not [p for p in good.parent.iterdir() if p.name.startswith(".")]


# --- deploying from a bundle: what is decided before any cluster is touched --------------


def test_an_environment_that_pulls_needs_a_registry():
    from build_scripts.bundle import image_source
    from build_scripts.core.errors import ConfigError

    description = {
        "environments": {
            "local": {"local_cluster": True},
            "production": {"local_cluster": False, "registry": "registry.example.com/team"},
        }
    }
    assert image_source.environment_of(description, "local", None) == {"local_cluster": True}
    assert image_source.environment_of(description, "production", "127.0.0.1:5000")
    with pytest.raises(ConfigError, match=r"pulls its images from registry\.example\.com/team"):
        image_source.environment_of(description, "production", None)
    with pytest.raises(ConfigError, match="no environment 'staging'"):
        image_source.environment_of(description, "staging", None)


def test_manifests_to_apply_are_the_bundles_own_or_repointed(tmp_path):
    from build_scripts.bundle import image_source

    folder, digest = support.make_folder(tmp_path / "made")
    description = {
        "images": {"backend": {"name": support.NAME, "digest": digest}},
        "environments": {"local": {"manifests": "deploy/local.yaml"}},
    }
    same = image_source.manifests_to_apply(folder, description, "local", None, tmp_path)
    assert same == folder / "deploy" / "local.yaml"
    moved = image_source.manifests_to_apply(
        folder, description, "local", "127.0.0.1:5000", tmp_path
    )
    assert moved.parent == tmp_path
    assert f"127.0.0.1:5000/{support.NAME}:1.0.0@{digest}" in moved.read_text()
