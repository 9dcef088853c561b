"""The update signing key: a minisign secret key file, read and checked before anything is
signed, and its public half (what the desktop app has built in).

minisign's secret key file is two lines: an untrusted comment and base64 of
  sig_alg "Ed" | kdf_alg ("\\0\\0" none, "Sc" scrypt: password-protected) | cksum_alg "B2" |
  kdf salt (32) | opslimit (8) | memlimit (8) | key id (8) | Ed25519 secret key (64) | checksum (32)
The public key file's second line is base64 of "Ed" | key id | Ed25519 public key (32), which
is also the last 32 bytes of the secret key, so the public key is derived here from the secret
one and checked against its seed (a truncated or edited file is refused, not half-used).
The key is never in the repository: `--update-key FILE` or $TRADERADMIN_UPDATE_KEY.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from build_scripts.core import cmd
from build_scripts.core.errors import ConfigError

ENV_KEY = "TRADERADMIN_UPDATE_KEY"
PUBLIC_KEY_NAME = "traderadmin-update.pub"
SECRET_KEY_NAME = "traderadmin-update.key"
SECRET_KEY_SIZE = 158
MAKE_ONE = "make one with: invoke updates.keygen --to DIR (minisign -G -W, no password)"


@dataclass(frozen=True)
class UpdateKey:
    """A checked secret key file and its public half."""

    secret_file: Path
    # As minisign prints it: the little-endian number in upper-case hex, without leading zeros
    # (`%" PRIX64`), so one key in 16 has fewer than 16 digits.
    key_id: str
    public_key: str  # base64, starts with "RW": the public key file's second line

    @property
    def public_key_text(self) -> str:
        """The public key file, as `minisign -G` writes it."""
        return f"untrusted comment: minisign public key {self.key_id}\n{self.public_key}\n"


def read_secret_key(path: Path) -> UpdateKey:
    """The key in path, or ConfigError in one line saying what is wrong with the file."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"update key {path} does not exist", MAKE_ONE) from None
    except IsADirectoryError:
        raise ConfigError(f"update key {path} is a folder, not a key file", MAKE_ONE) from None
    except PermissionError:
        raise ConfigError(
            f"update key {path} is not readable", "check its owner and mode"
        ) from None
    except (UnicodeDecodeError, OSError) as error:
        raise ConfigError(f"update key {path} cannot be read as text: {error}", MAKE_ONE) from None
    if len(lines) < 2 or not lines[0].startswith("untrusted comment:"):
        raise ConfigError(f"update key {path} is not a minisign secret key file", MAKE_ONE)
    try:
        raw = base64.b64decode(lines[1].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"update key {path}: its key line is not base64", MAKE_ONE) from None
    if len(raw) != SECRET_KEY_SIZE or raw[:2] != b"Ed" or raw[4:6] != b"B2":
        raise ConfigError(f"update key {path} is not a minisign Ed25519 secret key", MAKE_ONE)
    if raw[2:4] != b"\0\0":
        raise ConfigError(
            f"update key {path} is password-protected: the release signs without a prompt",
            MAKE_ONE,
        )
    key_id, secret = raw[54:62], raw[62:126]
    seed, public = secret[:32], secret[32:]
    derived = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    if derived.public_bytes(Encoding.Raw, PublicFormat.Raw) != public:
        raise ConfigError(f"update key {path} is damaged: its two halves do not match", MAKE_ONE)
    return UpdateKey(
        path.resolve(),
        f"{int.from_bytes(key_id, 'little'):X}",
        base64.b64encode(b"Ed" + key_id + public).decode(),
    )


def chosen_key_file(key_file: str | os.PathLike | None = None) -> Path | None:
    """--update-key FILE, else $TRADERADMIN_UPDATE_KEY; None: no key (an unsigned feed)."""
    chosen = str(key_file or os.environ.get(ENV_KEY, "")).strip()
    return Path(chosen).expanduser() if chosen else None


def from_env(key_file: str | os.PathLike | None = None) -> UpdateKey | None:
    """The checked key, or None when none is configured."""
    path = chosen_key_file(key_file)
    return read_secret_key(path) if path else None


def public_key_or_empty() -> str:
    """What the desktop app gets built in: the public key, or '' (the app refuses every feed)."""
    key = from_env()
    return key.public_key if key else ""


def identity() -> str:
    """The key as a release step input: its public half (a new key re-signs), never the secret."""
    key = from_env()
    return key.public_key if key else "unsigned"


def make_key_pair(folder: Path) -> UpdateKey:
    """A new password-less key pair in folder (traderadmin-update.key and .pub) with minisign;
    refuses to overwrite an existing key."""
    folder.mkdir(parents=True, exist_ok=True)
    secret, public = folder / SECRET_KEY_NAME, folder / PUBLIC_KEY_NAME
    for path in (secret, public):
        if path.exists():
            raise ConfigError(f"{path} exists already", "choose another folder; keys are kept")
    cmd.run(
        ["minisign", "-G", "-W", "-p", public, "-s", secret],
        step="update key",
        capture=True,
        quiet=True,
    )
    os.chmod(secret, 0o600)
    return read_secret_key(secret)
