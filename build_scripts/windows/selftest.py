"""The desktop app's `--selftest` run inside a Wine prefix, directly or through its shortcut."""

from __future__ import annotations

import json

from build_scripts.core import poll
from build_scripts.core.errors import (
    VerificationFailed,
)
from build_scripts.windows import wine


def run_selftest(
    prefix: wine.Prefix, exe: str, report: str, *, shortcut: str | None = None
) -> dict:
    """Run `<exe> --selftest <report>` in a Wine prefix and return the parsed report.

    With a shortcut (.lnk, a Windows path), the app is started through it the way Explorer
    does (`start`), with the arguments appended: that is launching it from the shortcut.
    """
    report_path = prefix.unix_path(report)
    report_path.unlink(missing_ok=True)
    if shortcut:
        prefix.run(["start", shortcut, "--selftest", report], step="selftest via shortcut")
        # `start` with a shortcut returns before the program ends.
        poll.eventually(report_path.exists, timeout=120)
        prefix.wait()
    else:
        prefix.run([exe, "--selftest", report], step="selftest")
    if not report_path.exists():
        raise VerificationFailed(f"{exe} --selftest wrote no report at {report}")
    return json.loads(report_path.read_text(encoding="utf-8"))
