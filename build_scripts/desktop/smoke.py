"""`desktop.smoke`: run the Linux build, open its window under Xvfb, save a screenshot."""

from __future__ import annotations

import contextlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import atomic, cmd, daemon, paths, poll, x11
from build_scripts.core.errors import (
    VerificationFailed,
)
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say


def verify_linux_binary(path: Path, release: Release) -> str:
    """Run `<binary> --version`; it must name this release. Returns what it printed."""
    output = cmd.output_of([path.resolve(), "--version"], step="desktop --version", timeout=60)
    if release.version_text not in output.split():
        raise VerificationFailed(
            f"{path.name} --version printed {output!r}, expected {release.version_text}"
        )
    return output


@dataclass(frozen=True)
class SmokeResult:
    version_output: str
    window_title: str
    window_size: tuple[int, int]
    screenshot: Path
    colours: int


def smoke_test_linux(
    binary: Path,
    release: Release,
    screenshot: Path,
    *,
    display: str | None = None,
    timeout: float = 90,
) -> SmokeResult:
    """Start the Linux app under Xvfb, wait for its window to render, save a screenshot (PNG).

    The app runs with a config folder of its own (updates off), so what it shows does not
    depend on the machine and it makes no request to the release's update feed.
    """
    version_output = verify_linux_binary(binary, release)
    with contextlib.ExitStack() as stack:
        display = display or stack.enter_context(x11.virtual_display())
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="traderadmin-ui-")))
        # A release build checks its update feed at start; the smoke run must not reach out.
        settings = scratch / "config" / "TraderAdmin" / "config.toml"
        settings.parent.mkdir(parents=True)
        settings.write_text('update_policy = "off"\n', encoding="utf-8")
        state = paths.state_dir() / "desktop-smoke"
        pid = cmd.start_background(
            [binary.resolve()],
            name=release.product,
            log_path=state / "app.log",
            pid_path=state / "app.pid",
            env={
                "DISPLAY": display,
                "XDG_CONFIG_HOME": str(scratch / "config"),
                "TRADERADMIN_CONFIG": None,
                # Xvfb has no GL: WebKit's compositing mode would draw nothing.
                "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
            },
        )
        stack.callback(daemon.terminate, pid, release.product, 10)
        window, title, size = _wait_for_window(display, release.product, pid, timeout)
        colours = _wait_until_rendered(display, window, scratch, pid, timeout)
        if not daemon.alive(pid):
            raise VerificationFailed(f"{release.product} exited after opening its window")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(screenshot) as tmp:
            cmd.run(
                ["import", "-display", display, "-window", window, f"png:{tmp}"],
                step="screenshot",
                quiet=True,
            )
    say(f"✓ window {title!r} {size[0]}x{size[1]}, {colours} colours; screenshot {screenshot}")
    return SmokeResult(version_output, title, size, screenshot, colours)


_WINDOW_LINE = re.compile(r'^\s*(0x[0-9a-f]+) "([^"]*)": \(.*\)\s+(\d+)x(\d+)\+')


def _wait_for_window(
    display: str, title: str, pid: int, timeout: float
) -> tuple[str, str, tuple[int, int]]:
    def exited() -> None:
        if not daemon.alive(pid):
            raise VerificationFailed(
                f"{title} exited before opening a window",
                f"see {paths.state_dir() / 'desktop-smoke' / 'app.log'}",
            )

    def window() -> tuple[str, str, tuple[int, int]] | None:
        for line in x11.window_tree(display, recursive=True).splitlines():
            match = _WINDOW_LINE.match(line)
            if match and match.group(2) == title:
                width, height = int(match.group(3)), int(match.group(4))
                if width >= 200 and height >= 200:
                    return match.group(1), title, (width, height)
        return None

    exited()
    return poll.until(
        window,
        what=f"a {title} window",
        timeout=timeout,
        watch=exited,
        fail=lambda _: VerificationFailed(f"no {title} window appeared within {timeout:.0f}s"),
    )


def _wait_until_rendered(
    display: str, window: str, scratch: Path, pid: int, timeout: float, enough: int = 64
) -> int:
    """Wait until the window shows content (anti-aliased text has many colours), not a blank."""
    colours = 0
    sample = scratch / "sample.ppm"

    def blank(_: str = "") -> VerificationFailed:
        return VerificationFailed(
            f"the window stayed blank ({colours} colours) for {timeout:.0f}s",
            "WebKit may have failed to render; see the app log under ~/.cache/traderadmin/state",
        )

    def rendered() -> int | None:
        nonlocal colours
        if not daemon.alive(pid):
            raise blank()
        cmd.run(
            ["import", "-display", display, "-window", window, f"ppm:{sample}"],
            step="screenshot",
            quiet=True,
            check=False,
        )
        if sample.exists():
            colours = _distinct_colours(sample.read_bytes())
            if colours >= enough:
                return colours
        return None

    return poll.until(
        rendered,
        what="the window to show content",
        timeout=timeout,
        interval=1,
        fail=blank,
    )


def _distinct_colours(ppm: bytes) -> int:
    """Distinct colours of a binary PPM (P6) image, sampled on every 3rd pixel."""
    fields = ppm.split(maxsplit=4)
    if len(fields) < 5 or fields[0] != b"P6":
        return 0
    width, height = int(fields[1]), int(fields[2])
    pixels = fields[4]
    step = 9
    return len({pixels[i : i + 3] for i in range(0, min(len(pixels), width * height * 3), step)})
