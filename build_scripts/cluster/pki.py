"""Certificates and kubeconfigs of the local cluster.

One CA signs everything: the API server's serving certificate, the kubelet's serving
certificate and one client certificate per identity (admin, controller-manager, scheduler,
kubelet, kube-proxy, and the API server towards the kubelet). kube-controller-manager also signs
CSRs with it. Keys are ECDSA P-256 (fast to generate on a small machine); the service-account
key pair is a separate key the API server signs tokens with.

Everything is written once and reused, so `cluster.up` twice keeps the same identities; only a
serving certificate whose names no longer match (the node got another IP) is reissued.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from build_scripts.core import atomic

CA_NAME = "traderadmin-local-ca"
VALIDITY = datetime.timedelta(days=3650)
# A serving/client certificate is reissued when it expires within this margin.
RENEW_MARGIN = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Identity:
    """A client certificate: file stem, user name (CN) and groups (O)."""

    stem: str
    user: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path

    def read_cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert.read_bytes())


def write_private(path: Path, data: bytes) -> None:
    """Write a secret atomically; it is mode 0600 from the start."""
    atomic.write_bytes(path, data, mode=0o600)


def write_public(path: Path, data: bytes) -> None:
    atomic.write_bytes(path, data, mode=0o644)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def ensure_ca(directory: Path, common_name: str = CA_NAME) -> CertPair:
    pair = CertPair(directory / "ca.crt", directory / "ca.key")
    if pair.cert.exists() and pair.key.exists():
        return pair
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        _builder(name, name, key, ca=True, key_cert_sign=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(pair.key, _key_pem(key))
    write_public(pair.cert, cert.public_bytes(serialization.Encoding.PEM))
    return pair


def _builder(subject: x509.Name, issuer: x509.Name, key, *, ca: bool, key_cert_sign: bool):
    """What every certificate here shares: serial, validity, basic constraints, key usage."""
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=key_cert_sign,
                crl_sign=key_cert_sign,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


def _sign(
    ca: CertPair,
    subject: x509.Name,
    key,
    *,
    usages: list,
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
) -> x509.Certificate:
    ca_cert = ca.read_cert()
    ca_key = _load_key(ca.key)
    builder = (
        _builder(subject, ca_cert.subject, key, ca=False, key_cert_sign=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
            critical=False,
        )
    )
    if dns_names or ip_addresses:
        names = [x509.DNSName(n) for n in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _still_valid(pair: CertPair, ca: CertPair) -> bool:
    if not (pair.cert.exists() and pair.key.exists()):
        return False
    cert = pair.read_cert()
    if cert.issuer != ca.read_cert().subject:
        return False
    return cert.not_valid_after_utc - RENEW_MARGIN > _now()


def serving_names(pair: CertPair) -> tuple[set[str], set[str]]:
    """The DNS names and IP addresses a serving certificate is valid for."""
    san = pair.read_cert().extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (
        set(san.get_values_for_type(x509.DNSName)),
        {str(ip) for ip in san.get_values_for_type(x509.IPAddress)},
    )


def ensure_serving(
    ca: CertPair,
    directory: Path,
    stem: str,
    common_name: str,
    dns_names: tuple[str, ...],
    ip_addresses: tuple[str, ...],
    *,
    client_too: bool = False,
) -> CertPair:
    """A serving certificate for exactly these names; reissued when the names changed.
    `client_too` also allows client authentication (an etcd member talks to its peers)."""
    pair = CertPair(directory / f"{stem}.crt", directory / f"{stem}.key")
    if _still_valid(pair, ca):
        dns, ips = serving_names(pair)
        if dns == set(dns_names) and ips == {str(ipaddress.ip_address(a)) for a in ip_addresses}:
            return pair
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = _sign(
        ca,
        subject,
        key,
        usages=[ExtendedKeyUsageOID.SERVER_AUTH]
        + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client_too else []),
        dns_names=dns_names,
        ip_addresses=ip_addresses,
    )
    write_private(pair.key, _key_pem(key))
    write_public(pair.cert, cert.public_bytes(serialization.Encoding.PEM))
    return pair


def ensure_client(ca: CertPair, directory: Path, identity: Identity) -> CertPair:
    pair = CertPair(directory / f"{identity.stem}.crt", directory / f"{identity.stem}.key")
    if _still_valid(pair, ca):
        return pair
    key = _new_key()
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in identity.groups]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, identity.user))
    cert = _sign(ca, x509.Name(attributes), key, usages=[ExtendedKeyUsageOID.CLIENT_AUTH])
    write_private(pair.key, _key_pem(key))
    write_public(pair.cert, cert.public_bytes(serialization.Encoding.PEM))
    return pair


def ensure_service_account_keys(directory: Path) -> CertPair:
    """The key pair service-account tokens are signed (sa.key) and verified (sa.pub) with."""
    pair = CertPair(directory / "sa.pub", directory / "sa.key")
    if pair.cert.exists() and pair.key.exists():
        return pair
    key = _new_key()
    write_private(pair.key, _key_pem(key))
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    write_public(pair.cert, public)
    return pair


def kubeconfig(*, name: str, server: str, ca: CertPair, client: CertPair, user: str) -> dict:
    """A kubeconfig with the certificates embedded, one cluster/user/context named `name`."""
    import base64

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": server, "certificate-authority-data": b64(ca.cert)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(client.cert),
                    "client-key-data": b64(client.key),
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(path: Path, config: dict) -> Path:
    write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
    return path


def merge_kubeconfig(existing: dict | None, ours: dict) -> dict:
    """`existing` with our cluster, user and context added or replaced by name.

    Other entries are kept as they are; the current context is only set when there is none.
    """
    merged = dict(existing or {})
    merged.setdefault("apiVersion", "v1")
    merged.setdefault("kind", "Config")
    merged.setdefault("preferences", {})
    for section in ("clusters", "users", "contexts"):
        ours_by_name = {entry["name"]: entry for entry in ours.get(section, [])}
        kept = [e for e in (merged.get(section) or []) if e.get("name") not in ours_by_name]
        merged[section] = kept + list(ours_by_name.values())
    if not merged.get("current-context"):
        merged["current-context"] = ours["current-context"]
    return merged


def remove_from_kubeconfig(existing: dict, ours: dict) -> dict:
    """`existing` without our cluster, user and context (what `merge_kubeconfig` added)."""
    trimmed = dict(existing)
    for section in ("clusters", "users", "contexts"):
        names = {entry["name"] for entry in ours.get(section, [])}
        trimmed[section] = [e for e in (existing.get(section) or []) if e.get("name") not in names]
    if trimmed.get("current-context") == ours.get("current-context"):
        trimmed["current-context"] = ""
    return trimmed
