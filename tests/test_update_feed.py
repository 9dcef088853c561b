"""The update feed: manifests, signatures, channels, version order, publish, rollout, withdraw.

One key pair and two small releases (1.0.0, 1.1.0) and a pre-release are made once per session;
each test publishes into a feed folder of its own. Signatures are checked with the minisign
CLI, as an operator does; faults are made for real (a file changed after signing, a secret key
gone in the middle of a publish) and the feed is compared byte for byte afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from build_scripts.core import metadata
from build_scripts.core.errors import CommandFailed, ConfigError, VerificationFailed
from build_scripts.desktop import build as desktop
from build_scripts.updates import feed, keys, manifest, publish, serve, signing, versions

REPO = Path(__file__).resolve().parent.parent
EPOCH = 1_765_000_000


@pytest.fixture(scope="session")
def update_key(tmp_path_factory) -> keys.UpdateKey:
    return keys.make_key_pair(tmp_path_factory.mktemp("update-key"))


def _release(root: Path, version: str, key: keys.UpdateKey | None) -> Path:
    """A release's updates/ folder for version, from two small files; returns updates/."""
    sources = root / f"src-{version}"
    sources.mkdir(parents=True)
    linux, setup = sources / "TraderAdmin", sources / f"TraderAdmin_Setup_v{version}.exe"
    linux.write_bytes(f"linux binary {version}\n".encode() * 64)
    setup.write_bytes(f"installer {version}\n".encode() * 64)
    dist = root / version
    feed.write_release_feed(
        dist,
        product="TraderAdmin",
        version=version,
        published=manifest.pub_date(EPOCH),
        notes=f"# TraderAdmin {version}\n",
        files=[
            feed.FeedFile("linux-x86_64", linux, feed.linux_file_name("TraderAdmin", version)),
            feed.FeedFile("windows-x86_64", setup, setup.name),
        ],
        key=key,
    )
    return feed.feed_dir(dist)


@pytest.fixture(scope="session")
def releases(tmp_path_factory, update_key) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("releases")
    made = {v: _release(root, v, update_key) for v in ("1.0.0", "1.1.0", "1.2.0-rc.1")}
    made["unsigned-1.0.0"] = _release(root / "unsigned", "1.0.0", None)
    return made


def _tree(folder: Path) -> dict[str, str]:
    """Every file below folder (dot names too) by content digest."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _minisign_ok(path: Path, public_key_file: Path) -> bool:
    done = subprocess.run(
        ["minisign", "-Vm", path, "-p", public_key_file], capture_output=True, check=False
    )
    return done.returncode == 0


# --- the release's feed --------------------------------------------------------------------


def test_every_file_of_a_signed_release_verifies_with_the_public_key_file(releases):
    updates = releases["1.0.0"]
    public = updates / keys.PUBLIC_KEY_NAME
    signed = feed.signed_files(updates)
    assert sorted(p.relative_to(updates).as_posix() for p in signed) == [
        "beta.json",
        "files/TraderAdmin-1.0.0-linux-amd64",
        "files/TraderAdmin_Setup_v1.0.0.exe",
        "release.json",
        "stable.json",
    ]
    assert all(_minisign_ok(path, public) for path in signed)


def test_a_pre_release_goes_to_beta_only_and_a_final_to_both(releases):
    assert versions.channels_for("1.2.0-rc.1") == ("beta",)
    assert versions.channels_for("1.0.0") == ("stable", "beta")
    assert not (releases["1.2.0-rc.1"] / "stable.json").exists()
    assert manifest.load(releases["1.2.0-rc.1"] / "beta.json")["channel"] == "beta"
    assert manifest.load(releases["1.0.0"] / "stable.json")["channel"] == "stable"


def test_versions_follow_semver_precedence_with_pre_releases():
    # semver.org §11's example, a dev snapshot and numeric identifiers compared as numbers.
    ordered = [
        "0.7.0-dev.g36740b98",
        "0.7.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.10",
    ]
    assert sorted(reversed(ordered), key=versions.sort_key) == ordered
    assert versions.newest(["1.0.0", "1.0.0-rc.2", "0.9.9"]) == "1.0.0"


def test_the_manifests_match_the_schema_and_the_schema_refuses_what_clients_cannot_use(releases):
    document = manifest.load(releases["1.0.0"] / "stable.json")
    assert manifest.problems(document) == []
    assert document["signed"] is True
    linux = document["platforms"]["linux-x86_64"]
    assert linux["url"] == "1.0.0/TraderAdmin-1.0.0-linux-amd64"
    assert (
        linux["signature"]
        == (releases["1.0.0"] / "files" / "TraderAdmin-1.0.0-linux-amd64.minisig").read_text()
    )
    broken = {
        "rollout above 100": {**document, "rollout": 101},
        "no version": {k: v for k, v in document.items() if k != "version"},
        "not semver": {**document, "version": "1.0"},
        "unknown platform": {**document, "platforms": {"darwin-arm64": linux}},
        "signed without signature": {
            **document,
            "platforms": {"linux-x86_64": {**linux, "signature": ""}},
        },
        "an extra field": {**document, "url": "x"},
    }
    for why, bad in broken.items():
        assert manifest.problems(bad), why


def _changed(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value - 1
    if isinstance(value, list):
        return [*value, "9.9.9"]
    if isinstance(value, str) and value.count(".") == 2 and value[0].isdigit():
        return "9.9.9"
    return f"{value}x"


def test_minisign_refuses_a_signed_manifest_with_any_field_changed(releases, update_key, tmp_path):
    signed = releases["1.0.0"] / "stable.json"
    public = releases["1.0.0"] / keys.PUBLIC_KEY_NAME
    original = json.loads(signed.read_text())
    paths: list[tuple[str, ...]] = [(k,) for k in original if k != "platforms"]
    for platform, entry in original["platforms"].items():
        paths += [("platforms", platform, field) for field in entry]
    assert len(paths) == 18
    copy = tmp_path / "stable.json"
    shutil.copyfile(signing.signature_path(signed), signing.signature_path(copy))
    copy.write_text(signed.read_text())
    assert _minisign_ok(copy, public)
    for path in paths:
        document = json.loads(signed.read_text())
        holder = document
        for part in path[:-1]:
            holder = holder[part]
        holder[path[-1]] = _changed(holder[path[-1]])
        copy.write_text(json.dumps(document, indent=2) + "\n")
        assert not _minisign_ok(copy, public), f"{'/'.join(path)} changed, still verified"
        with pytest.raises(VerificationFailed):
            signing.verify(copy, update_key.public_key)
    # The same bytes under an edited trusted comment: the global signature refuses it too.
    copy.write_text(signed.read_text())
    text = signing.signature_path(signed).read_text().replace("stable 1.0.0", "stable 1.9.0")
    signing.signature_path(copy).write_text(text)
    assert not _minisign_ok(copy, public)


def test_an_unsigned_release_says_so_and_has_no_signatures(releases):
    updates = releases["unsigned-1.0.0"]
    assert not list(updates.rglob("*.minisig"))
    assert not (updates / keys.PUBLIC_KEY_NAME).exists()
    for name in ("release.json", "stable.json", "beta.json"):
        document = manifest.load(updates / name)
        assert document["signed"] is False
        assert all(p["signature"] == "" for p in document["platforms"].values())


# --- keys ----------------------------------------------------------------------------------


def test_the_public_key_is_derived_from_the_secret_key_as_minisign_writes_it(update_key):
    public_file = update_key.secret_file.with_name(keys.PUBLIC_KEY_NAME)
    assert update_key.public_key_text == public_file.read_text()
    assert update_key.public_key.startswith("RW")


def test_a_key_id_with_a_leading_zero_is_written_as_minisign_writes_it(tmp_path):
    # minisign prints the id without leading zeros (one key in 16): make keys until one has it.
    for attempt in range(200):
        key = keys.make_key_pair(tmp_path / str(attempt))
        written = key.secret_file.with_name(keys.PUBLIC_KEY_NAME).read_text()
        if len(written.splitlines()[0].rsplit(" ", 1)[1]) < 16:
            break
    else:
        pytest.fail("200 keys from minisign, none with a leading zero in its id")
    assert key.public_key_text == written


def _bad_keys(folder: Path, good: Path) -> dict[str, Path]:
    folder.mkdir()
    lines = good.read_text().splitlines()
    made = {
        "does not exist": folder / "missing.key",
        "is a folder": folder,
        "not a minisign secret key file": folder / "public.key",
        "not base64": folder / "garbled.key",
        "damaged": folder / "damaged.key",
        "not a minisign Ed25519 secret key": folder / "short.key",
    }
    made["not a minisign secret key file"].write_text("hello\n")
    made["not base64"].write_text(f"{lines[0]}\n!!!{lines[1]}\n")
    raw = bytearray(base64.b64decode(lines[1]))
    raw[70] ^= 0xFF  # one byte of the secret half: the halves no longer match
    made["damaged"].write_text(f"{lines[0]}\n{base64.b64encode(raw).decode()}\n")
    made["not a minisign Ed25519 secret key"].write_text(f"{lines[0]}\n{lines[1][:40]}\n")
    # What `minisign -G` with a password writes differs from a -W key in its KDF field ("Sc",
    # scrypt); making a real one spends seconds in scrypt, so the field is set here.
    password = folder / "password.key"
    raw = bytearray(base64.b64decode(lines[1]))
    raw[2:4] = b"Sc"
    password.write_text(f"{lines[0]}\n{base64.b64encode(raw).decode()}\n")
    made["password-protected"] = password
    return made


def test_a_bad_key_file_is_refused_in_one_line_saying_what_is_wrong(update_key, tmp_path):
    for why, path in _bad_keys(tmp_path / "bad", update_key.secret_file).items():
        with pytest.raises(ConfigError) as caught:
            keys.read_secret_key(path)
        assert why in caught.value.one_line()
        assert "\n" not in caught.value.one_line()


def test_a_bad_key_file_ends_the_task_with_one_line_and_writes_nothing(tmp_path):
    from invoke import Context, Exit

    from build_scripts.tasks import updates as update_tasks

    binary = tmp_path / "TraderAdmin"
    binary.write_bytes(b"x" * 100)
    bad = tmp_path / "bad.key"
    bad.write_text("untrusted comment: minisign encrypted secret key\nRWQ=\n")
    with pytest.raises(Exit) as caught:
        update_tasks.make_feed(
            Context(), "1.0.0", linux=str(binary), out=str(tmp_path / "out"), update_key=str(bad)
        )
    assert caught.value.code == 2
    assert caught.value.message == (
        f"error: update key {bad} is not a minisign Ed25519 secret key — {keys.MAKE_ONE}"
    )
    assert not (tmp_path / "out").exists()


def test_invoke_release_refuses_a_bad_update_key_before_any_step(update_key, tmp_path, monkeypatch):
    from invoke import Config, Context, Exit

    import tasks as root
    from build_scripts.tasks import release as release_tasks

    monkeypatch.setenv("TRADERADMIN_DIST", str(tmp_path / "dist"))
    password = _bad_keys(tmp_path / "bad", update_key.secret_file)["password-protected"]
    context = Context(Config(defaults=root.ns.configuration()))
    with pytest.raises(Exit) as caught:
        release_tasks.release(context, update_key=str(tmp_path / "missing.key"))
    assert caught.value.code == 2
    assert caught.value.message.startswith(f"error: update key {tmp_path}/missing.key does not")
    monkeypatch.setenv(keys.ENV_KEY, str(password))  # the environment's key is checked alike
    with pytest.raises(Exit) as caught:
        release_tasks.release(context)
    assert caught.value.code == 2
    assert "is password-protected" in caught.value.message
    assert "\n" not in caught.value.message
    assert not (tmp_path / "dist").exists()


# --- the desktop build carries the key and the feed URL ------------------------------------


def test_the_desktop_build_carries_the_public_key_and_the_default_feed_url(update_key):
    release = metadata.current_release("1.2.3")
    assert release.update_feed_url == "https://traderadmin.invalid/updates/"
    flags = desktop.ldflags(release, update_key.public_key).split()
    assert f"traderadmin/desktop/internal/update.PublicKey={update_key.public_key}" in flags
    assert "traderadmin/desktop/internal/update.DefaultFeedURL=" + release.update_feed_url in flags
    # Without a key the variable is set empty: the app refuses every feed.
    assert "traderadmin/desktop/internal/update.PublicKey=" in desktop.ldflags(release).split()


def test_the_feed_step_takes_the_public_key_as_input_never_the_secret(update_key, monkeypatch):
    from build_scripts.release import steps

    step = next(s for s in steps.standard_steps() if s.name == "update-feed")
    desktop_step = next(s for s in steps.standard_steps() if s.name == "desktop-linux")
    release = metadata.current_release("1.2.3")
    monkeypatch.delenv(keys.ENV_KEY, raising=False)
    assert step.inputs.params(release)["update_key"] == "unsigned"
    monkeypatch.setenv(keys.ENV_KEY, str(update_key.secret_file))
    params = {**step.inputs.params(release), **desktop_step.inputs.params(release)}
    assert params["update_key"] == update_key.public_key
    assert update_key.public_key in str(params["ldflags"])
    secret_line = update_key.secret_file.read_text().splitlines()[1]
    assert not any(secret_line in str(v) for v in params.values())


def test_a_feed_url_that_cannot_be_built_in_is_refused(tmp_path):
    source = (REPO / "release.toml").read_text()
    for bad in ("ftp://x/", "https://x/a b/", "https://x/no-slash"):
        path = tmp_path / "release.toml"
        path.write_text(source.replace("https://traderadmin.invalid/updates/", bad))
        with pytest.raises(ConfigError, match="feed_url"):
            metadata.load_product(path)


# --- the published feed --------------------------------------------------------------------


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def test_publish_keeps_earlier_versions_and_the_served_channel_offers_the_newest(
    releases, update_key, tmp_path
):
    root = tmp_path / "feed"
    publish.publish(root, releases["1.0.0"], update_key)
    first = _tree(root / "1.0.0")
    change = publish.publish(root, releases["1.1.0"], update_key)
    assert change.lines == (
        "stable: offers 1.1.0 to 100% (was 1.0.0)",
        "beta: offers 1.1.0 to 100% (was 1.0.0)",
    )
    assert _tree(root / "1.0.0") == first
    publish.publish(root, releases["1.2.0-rc.1"], update_key)
    assert publish.published_versions(root) == ["1.0.0", "1.1.0", "1.2.0-rc.1"]
    with serve.serving(root) as url:
        assert url.startswith("http://127.0.0.1:")
        stable = json.loads(_fetch(url + "stable.json"))
        beta = json.loads(_fetch(url + "beta.json"))
        linux = _fetch(url + stable["platforms"]["linux-x86_64"]["url"])
        signature = _fetch(url + "stable.json.minisig")
    assert (stable["version"], beta["version"]) == ("1.1.0", "1.2.0-rc.1")
    assert hashlib.sha256(linux).hexdigest() == stable["platforms"]["linux-x86_64"]["sha256"]
    assert signature == (root / "stable.json.minisig").read_bytes()
    public = update_key.secret_file.with_name(keys.PUBLIC_KEY_NAME)
    assert all(_minisign_ok(p, public) for p in feed.signed_files(root))
    # An older version published later keeps its files but does not move the channel back.
    again = publish.publish(root, releases["1.0.0"], update_key)
    assert again.lines[0] == "stable: stays at 1.1.0 (not older than 1.0.0)"


def test_rollout_rewrites_and_re_signs_the_channel_and_accepts_only_0_to_100(
    releases, update_key, tmp_path
):
    root = tmp_path / "feed"
    publish.publish(root, releases["1.0.0"], update_key, rollout=10)
    assert manifest.load(root / "stable.json")["rollout"] == 10
    for bad in (-1, 101):
        with pytest.raises(ConfigError, match=r"0\.\.100"):
            publish.set_rollout(root, "stable", bad, update_key)
    with pytest.raises(ConfigError, match="unknown channel"):
        publish.set_rollout(root, "nightly", 50, update_key)
    publish.set_rollout(root, "stable", 30, update_key)
    assert manifest.load(root / "stable.json")["rollout"] == 30
    assert manifest.load(root / "beta.json")["rollout"] == 10
    signing.verify(root / "stable.json", update_key.public_key)
    with pytest.raises(ConfigError, match="needs the"):
        publish.set_rollout(root, "stable", 40, None)


def test_withdraw_offers_the_last_good_version_and_lists_the_withdrawn_one(
    releases, update_key, tmp_path
):
    root = tmp_path / "feed"
    for version in ("1.0.0", "1.1.0", "1.2.0-rc.1"):
        publish.publish(root, releases[version], update_key)
    publish.set_rollout(root, "stable", 20, update_key)
    publish.withdraw(root, "1.1.0", update_key)
    stable, beta = manifest.load(root / "stable.json"), manifest.load(root / "beta.json")
    assert (stable["version"], stable["withdrawn"], stable["rollout"]) == ("1.0.0", ["1.1.0"], 100)
    assert (beta["version"], beta["withdrawn"]) == ("1.2.0-rc.1", ["1.1.0"])
    assert (root / "1.1.0" / "release.json").is_file()  # its files stay; nothing offers them
    for channel in ("stable", "beta"):
        signing.verify(root / f"{channel}.json", update_key.public_key)
    with pytest.raises(ConfigError, match="withdrawn"):
        publish.publish(root, releases["1.1.0"], update_key)
    with pytest.raises(ConfigError, match="nothing to offer"):
        publish.withdraw(root, "1.0.0", update_key)
    assert manifest.load(root / "stable.json") == stable  # the refused withdrawal changed nothing


def test_a_publish_that_fails_leaves_the_previous_feed_as_it_was(releases, update_key, tmp_path):
    root = tmp_path / "feed"
    publish.publish(root, releases["1.0.0"], update_key)
    before = _tree(root)
    # A release file changed after it was signed: refused before the feed is touched.
    tampered = tmp_path / "tampered" / "updates"
    shutil.copytree(releases["1.1.0"], tampered)
    (tampered / "files" / "TraderAdmin-1.1.0-linux-amd64").write_bytes(b"evil\n")
    with pytest.raises(VerificationFailed, match="does not match"):
        publish.publish(root, tampered, update_key)
    assert _tree(root) == before
    # The secret key gone half-way: the files are staged, the first channel's signing fails.
    key_copy = tmp_path / "key" / "traderadmin-update.key"
    key_copy.parent.mkdir()
    shutil.copyfile(update_key.secret_file, key_copy)
    vanishing = keys.read_secret_key(key_copy)
    key_copy.unlink()
    with pytest.raises(CommandFailed, match="minisign"):
        publish.publish(root, releases["1.1.0"], vanishing)
    assert _tree(root) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".feed")) == [
        ".feed.lock"
    ]


def test_an_unsigned_feed_is_published_only_without_a_key(releases, update_key, tmp_path):
    root = tmp_path / "feed"
    with pytest.raises(ConfigError, match="unsigned"):
        publish.publish(root, releases["unsigned-1.0.0"], update_key)
    assert not root.exists()
    publish.publish(root, releases["unsigned-1.0.0"], None)
    assert manifest.load(root / "stable.json")["signed"] is False
    assert not list(root.rglob("*.minisig"))
