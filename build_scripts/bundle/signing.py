"""OpenPGP signatures of the bundle's SHA256SUMS, made and checked with gpg.

A detached, ASCII-armoured signature (SHA256SUMS.asc) is what an operator checks with
`gpg --verify SHA256SUMS.asc SHA256SUMS`, no code of ours needed. SHA256SUMS names every file
of the bundle, the image layouts' blobs among them (content-addressed), so this one signature
covers the images too.

gpg always runs in a throwaway home (a private temporary folder): the signing key is imported
from the file the operator names and is gone afterwards; verification trusts exactly the public
key given, nothing from the user's keyring. The gpg-agent such a home starts is stopped by
that home (gpgconf --kill), never by name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import cmd
from build_scripts.core.errors import CommandFailed, ConfigError, VerificationFailed

SIGNATURE_NAME = "SHA256SUMS.asc"
ENV_KEY = "TRADERADMIN_BUNDLE_SIGNING_KEY"
ENV_PASSPHRASE = "TRADERADMIN_BUNDLE_SIGNING_PASSPHRASE"
UNSIGNED = "unsigned"


@dataclass(frozen=True)
class Signer:
    """The secret key file (never in the repository) and its passphrase, if it has one."""

    key_file: Path
    passphrase: str | None = None

    @classmethod
    def from_env(cls, key_file: str | None = None) -> Signer | None:
        """--signing-key FILE, else $TRADERADMIN_BUNDLE_SIGNING_KEY; None: unsigned."""
        chosen = (key_file or os.environ.get(ENV_KEY, "")).strip()
        if not chosen:
            return None
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"signing key {path} is not a file",
                f"give a secret key exported with gpg --export-secret-keys (--signing-key or "
                f"${ENV_KEY})",
            )
        return cls(path.resolve(), os.environ.get(ENV_PASSPHRASE) or None)


@contextlib.contextmanager
def throwaway_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="traderadmin-gnupg-"))
    os.chmod(home, 0o700)
    try:
        yield home
    finally:
        with contextlib.suppress(Exception):
            cmd.run(
                ["gpgconf", "--homedir", home, "--kill", "all"],
                step="gpg",
                quiet=True,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)


def _gpg(home: Path, *arguments: str | os.PathLike, input: str | None = None, step: str):
    return cmd.run(
        ["gpg", "--homedir", home, "--batch", "--no-tty", *arguments],
        step=step,
        capture=True,
        quiet=True,
        check=False,
        input=input,
    )


def fingerprints(colons: str, record: str) -> list[str]:
    """Primary-key fingerprints from `gpg --with-colons` output (the fpr after each record)."""
    found, wanted = [], False
    for line in colons.splitlines():
        fields = line.split(":")
        if fields[0] == record:
            wanted = True
        elif fields[0] == "fpr" and wanted:
            found.append(fields[9])
            wanted = False
    return found


def sign(data: bytes, signer: Signer) -> tuple[bytes, str]:
    """An armoured detached signature of data, and the signing key's fingerprint."""
    with throwaway_home() as home:
        secret = ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]
        passphrase = signer.passphrase or ""
        done = _gpg(home, *secret, "--import", signer.key_file, input=passphrase, step="gpg import")
        keys = fingerprints(
            _gpg(home, "--with-colons", "--list-secret-keys", step="gpg keys").output, "sec"
        )
        if done.returncode != 0 or not keys:
            raise ConfigError(
                f"{signer.key_file} holds no usable OpenPGP secret key: {_last(done.output)}",
                "export one with: gpg --armor --export-secret-keys KEYID > FILE",
            )
        (home / "data").write_bytes(data)
        signed = _gpg(
            home,
            *secret,
            "--armor",
            "--detach-sign",
            "--local-user",
            keys[0],
            "--output",
            home / "data.asc",
            home / "data",
            input=passphrase,
            step="gpg sign",
        )
        if signed.returncode != 0:
            raise CommandFailed(
                "gpg sign", signed.argv, signed.returncode, signed.output.split("\n")
            )
        return (home / "data.asc").read_bytes(), keys[0]


def verify(data: bytes, signature: bytes, public_key: Path, *, data_name: str) -> str:
    """The fingerprint of the key in public_key that made signature over data; otherwise
    VerificationFailed naming the file that does not match (the data, or the signature)."""
    if not public_key.is_file():
        raise ConfigError(f"public key {public_key} is not a file")
    with throwaway_home() as home:
        imported = _gpg(home, "--import", public_key, step="gpg import")
        keys = fingerprints(
            _gpg(home, "--with-colons", "--list-keys", step="gpg keys").output, "pub"
        )
        if imported.returncode != 0 or not keys:
            raise ConfigError(f"{public_key} holds no OpenPGP public key: {_last(imported.output)}")
        (home / "data").write_bytes(data)
        (home / "data.asc").write_bytes(signature)
        done = _gpg(
            home, "--status-fd", "1", "--verify", home / "data.asc", home / "data", step="gpg"
        )
    return judge(done.returncode, done.output, keys, data_name=data_name)


def judge(returncode: int, status: str, keys: list[str], *, data_name: str) -> str:
    """gpg's verdict from its exit code and --status-fd lines (pure, for the tests)."""
    lines = [line.split()[1:] for line in status.splitlines() if line.startswith("[GNUPG:] ")]
    for words in lines:
        # VALIDSIG <signing key fpr> <date> <time> <expiry> <version> <reserved> <pk algo>
        # <hash algo> <class> <primary key fpr>
        if returncode == 0 and words[:1] == ["VALIDSIG"] and len(words) > 1:
            primary = words[10] if len(words) > 10 else words[1]
            if primary in keys:
                return primary
    if any(words[:1] == ["BADSIG"] for words in lines):
        raise VerificationFailed(
            f"{data_name} does not match its signature {SIGNATURE_NAME}: it was changed after "
            "signing"
        )
    # ERRSIG <key id> <pk algo> <hash algo> <class> <time> <rc>: rc 9 is "no public key".
    if any(words[:1] == ["ERRSIG"] and words[6:7] == ["9"] for words in lines):
        raise VerificationFailed(
            f"{SIGNATURE_NAME} was not made by the given public key ({', '.join(keys)})"
        )
    reason = next((" ".join(w) for w in lines if w[:1] in (["NODATA"], ["ERRSIG"])), "")
    raise VerificationFailed(
        f"{SIGNATURE_NAME} is not a valid signature of {data_name}"
        + (f" ({reason})" if reason else f" (gpg exit {returncode})")
    )


def _last(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
