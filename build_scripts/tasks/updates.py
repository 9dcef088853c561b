"""updates: the desktop update feed — keys, a feed from given files, publishing, rollout,
withdrawal, and a static server on 127.0.0.1 (UPDATES.md)."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from build_scripts.core import metadata, paths
from build_scripts.core.errors import ConfigError
from build_scripts.core.progress import say
from build_scripts.tasks._base import release_task
from build_scripts.updates import feed, keys, manifest, publish, serve

KEY_HELP = f"minisign secret key (default: ${keys.ENV_KEY}); never kept in the repository"
FEED_HELP = "the published feed folder (what a web server serves)"


def _change(change: publish.Change, feed_root: Path) -> None:
    for line in change.lines:
        say(f"  {line}")
    say(f"feed {feed_root} updated ({change.version})")


@release_task(help={"to": "folder for traderadmin-update.key and traderadmin-update.pub"})
def keygen(c, to):
    """Make an update signing key pair with minisign (no password; keep the .key secret)."""
    key = keys.make_key_pair(Path(to))
    say(f"secret key: {key.secret_file} (keep it off the repository; ${keys.ENV_KEY})")
    say(f"public key: {key.secret_file.with_name(keys.PUBLIC_KEY_NAME)} ({key.key_id})")
    say(key.public_key)


@release_task(
    name="feed",
    help={
        "version": "the version these files are (SemVer)",
        "linux": "the Linux desktop binary clients download",
        "windows": "the Windows installer clients download",
        "out": "folder to write updates/ and RELEASE_NOTES.md into (default: dist/<version>/)",
        "notes": "release notes text (default: from git, as the release writes them)",
        "update-key": KEY_HELP,
    },
)
def make_feed(c, version, linux=None, windows=None, out=None, notes=None, update_key=None):
    """A release's update feed from given files (what the update-feed step writes; for tests)."""
    key = keys.from_env(update_key)  # a bad key file fails before anything is written
    release = metadata.current_release(version)
    files = [
        feed.FeedFile(platform, Path(path), name)
        for platform, path, name in (
            ("linux-x86_64", linux, feed.linux_file_name(release.product, version)),
            ("windows-x86_64", windows, Path(windows or "-").name),
        )
        if path
    ]
    if not files:
        raise ConfigError("no file given", "pass --linux FILE and/or --windows FILE")
    for item in files:
        if not item.source.is_file():
            raise ConfigError(f"{item.source} is not a file")
    if notes is None:
        from build_scripts.updates import notes as release_notes

        date = manifest.pub_date(release.source_date_epoch)[:10]
        notes = release_notes.release_notes(paths.repo_root(), release.product, version, date)
    artifacts = feed.write_release_feed(
        Path(out) if out else release.dist_dir,
        product=release.product,
        version=release.version_text,
        published=manifest.pub_date(release.source_date_epoch),
        notes=notes,
        files=files,
        key=key,
        minimum_version=release.update_minimum_version,
    )
    for artifact in artifacts:
        say(f"{artifact.path}  {artifact.note}")


@release_task(
    name="publish",
    help={
        "to": FEED_HELP,
        "release": "the release version whose dist/<version>/updates/ to publish "
        "(default: this checkout's)",
        "from": "publish this folder's updates/ instead (what updates.feed --out wrote)",
        "rollout": "percentage of installations offered the new version (default: 100)",
        "update-key": KEY_HELP,
    },
)
def publish_release(c, to, release=None, from_=None, rollout=None, update_key=None):
    """Merge a release into a feed folder (earlier versions kept; all or nothing)."""
    if from_:
        updates_dir = Path(from_) / feed.FOLDER
    else:
        current = metadata.current_release(release or c.config.release.version)
        updates_dir = feed.feed_dir(current.dist_dir)
    if not updates_dir.is_dir():
        raise ConfigError(
            f"{updates_dir} does not exist",
            "make it first: invoke release --only update-feed --update-key FILE",
        )
    change = publish.publish(
        Path(to),
        updates_dir,
        keys.from_env(update_key),
        rollout=None if rollout is None else _whole(rollout, "--rollout"),
    )
    _change(change, Path(to))


@release_task(
    help={
        "dir": FEED_HELP,
        "channel": "stable or beta",
        "percentage": "0..100 of installations offered the channel's version",
        "update-key": KEY_HELP,
    }
)
def rollout(c, dir, channel, percentage, update_key=None):
    """Change the share of installations a channel offers its current version to."""
    change = publish.set_rollout(
        Path(dir), channel, _whole(percentage, "--percentage"), keys.from_env(update_key)
    )
    _change(change, Path(dir))


@release_task(help={"version": "the version to withdraw", "dir": FEED_HELP, "update-key": KEY_HELP})
def withdraw(c, version, dir, update_key=None):
    """Withdraw a version: never offered again; clients on it go back to the last good one."""
    change = publish.withdraw(Path(dir), version, keys.from_env(update_key))
    _change(change, Path(dir))


@release_task(
    name="serve", help={"dir": FEED_HELP, "port": "port on 127.0.0.1 (default 0: a free one)"}
)
def serve_feed(c, dir, port=0):
    """Serve a feed folder on 127.0.0.1 (tests, demos) until Ctrl-C; prints its URL first."""
    server = serve.make_server(Path(dir), int(port), quiet=False)
    # The first line is the URL alone, for scripts that start this and read where it listens.
    print(serve.url_of(server), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _whole(value: object, flag: str) -> int:
    try:
        return publish.check_percentage(int(str(value)))
    except ValueError:
        raise ConfigError(f"{flag} {value!r}: a percentage is a whole number 0..100") from None


ns = Collection(keygen, make_feed, publish_release, rollout, withdraw, serve_feed)
