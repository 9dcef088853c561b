"""Steps for the air-gapped bundle: made with a throwaway key, verified without a network,
tampered with, checked with the standard tools as DEPLOYMENT.md writes them, and deployed from
the bundle alone (into the local cluster's containerd, or through a local registry)."""

from __future__ import annotations

import atexit
import contextlib
import json
import re
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import httpx
from _support import cluster_api, cluster_layout, run, shown
from behave import given, then, when
from deployment_steps import NAMESPACE
from python_on_whales import DockerException, docker

from build_scripts.bundle import names
from build_scripts.core import metadata
from build_scripts.images import specs
from build_scripts.release import folder

# One key per test run: the bundle (whose inputs include the key) is made once, not per
# scenario. Its home is removed, and its gpg-agent stopped by that home, when behave exits.
_KEYS: dict[str, Path] = {}
MARKER = "<!-- bundle-verification"


def _drop_keys(home: Path) -> None:
    run(None, ["gpgconf", "--kill", "all"], env={"GNUPGHOME": str(home)})
    shutil.rmtree(home.parent, ignore_errors=True)


@given("a throwaway OpenPGP release key")
def step_key(context):
    if not _KEYS:
        root = Path(tempfile.mkdtemp(prefix="traderadmin-bundle-key-"))
        home = root / "gnupg"
        home.mkdir(mode=0o700)
        env = {"GNUPGHOME": str(home)}
        made = run(
            None,
            [
                "gpg",
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "TraderAdmin scenario release key <release@example.invalid>",
                "ed25519",
                "sign",
                "never",
            ],
            env=env,
        )
        assert made.returncode == 0, made.stderr
        for name, option in (("secret", "--export-secret-keys"), ("public", "--export")):
            exported = run(
                None, ["gpg", "--batch", "--armor", option], env=env, check=True, text=False
            )
            (root / f"{name}.asc").write_bytes(exported.stdout)
            _KEYS[name] = root / f"{name}.asc"
        atexit.register(_drop_keys, home)
    context.secret_key, context.public_key = _KEYS["secret"], _KEYS["public"]


@given('the bundle of release "{version}" made with "invoke bundle" and that key')
def step_bundle(context, version):
    result = run(
        context, ["invoke", "bundle", "--version", version, "--signing-key", context.secret_key]
    )
    assert result.returncode == 0, shown(result, limit=6000)
    context.bundle_release = metadata.current_release(version)
    context.bundle = names.bundle_path(context.bundle_release)
    assert context.bundle.is_file(), shown(result, limit=6000)
    assert "signed by" in result.stdout, shown(result, limit=6000)


def _description(bundle: Path) -> dict:
    with tarfile.open(bundle) as archive:
        top = archive.getmembers()[0].name.split("/")[0]
        handle = archive.extractfile(f"{top}/{names.DESCRIPTION}")
        assert handle is not None
        return json.loads(handle.read())


def _verify_offline(context, bundle: Path) -> None:
    # unshare -n: a network namespace of its own with nothing in it, not even loopback up.
    command = ["unshare", "-n", sys.executable, "-m", "invoke", "bundle.verify", str(bundle)]
    run(context, [*command, "--public-key", str(context.public_key)])


@when('I run "invoke bundle.verify" on the bundle with the public key, without a network')
def step_verify(context):
    _verify_offline(context, context.bundle)


@when('I run "invoke bundle.verify" on that copy with the public key, without a network')
def step_verify_copy(context):
    _verify_offline(context, context.bundle_copy)


@then("the release folder's SHA256SUMS and release.json cover the bundle and every other file")
def step_folder_covered(context):
    root = context.bundle_release.dist_dir
    checked = run(None, ["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = {line.split("  ", 1)[1] for line in (root / "SHA256SUMS").read_text().splitlines()}
    on_disk = {p.relative_to(root).as_posix() for p in folder.artifact_files(root)}
    assert on_disk <= listed, f"not in SHA256SUMS: {sorted(on_disk - listed)}"
    manifest = json.loads((root / "release.json").read_text())
    paths = {a["path"]: a for a in manifest["artifacts"]}
    assert context.bundle.name in paths, sorted(paths)
    assert paths[context.bundle.name]["step"] == "bundle", paths[context.bundle.name]
    assert manifest["bundle"]["images"] == {
        c: i["digest"] for c, i in _description(context.bundle)["images"].items()
    }, manifest["bundle"]


def _member(bundle: Path, kind: str) -> tuple[tarfile.TarInfo, int]:
    """The member to change for each kind of tampering, and the offset of the byte."""
    with tarfile.open(bundle) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
        if kind == "the installer":
            member = next(m for m in members if "_Setup_v" in m.name)
            return member, member.size // 2
        if kind == "an image layer":
            member = max((m for m in members if "/images/backend/blobs/" in m.name), key=_size)
            return member, member.size // 2
        if kind == "a pinned digest in the local manifests":
            member = next(m for m in members if m.name.endswith("/deploy/local.yaml"))
            handle = archive.extractfile(member)
            assert handle is not None
            return member, handle.read().index(b"@sha256:") + len("@sha256:") + 3
        if kind == "a SHA256SUMS line":
            return next(m for m in members if m.name.endswith("/SHA256SUMS")), 5
        if kind == "the signature":
            return next(m for m in members if m.name.endswith("/SHA256SUMS.asc")), 60
    raise AssertionError(f"no such kind of tampering: {kind}")


def _size(member: tarfile.TarInfo) -> int:
    return member.size


@given("a copy of the bundle with one byte of {kind} flipped")
def step_flip(context, kind):
    copy = context.scratch / context.bundle.name
    shutil.copyfile(context.bundle, copy)
    member, offset = _member(copy, kind)
    with open(copy, "r+b") as handle:
        handle.seek(member.offset_data + offset)
        byte = handle.read(1)
        handle.seek(member.offset_data + offset)
        handle.write(bytes([byte[0] ^ 0x01]))
    context.bundle_copy = copy
    context.installer_name = Path(member.name).name


@then('stderr is one line that matches "{pattern}"')
def step_one_line_matches(context, pattern):
    lines = [line for line in context.result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(pattern, lines[0]), shown(context.result)


@when('I run "invoke bundle --version {version}" with no signing key')
def step_unsigned(context, version):
    context.env_overrides["TRADERADMIN_BUNDLE_SIGNING_KEY"] = ""
    run(context, ["invoke", "bundle", "--version", version])


@when('I run "invoke bundle.verify" on the bundle allowing it unsigned, without a network')
def step_verify_unsigned(context):
    command = ["unshare", "-n", sys.executable, "-m", "invoke", "bundle.verify"]
    run(context, [*command, str(context.bundle), "--allow-unsigned"])


def _documented_commands(context) -> list[str]:
    text = (context.repo / "DEPLOYMENT.md").read_text()
    after = text[text.index(MARKER) :]
    block = re.search(r"```\w*\n(.*?)```", after, re.S)
    assert block, "DEPLOYMENT.md has no code block after the bundle-verification marker"
    version = context.bundle_release.version_text
    return [line.replace("<version>", version) for line in block.group(1).splitlines()]


def _run_documented(context, bundle: Path) -> None:
    site = context.scratch / "site"
    site.mkdir(exist_ok=True)
    if bundle.parent != site:
        shutil.copyfile(bundle, site / bundle.name)
    shutil.copyfile(context.public_key, site / "traderadmin-release.pub.asc")
    home = context.scratch / "operator-gnupg"
    home.mkdir(mode=0o700, exist_ok=True)
    script = "set -e\n" + "\n".join(_documented_commands(context)) + "\n"
    # Not the scenario's environment: the operator's shell on the site.
    env = {"GNUPGHOME": str(home)}
    context.result = run(None, ["unshare", "-n", "bash", "-c", script], cwd=site, env=env)
    run(None, ["gpgconf", "--kill", "all"], env=env)


@when("I run the bundle verification commands of DEPLOYMENT.md on a copy of the bundle")
def step_documented(context):
    _run_documented(context, context.bundle)


@when("I run the bundle verification commands of DEPLOYMENT.md on that copy")
def step_documented_copy(context):
    _run_documented(context, context.bundle_copy)


@then("they exit with status 0")
def step_documented_ok(context):
    assert context.result.returncode == 0, shown(context.result)
    assert "Good signature" in context.result.stderr, shown(context.result)


@then('sha256sum printed "OK" for every file of the bundle')
def step_every_ok(context):
    listed = _description(context.bundle)  # the bundle is readable; now its sums:
    with tarfile.open(context.bundle) as archive:
        sums_member = next(m for m in archive.getmembers() if m.name.endswith("/SHA256SUMS"))
        handle = archive.extractfile(sums_member)
        assert handle is not None
        files = [line.split("  ", 1)[1] for line in handle.read().decode().splitlines()]
    ok = {line.removesuffix(": OK") for line in context.result.stdout.splitlines()}
    missing = [f for f in files if f not in ok]
    assert listed and not missing and len(files) > 10, f"not OK: {missing}\n" + shown(
        context.result
    )


@then('they exit with a non-zero status, sha256sum naming the installer "FAILED"')
def step_documented_failed(context):
    assert context.result.returncode != 0, shown(context.result)
    assert f"{context.installer_name}: FAILED" in context.result.stdout, shown(context.result)


@given('the images of release "{version}" are removed from Docker')
def step_remove_images(context, version):
    release = metadata.current_release(version)
    tags = [tag for name in specs.IMAGES for tag in specs.image_tags(release, name)]
    for tag in tags:
        # Not there is fine: that is what this step wants. --no-prune keeps the untagged
        # parents, which the classic builder's cache of other builds may still point to.
        with contextlib.suppress(DockerException):
            docker.image.remove(tag, prune=False)
    left = [tag for tag in tags if docker.image.exists(tag)]
    assert not left, f"still in Docker: {left}"


def _ctr(*arguments: str) -> str:
    return run(
        None,
        [
            "ctr",
            "--address",
            str(cluster_layout().containerd_socket),
            "--namespace",
            "k8s.io",
            "images",
            *arguments,
        ],
        check=True,
    ).stdout


@given("the bundle's images are removed from the local cluster's containerd")
def step_remove_from_containerd(context):
    """So the deploy can only succeed by importing them (running containers keep theirs). Only
    this bundle's names go: other releases' images stay."""
    ours = [
        f"docker.io/{facts['name']}{suffix}"
        for facts in _description(context.bundle)["images"].values()
        for suffix in (f":{facts['tag']}", f"@{facts['digest']}")
    ]
    present = [name for name in _ctr("ls", "-q").split() if name in ours]
    if present:
        _ctr("rm", *present)
    left = [name for name in _ctr("ls", "-q").split() if name in ours]
    assert not left, f"still in containerd: {left}"


def _deploy_bundle(context, *extra: str) -> None:
    command = ["invoke", "deploy", "--bundle", str(context.bundle)]
    context.env_overrides["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    run(context, [*command, "--public-key", str(context.public_key), *extra])


@when('I run "invoke deploy --bundle" with the public key and no Docker engine to talk to')
def step_deploy_bundle(context):
    _deploy_bundle(context)


@when('I run "invoke deploy --bundle" with the public key through the local registry')
def step_deploy_registry(context):
    _deploy_bundle(context, "--registry", context.registry.address)


def _deployed_images(context) -> dict[str, str]:
    return {
        d.name: d.raw["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in cluster_api(context).get("deployments", namespace=NAMESPACE)
    }


def _assert_pinned(context, registry: str | None) -> None:
    images = _description(context.bundle)["images"]
    deployed = _deployed_images(context)
    for component, facts in images.items():
        reference = deployed.get(component, "")
        expected = f"{registry}/{facts['name']}" if registry else facts["name"]
        assert reference.startswith(expected + ":"), (component, reference, expected)
        assert reference.endswith(f"@{facts['digest']}"), (component, reference, facts)


@then("every TraderAdmin Deployment runs the bundle's image by its digest")
def step_pinned(context):
    _assert_pinned(context, None)


@then("every TraderAdmin Deployment runs the bundle's image from the local registry by digest")
def step_pinned_registry(context):
    _assert_pinned(context, context.registry.address)


@then("the local registry holds each image of the bundle under the bundle's digest")
def step_registry_holds(context):
    for facts in _description(context.bundle)["images"].values():
        url = f"http://{context.registry.address}/v2/{facts['name']}/manifests/{facts['digest']}"
        response = httpx.get(
            url, headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=10
        )
        assert response.status_code == 200, (url, response.status_code, response.text)
        assert response.headers.get("Docker-Content-Digest") == facts["digest"], response.headers


@then("the cluster's containerd pulled each image from the local registry")
def step_pulled(context):
    listing = _ctr("ls")
    for facts in _description(context.bundle)["images"].values():
        name = f"{context.registry.address}/{facts['name']}"
        rows = [line.split() for line in listing.splitlines() if line.startswith(name)]
        assert any(row[2] == facts["digest"] for row in rows if len(row) > 2), (name, listing)
