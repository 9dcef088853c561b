"""A virtual X display (Xvfb) and the windows on it: Wine programs and the Linux app need an
X server even when no one looks at it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from build_scripts.core import cmd, daemon, paths, poll
from build_scripts.core.errors import ReleaseError, VerificationFailed

SCREEN = "1280x1024x24"


@contextlib.contextmanager
def virtual_display(screen: str = SCREEN) -> Iterator[str]:
    """Start an Xvfb server on a free display number; yield its DISPLAY value; stop it.

    Wine programs and the Linux app need an X server even when no one looks at it. One server
    serves every command of a test, so windows and Wine's desktop process outlive single calls
    (xvfb-run would stop the server after each command).
    """
    number = _free_display_number()
    state = paths.state_dir() / "xvfb"
    pid_path = state / f"display-{number}.pid"
    socket = Path(f"/tmp/.X11-unix/X{number}")
    pid = daemon.start_and_wait(
        ["Xvfb", f":{number}", "-screen", "0", screen, "-nolisten", "tcp"],
        name=f"Xvfb :{number}",
        answers=socket.exists,
        log_path=state / f"display-{number}.log",
        pid_path=pid_path,
        timeout=30,
        interval=0.1,
    )
    try:
        yield f":{number}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        pid_path.unlink(missing_ok=True)


def _free_display_number(start: int = 90) -> int:
    for number in range(start, start + 100):
        if not (
            Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise ReleaseError("no free X display number between :90 and :189")


def window_tree(display: str, *, recursive: bool = False) -> str:
    """`xwininfo -root -children` (or `-tree`): one line per window, id, title and geometry."""
    return cmd.run(
        ["xwininfo", "-display", display, "-root", "-tree" if recursive else "-children"],
        step="xwininfo",
        capture=True,
        quiet=True,
        check=False,
    ).output


def window_titles(display: str) -> list[str]:
    """Titles of the named top-level windows on a display."""
    return re.findall(r'^\s*0x[0-9a-f]+ "([^"]*)":', window_tree(display), re.M)


def press_enter_through(
    display: str,
    title: str,
    *,
    screenshots: Path | None = None,
    timeout: float = 180,
    settle: float = 2.0,
) -> int:
    """Press Enter on a wizard until no window whose title starts with `title` is left.

    Enter presses each page's default button (Next, I Agree, Install, OK, Finish, Close), which
    is what a user accepting every default does. With screenshots, each page is saved there as
    PNG before its button is pressed. Returns the number of presses.
    """
    presses = 0
    deadline = time.monotonic() + timeout
    env = {"DISPLAY": display}

    def open_() -> bool:
        return any(t.startswith(title) for t in window_titles(display))

    poll.until(
        open_,
        what=f"a {title!r} window",
        timeout=timeout,
        fail=lambda _: VerificationFailed(f"no {title!r} window appeared within {timeout:.0f}s"),
    )

    def pressed_through() -> bool:
        nonlocal presses
        time.sleep(settle)  # let the page (or the next window) appear
        if not open_():
            return True
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            shot = screenshots / f"{presses + 1:02d}.png"
            cmd.run(
                ["import", "-display", display, "-window", "root", f"png:{shot}"],
                step="screenshot",
                quiet=True,
                check=False,
            )
        cmd.run(["xdotool", "key", "Return"], step="xdotool", env=env, quiet=True)
        presses += 1
        return False

    poll.until(
        pressed_through,
        what=f"the {title!r} wizard to close",
        timeout=max(0.0, deadline - time.monotonic()),
        interval=0,
        fail=lambda _: VerificationFailed(
            f"the {title!r} wizard was still open after {timeout:.0f}s"
        ),
    )
    return presses
