"""Authenticode signing of TraderAdmin.exe, the uninstaller and the installer with osslsigncode.

Signing happens when a certificate is configured, through environment variables (a real
certificate never lives in the repository; keep it in a secret store or outside the clone):

  TRADERADMIN_SIGN_CERT           the certificate: a PKCS#12 file (.p12/.pfx) holding the key too,
                                  or a PEM certificate (chain) used with TRADERADMIN_SIGN_KEY
  TRADERADMIN_SIGN_KEY            the PEM private key (only with a PEM certificate)
  TRADERADMIN_SIGN_PASSWORD_FILE  a file holding the PKCS#12 / key password (optional)
  TRADERADMIN_SIGN_TIMESTAMP_URL  an RFC 3161 time-stamping server (optional; needs network)

Without TRADERADMIN_SIGN_CERT the build is unsigned and the release summary says so.
`python -m build_scripts.windows.signing FILE` signs FILE in place with that configuration; makensis
runs it (!uninstfinalize, !finalize) to sign the uninstaller and the installer it writes.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import cmd, paths
from build_scripts.core.errors import ConfigError, VerificationFailed, exit_code_of

ENV_CERT = "TRADERADMIN_SIGN_CERT"
ENV_KEY = "TRADERADMIN_SIGN_KEY"
ENV_PASSWORD_FILE = "TRADERADMIN_SIGN_PASSWORD_FILE"
ENV_TIMESTAMP_URL = "TRADERADMIN_SIGN_TIMESTAMP_URL"
# Set by the engine for `python -m build_scripts.windows.signing`: what the signature names.
ENV_DESCRIPTION = "TRADERADMIN_SIGN_DESCRIPTION"
ENV_URL = "TRADERADMIN_SIGN_URL"
# What signing adds to a summary line; the tests and the summary read these words.
SIGNED, UNSIGNED = "signed", "unsigned"


@dataclass(frozen=True)
class SigningConfig:
    cert: Path
    key: Path | None = None
    password_file: Path | None = None
    timestamp_url: str | None = None

    @property
    def is_pkcs12(self) -> bool:
        return self.cert.suffix.lower() in (".p12", ".pfx")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SigningConfig | None:
        """The configured certificate, None when signing is off, ConfigError when half set up."""
        env = os.environ if environ is None else environ
        cert_text = env.get(ENV_CERT, "").strip()
        if not cert_text:
            return None
        config = cls(
            cert=Path(cert_text).expanduser(),
            key=Path(env[ENV_KEY]).expanduser() if env.get(ENV_KEY, "").strip() else None,
            password_file=(
                Path(env[ENV_PASSWORD_FILE]).expanduser()
                if env.get(ENV_PASSWORD_FILE, "").strip()
                else None
            ),
            timestamp_url=env.get(ENV_TIMESTAMP_URL, "").strip() or None,
        )
        config.validate()
        return config

    def validate(self) -> None:
        for name, path in (
            (ENV_CERT, self.cert),
            (ENV_KEY, self.key),
            (ENV_PASSWORD_FILE, self.password_file),
        ):
            if path is not None and not path.is_file():
                raise ConfigError(
                    f"{name}={path}: no such file", "point it at the file, or unset it"
                )
        if not self.is_pkcs12 and self.key is None:
            raise ConfigError(
                f"{ENV_CERT}={self.cert} is a PEM certificate but {ENV_KEY} is not set",
                f"set {ENV_KEY} to its private key, or use a .p12/.pfx file",
            )
        if _inside(self.cert, paths.repo_root()) or (
            self.key is not None and _inside(self.key, paths.repo_root())
        ):
            raise ConfigError(
                "the signing certificate or key is inside the source tree",
                "keep signing material outside the repository (it must never be committed)",
            )

    def env(self) -> dict[str, str]:
        """The environment that reproduces this configuration in a child process."""
        env = {ENV_CERT: str(self.cert)}
        if self.key:
            env[ENV_KEY] = str(self.key)
        if self.password_file:
            env[ENV_PASSWORD_FILE] = str(self.password_file)
        if self.timestamp_url:
            env[ENV_TIMESTAMP_URL] = self.timestamp_url
        return env


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def note(config: SigningConfig | None) -> str:
    return SIGNED if config else UNSIGNED


def sign_file(
    path: Path, config: SigningConfig, *, description: str, url: str | None = None
) -> Path:
    """Sign a PE file in place (SHA-256 Authenticode); a failed signing leaves it untouched."""
    signed = path.with_name(path.name + ".signing")
    argv: list[str | os.PathLike] = ["osslsigncode", "sign", "-h", "sha256"]
    if description:
        argv += ["-n", description]
    if url:
        argv += ["-i", url]
    if config.is_pkcs12:
        argv += ["-pkcs12", config.cert]
    else:
        argv += ["-certs", config.cert, "-key", config.key]
    if config.password_file:
        argv += ["-readpass", config.password_file]
    if config.timestamp_url:
        argv += ["-ts", config.timestamp_url]
    argv += ["-in", path, "-out", signed]
    try:
        cmd.run(
            argv,
            step="sign",
            quiet=True,
            hint="check the certificate, key and password file named by TRADERADMIN_SIGN_*",
        )
        os.replace(signed, path)
    finally:
        signed.unlink(missing_ok=True)
    return path


def verify_signature(path: Path, ca_file: Path) -> str:
    """osslsigncode's verification report; VerificationFailed when the signature is not valid."""
    result = cmd.run(
        ["osslsigncode", "verify", "-CAfile", ca_file, "-in", path],
        step="verify signature",
        capture=True,
        check=False,
        quiet=True,
    )
    if result.returncode != 0 or "Signature verification: ok" not in result.output:
        last = result.output.strip().splitlines()[-1:] or ["(no output)"]
        raise VerificationFailed(f"{path.name}: signature does not verify: {last[0]}")
    return result.output


def is_signed(path: Path) -> bool:
    """True when the file carries an Authenticode signature (valid or not)."""
    # osslsigncode refuses to overwrite files (even /dev/null): extract into a fresh directory.
    with tempfile.TemporaryDirectory(prefix="traderadmin-signature-") as scratch:
        result = cmd.run(
            ["osslsigncode", "extract-signature", "-in", path, "-out", Path(scratch) / "sig"],
            step="signature",
            check=False,
            quiet=True,
        )
    return result.returncode == 0


def finalize_command() -> str:
    """The command makensis runs (through the shell) to sign a file it wrote, minus the file."""
    return f"{shlex.quote(sys.executable)} -m build_scripts.windows.signing"


def make_test_certificate(directory: Path, name: str = "TraderAdmin Test Signing") -> SigningConfig:
    """A throwaway self-signed code-signing certificate (PEM) for tests; never for releases."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "codesign.crt", directory / "codesign.key"
    cmd.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            "extendedKeyUsage=codeSigning",
            "-addext",
            "keyUsage=digitalSignature",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        step="test certificate",
        quiet=True,
    )
    return SigningConfig(cert=cert, key=key)


def main(argv: list[str]) -> int:
    """Sign each named file in place with the configuration in the environment."""
    if not argv:
        print("usage: python -m build_scripts.windows.signing FILE...", file=sys.stderr)
        return 2

    def sign_all() -> None:
        config = SigningConfig.from_env()
        if config is None:
            raise ConfigError(f"{ENV_CERT} is not set", "nothing to sign with")
        for name in argv:
            sign_file(
                Path(name),
                config,
                description=os.environ.get(ENV_DESCRIPTION, ""),
                url=os.environ.get(ENV_URL) or None,
            )
            print(f"signed {name}")

    return exit_code_of(sign_all)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
