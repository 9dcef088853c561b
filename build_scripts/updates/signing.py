"""minisign signatures of the feed's files, made and checked with Debian's `minisign`.

Each signed file F gets F.minisig beside it, in minisign's default prehashed form (BLAKE2b-512
of the file, then Ed25519), which is what `minisign -Vm F -p traderadmin-update.pub` checks and
what the desktop app checks. The trusted comment (`traderadmin <channel-or-file> <version>`) is
covered by the signature's global signature.
"""

from __future__ import annotations

from pathlib import Path

from build_scripts.core import cmd
from build_scripts.core.errors import VerificationFailed
from build_scripts.updates.keys import UpdateKey

SUFFIX = ".minisig"


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def trusted_comment(subject: str, version: str) -> str:
    return f"traderadmin {subject} {version}"


def sign(path: Path, key: UpdateKey, comment: str) -> Path:
    """Write path.minisig; returns its path."""
    signature = signature_path(path)
    cmd.run(
        ["minisign", "-S", "-s", key.secret_file, "-m", path, "-x", signature, "-t", comment],
        step="minisign",
        capture=True,
        quiet=True,
        # A key with a password would wait for one on the terminal: there is none.
        input="",
    )
    return signature


def verify(path: Path, public_key: str, signature: Path | None = None) -> str:
    """The trusted comment of a good signature of path by public_key (base64), else
    VerificationFailed naming the file."""
    signature = signature or signature_path(path)
    if not signature.is_file():
        raise VerificationFailed(f"{path.name} has no signature ({signature.name} is missing)")
    done = cmd.run(
        ["minisign", "-V", "-P", public_key, "-m", path, "-x", signature],
        step="minisign",
        capture=True,
        quiet=True,
        check=False,
    )
    if done.returncode != 0:
        last = done.output.strip().splitlines()[-1:] or ["no output"]
        raise VerificationFailed(f"{path.name} does not match {signature.name}: {last[0]}")
    for line in done.output.splitlines():
        if line.startswith("Trusted comment: "):
            return line.removeprefix("Trusted comment: ")
    return ""
