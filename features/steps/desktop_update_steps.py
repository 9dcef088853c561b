"""Steps about the desktop app updating itself from a signed feed (issue 23)."""

from __future__ import annotations

from pathlib import Path

from _support import run, shown
from behave import given, then, when

from build_scripts.updates import signing
from tests import desktop_update_support as support

# Built once per behave run: three real desktop builds take ~35 s with a warm Go cache.
_BUILT: dict[str, object] = {}


@given("three desktop versions built with a test update key, the third made to fail at start")
def step_versions_built(context):
    if not _BUILT:
        import tempfile

        root = Path(tempfile.mkdtemp(prefix="traderadmin-update-versions-"))
        _BUILT["key"] = support.make_key(root / "key")
        _BUILT["versions"] = support.build_versions(root, _BUILT["key"])
    context.update_key = _BUILT["key"]
    context.versions = _BUILT["versions"]


@given("an update feed signed with that key, served on 127.0.0.1")
def step_feed_served(context):
    feed = support.Feed(context.scratch / "feed", context.update_key, context.versions)
    served = support.served(feed.root)
    feed.url = served.__enter__()
    context.add_cleanup(served.__exit__, None, None, None)
    context.feed = feed


@given('version "{version}" is installed in a temporary folder')
def step_installed(context, version):
    context.app, context.app_config = support.install(
        context.versions[version], context.scratch / "app", context.feed.url
    )


@given('versions "{first}" and "{second}" are published in the feed')
def step_feed_offers(context, first, second):
    context.feed.publish(first, second)


@given("the feed's {part} is altered after signing")
def step_feed_altered(context, part):
    feed = context.feed
    manifest = feed.manifest
    if part == "manifest":
        manifest.write_text(manifest.read_text().replace('"rollout": 100', '"rollout": 99'))
    elif part == "file":
        binary = feed.file_of(support.V2)
        data = bytearray(binary.read_bytes())
        data[len(data) // 2] ^= 0xFF
        binary.write_bytes(bytes(data))
    elif part == "signature":
        copy = context.scratch / manifest.name
        copy.write_bytes(manifest.read_bytes())
        forged = signing.sign(copy, support.make_key(context.scratch / "k2"), "forged")
        manifest.with_name(manifest.name + ".minisig").write_bytes(forged.read_bytes())
    else:
        raise AssertionError(f"no way to alter the feed's {part}")
    context.folder_before = support.folder_digest(context.app.parent)


@when('I run the installed app with "{arguments}"')
def step_run_installed(context, arguments):
    context.env_overrides.update(support.app_env(getattr(context, "display", None)))
    run(context, [str(context.app), "--config", str(context.app_config), *arguments.split()])


@then('the installed app reports version "{version}"')
def step_reports_version(context, version):
    result = run(context, [str(context.app), "--version"])
    assert result.returncode == 0 and version in result.stdout.split(), shown(result)


@then('the previous binary is kept beside it as "{name}"')
def step_previous_kept(context, name):
    previous = context.app.with_name(name)
    assert previous.is_file(), f"no {previous}"
    assert support.sha256(previous) == support.sha256(context.versions[support.V1].binary)


@then("the update was undone within {seconds:d} seconds")
def step_undone_within(context, seconds):
    assert context.elapsed < seconds, f"took {context.elapsed:.0f}s\n{shown(context.result)}"


@then("the installed folder is exactly as it was")
def step_folder_unchanged(context):
    assert support.folder_digest(context.app.parent) == context.folder_before, shown(context.result)
