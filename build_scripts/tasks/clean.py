"""clean: remove old snapshot releases from dist/ and their images."""

from __future__ import annotations

from invoke import Collection

from build_scripts.core import metadata
from build_scripts.core.progress import say
from build_scripts.release import housekeeping
from build_scripts.tasks._base import release_task


@release_task(default=True, help={"keep": "how many of the newest snapshot versions to keep"})
def run(c, keep=3):
    """Remove old snapshot builds (dist/<version>/, image tags); keep releases and the newest."""
    release = metadata.current_release(c.config.release.version)
    result = housekeeping.clean(release, int(keep))
    for folder in result.removed_folders:
        say(f"removed {folder}")
    for tag in result.removed_tags:
        say(f"removed image {tag}")
    say(f"kept: {', '.join(result.kept) or 'nothing'}")


ns = Collection(run)
