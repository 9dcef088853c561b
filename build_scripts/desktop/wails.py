"""The one `wails build` command line of a production build, for every platform."""

from __future__ import annotations


def wails_argv(platform: str, ldflags: str, *, first: bool) -> list[str]:
    argv = [
        "wails",
        "build",
        "-platform",
        platform,
        "-clean",
        "-trimpath",
        "-m",  # no `go mod tidy`: go.mod/go.sum are the source of truth
        "-nocolour",
        "-ldflags",
        ldflags,
    ]
    if not first:
        # The front end and its Go bindings do not depend on the platform: built once.
        argv += ["-s", "-skipbindings"]
    return argv
