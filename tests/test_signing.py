"""Authenticode signing with a throwaway self-signed certificate made for each test run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from build_scripts.core import cmd, paths
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.windows import installer, signing
from tests.support import pinned_release

NSIS_ICON = Path("/usr/share/nsis/Contrib/Graphics/Icons/modern-install.ico")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> signing.SigningConfig:
    return signing.make_test_certificate(tmp_path_factory.mktemp("certificate"))


def _installer(root: Path, **kwargs) -> Path:
    stub = root / "app" / "TraderAdmin.exe"
    stub.parent.mkdir(parents=True)
    stub.write_bytes(b"MZ" + bytes(2046))
    return installer.build_installer(
        pinned_release(), app_exe=stub, root=root, icon=NSIS_ICON, verify_app=False, **kwargs
    ).path


def test_without_a_certificate_builds_are_unsigned():
    assert signing.SigningConfig.from_env({}) is None
    assert signing.note(None) == "unsigned"


def test_a_pem_certificate_needs_its_key(certificate):
    with pytest.raises(ConfigError, match="TRADERADMIN_SIGN_KEY is not set"):
        signing.SigningConfig.from_env({signing.ENV_CERT: str(certificate.cert)})


def test_a_missing_certificate_file_is_named(tmp_path):
    with pytest.raises(ConfigError) as caught:
        signing.SigningConfig.from_env({signing.ENV_CERT: str(tmp_path / "nope.p12")})
    assert "nope.p12: no such file" in caught.value.one_line()


def test_signing_material_inside_the_source_tree_is_refused(tmp_path, monkeypatch, certificate):
    monkeypatch.setattr(paths, "repo_root", lambda: certificate.cert.parent)
    with pytest.raises(ConfigError, match="inside the source tree"):
        signing.SigningConfig.from_env(
            {signing.ENV_CERT: str(certificate.cert), signing.ENV_KEY: str(certificate.key)}
        )


def test_the_configuration_survives_the_trip_through_the_environment(certificate):
    assert signing.SigningConfig.from_env(certificate.env()) == certificate


def test_a_signed_file_verifies_and_a_tampered_one_does_not(tmp_path, certificate):
    setup = _installer(tmp_path)
    assert not signing.is_signed(setup)
    signing.sign_file(setup, certificate, description="TraderAdmin", url="https://x.invalid/")
    assert signing.is_signed(setup)
    assert "Signature verification: ok" in signing.verify_signature(setup, certificate.cert)

    data = bytearray(setup.read_bytes())
    data[len(data) // 3] ^= 0xFF
    setup.write_bytes(bytes(data))
    with pytest.raises(VerificationFailed, match="signature does not verify"):
        signing.verify_signature(setup, certificate.cert)


def test_a_signed_installer_build_signs_the_uninstaller_and_the_installer(
    tmp_path, certificate, capsys
):
    setup = _installer(tmp_path, signing_config=certificate)
    signing.verify_signature(setup, certificate.cert)
    shown = capsys.readouterr().out
    # makensis ran the signing command twice: !uninstfinalize, then !finalize.
    signed = [line for line in shown.splitlines() if line.startswith("[makensis] signed ")]
    assert len(signed) == 2, shown
    assert installer.installer_path(pinned_release(), tmp_path).exists()


def test_signing_from_the_command_line_uses_the_environment(tmp_path, certificate):
    setup = _installer(tmp_path)
    env = {**os.environ, **certificate.env(), "PYTHONPATH": str(paths.repo_root())}
    result = subprocess.run(
        [sys.executable, "-m", "build_scripts.windows.signing", str(setup)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    signing.verify_signature(setup, certificate.cert)


def test_the_command_line_without_a_certificate_fails_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERADMIN_SIGN")}
    env["PYTHONPATH"] = str(paths.repo_root())
    result = subprocess.run(
        [sys.executable, "-m", "build_scripts.windows.signing", str(tmp_path / "x.exe")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: TRADERADMIN_SIGN_CERT is not set — nothing to sign with"
    ]


def test_a_password_protected_pkcs12_file_signs_too(tmp_path, certificate):
    bundle, password = tmp_path / "codesign.p12", tmp_path / "password.txt"
    password.write_text("s3cret\n")
    export = ["openssl", "pkcs12", "-export", "-inkey", certificate.key, "-in", certificate.cert]
    cmd.run([*export, "-out", bundle, "-passout", f"file:{password}"], step="pkcs12", quiet=True)
    config = signing.SigningConfig.from_env(
        {signing.ENV_CERT: str(bundle), signing.ENV_PASSWORD_FILE: str(password)}
    )
    assert config.is_pkcs12
    setup = _installer(tmp_path / "build")
    signing.sign_file(setup, config, description="TraderAdmin")
    signing.verify_signature(setup, certificate.cert)
