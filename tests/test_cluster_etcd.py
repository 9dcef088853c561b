"""The local cluster's locked-down etcd and API server: certificates and arguments.

features/local-cluster.feature shows the running cluster refusing clients without a
certificate; these tests check what `up` would start, without starting anything.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import config
from build_scripts.cluster import etcd as cluster_etcd
from build_scripts.cluster import pki as cluster_pki
from build_scripts.cluster.components import processes
from build_scripts.cluster.credentials import ensure_pki
from build_scripts.core import poll

SETTINGS = config.Settings(node_ip="192.0.2.2")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    layout = config.Layout(tmp_path_factory.mktemp("cluster") / "state")
    ensure_pki(layout, SETTINGS)
    return layout


def test_etcd_has_its_own_ca_that_cluster_certificates_do_not_chain_to(layout):
    etcd = cluster_etcd.ensure_pki(layout)
    etcd_ca = etcd.ca.read_cert()
    cluster_ca = cluster_pki.CertPair(layout.pki / "ca.crt", layout.pki / "ca.key").read_cert()
    assert etcd_ca.subject != cluster_ca.subject
    for pair in (etcd.member, etcd.apiserver_client, etcd.healthcheck_client):
        pair.read_cert().verify_directly_issued_by(etcd_ca)
    # A certificate the cluster CA signed (what the controller-manager issues for CSRs)
    # does not open etcd.
    admin = cluster_pki.CertPair(layout.pki / "admin.crt", layout.pki / "admin.key")
    with pytest.raises((ValueError, InvalidSignature)):
        admin.read_cert().verify_directly_issued_by(etcd_ca)


def test_the_member_certificate_serves_loopback_and_authenticates_to_peers(layout):
    etcd = cluster_etcd.ensure_pki(layout)
    assert cluster_pki.serving_names(etcd.member) == ({"localhost"}, {"127.0.0.1"})
    usages = etcd.member.read_cert().extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert set(usages.value) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    for key in cluster_etcd.pki_dir(layout).glob("*.key"):
        assert key.stat().st_mode & 0o777 == 0o600, key
    assert cluster_etcd.pki_dir(layout).stat().st_mode & 0o777 == 0o700


def _specs(layout, tmp_path):
    toolset = cluster_build.Toolset(tmp_path / "bin", tmp_path / "coredns", tmp_path / "crictl")
    return processes(layout, SETTINGS, toolset)


def test_etcd_listens_on_loopback_with_tls_and_client_certificates_only(layout, tmp_path):
    argv = _specs(layout, tmp_path)["etcd"].argv
    joined = " ".join(argv)
    assert "--listen-client-urls https://127.0.0.1:2379" in joined
    assert "--listen-peer-urls https://127.0.0.1:2380" in joined
    assert "http://" not in joined
    assert "--client-cert-auth=true" in argv
    assert "--peer-client-cert-auth=true" in argv
    assert f"--trusted-ca-file={cluster_etcd.pki_dir(layout) / 'ca.crt'}" in argv


def test_apiserver_binds_the_node_ip_refuses_anonymous_and_uses_an_etcd_certificate(
    layout, tmp_path
):
    argv = _specs(layout, tmp_path)["kube-apiserver"].argv
    assert "--bind-address=192.0.2.2" in argv
    assert "--anonymous-auth=false" in argv
    assert "--etcd-servers=https://127.0.0.1:2379" in argv
    etcd_dir = cluster_etcd.pki_dir(layout)
    assert f"--etcd-certfile={etcd_dir / 'apiserver-etcd-client.crt'}" in argv
    assert f"--etcd-cafile={etcd_dir / 'ca.crt'}" in argv
    assert SETTINGS.server_url == "https://192.0.2.2:6443"
    assert config.Settings(node_ip="2001:db8::2").server_url == "https://[2001:db8::2]:6443"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_etcd(tmp_path):
    """A real etcd with the cluster's arguments, on free ports in a scratch state dir."""
    etcd = shutil.which("etcd")
    assert etcd, "etcd not found — install it with: apt-get install etcd-server"
    layout = config.Layout(tmp_path / "state")
    settings = config.Settings(
        node_ip="192.0.2.2", etcd_client_port=_free_port(), etcd_peer_port=_free_port()
    )
    ensure_pki(layout, settings)  # the cluster's certificates and etcd's
    layout.etcd_data.mkdir(parents=True, mode=0o700)
    with open(tmp_path / "etcd.log", "wb") as log:
        process = subprocess.Popen(
            cluster_etcd.argv(etcd, layout, settings), stdout=log, stderr=subprocess.STDOUT
        )
    try:

        def running() -> None:
            assert process.poll() is None, (tmp_path / "etcd.log").read_text()

        poll.until(
            lambda: cluster_etcd.healthy(layout, settings),
            what="etcd to be healthy",
            timeout=20,
            interval=0.2,
            ignore=(httpx.HTTPError, OSError),
            watch=running,
            fail=lambda message: AssertionError(
                f"{message}\n{(tmp_path / 'etcd.log').read_text()}"
            ),
        )
        yield layout, settings
    finally:
        process.terminate()
        process.wait(10)


def test_a_running_etcd_answers_only_clients_with_its_certificate(running_etcd):
    layout, settings = running_etcd
    url = f"{settings.etcd_url}/v2/keys"  # any path: authentication comes first
    plain = url.replace("https://", "http://")
    try:
        answer = httpx.get(plain, timeout=3)
    except httpx.HTTPError:
        pass
    else:
        assert answer.status_code == 400 and "/registry" not in answer.text, answer.text

    def refused(client_pair=None) -> bool:
        context = ssl.create_default_context(cafile=str(cluster_etcd.pki_dir(layout) / "ca.crt"))
        if client_pair is not None:
            context.load_cert_chain(str(client_pair.cert), str(client_pair.key))
        try:
            httpx.get(url, verify=context, timeout=3)
        except (httpx.HTTPError, ssl.SSLError):
            return True
        return False

    assert refused(), "etcd answered a client without a certificate"
    # A certificate from the cluster CA (what the controller-manager signs for CSRs) is no key.
    admin = cluster_pki.CertPair(layout.pki / "admin.crt", layout.pki / "admin.key")
    assert refused(admin), "etcd answered a client certificate of the cluster CA"
    # The control: with etcd's own client certificate the same request is answered.
    assert not refused(cluster_etcd.ensure_pki(layout).healthcheck_client)
    assert cluster_etcd.healthy(layout, settings)
