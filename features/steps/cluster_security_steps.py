"""Steps showing the local cluster's control plane is locked down: etcd only talks TLS to
clients with a certificate from its own CA, and kube-apiserver listens on the node IP only,
refusing anonymous requests."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import sys

import httpx
from _support import cluster_layout, run, shown
from behave import then, when

from build_scripts.cluster import etcd as cluster_etcd
from build_scripts.cluster.status import current_settings

ETCD_GET = "get / --prefix --keys-only --dial-timeout=3s --command-timeout=5s"


def _etcdctl(context, endpoint: str, *tls: str) -> None:
    assert shutil.which("etcdctl"), (
        "etcdctl not found — install it with: apt-get install etcd-client"
    )
    run(context, f"etcdctl --endpoints {endpoint} {' '.join(tls)} {ETCD_GET}")


@when('I run etcdctl against "{endpoint}" without a client certificate')
def step_etcdctl_anonymous(context, endpoint):
    tls = ()
    if endpoint.startswith("https://"):
        # Trust the server, so only the missing client certificate can make it fail.
        tls = (f"--cacert {cluster_etcd.pki_dir(cluster_layout()) / 'ca.crt'}",)
    _etcdctl(context, endpoint, *tls)


@when('I run etcdctl against "{endpoint}" with the health check\'s client certificate')
def step_etcdctl_with_certificate(context, endpoint):
    directory = cluster_etcd.pki_dir(cluster_layout())
    stem = cluster_etcd.HEALTHCHECK_CLIENT.stem
    _etcdctl(
        context,
        endpoint,
        f"--cacert {directory / 'ca.crt'}",
        f"--cert {directory / stem}.crt",
        f"--key {directory / stem}.key",
    )


@then("the output lists no key")
def step_no_keys(context):
    assert "/registry/" not in context.result.stdout, shown(context.result)


def _api_port() -> tuple[str, int]:
    settings = current_settings(cluster_layout())
    return settings.node_ip, settings.api_port


@then("the API server answers an anonymous request on the node IP with 401")
def step_api_anonymous(context):
    node_ip, port = _api_port()
    verify = ssl.create_default_context(cafile=str(cluster_layout().pki / "ca.crt"))
    for path in ("/api/v1/secrets", "/readyz", "/version"):
        response = httpx.get(f"https://{node_ip}:{port}{path}", verify=verify, timeout=5)
        assert response.status_code == 401, f"{path}: {response.status_code} {response.text}"


def _local_ipv4_addresses() -> list[str]:
    out = run(None, ["ip", "-o", "-4", "addr", "show"], check=True).stdout
    return [line.split()[3].split("/")[0] for line in out.splitlines()]


@then("the API server accepts no connection on any other local address")
def step_api_bound(context):
    node_ip, port = _api_port()
    others = [a for a in _local_ipv4_addresses() if a != node_ip]
    assert "127.0.0.1" in others, others
    accepted = []
    for address in others:
        with socket.socket() as probe:
            probe.settimeout(2)
            if probe.connect_ex((address, port)) == 0:
                accepted.append(address)
    assert not accepted, f"kube-apiserver accepts connections on {accepted}, not only {node_ip}"


# --- what the cluster listens on (README's "What listens where" is the allow-list) -------------

PROBE = """
import json, socket, sys
address, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
answers = {}
for port in ports:
    try:
        socket.create_connection((address, port), timeout=2).close()
        answers[port] = "open"
    except OSError as error:
        answers[port] = type(error).__name__
print(json.dumps(answers))
"""


def _our_sockets(context):
    from build_scripts.cluster import listeners

    layout = cluster_layout()
    components = listeners.running_components(layout)
    sockets = [(listeners.owner(s.pids, components), s) for s in listeners.listening_sockets()]
    return [(name, s) for name, s in sockets if name is not None]


@then("every socket the cluster listens on beyond the loopback address is in README's table")
def step_listeners_documented(context):
    from build_scripts.cluster import listeners

    readme = (context.repo / "README.md").read_text()
    unexpected, missing = listeners.problems(
        listeners.listening_sockets(),
        listeners.running_components(cluster_layout()),
        listeners.documented(readme),
        current_settings(cluster_layout()).node_ip,
    )
    assert not unexpected, "\n".join(unexpected)
    assert not missing, "\n".join(missing)
    assert any(name == "kube-apiserver" for name, _ in _our_sockets(context))


@then("from a network namespace of its own, only ports open beyond loopback answer")
def step_probe_from_outside(context):
    from pod_network_steps import INSIDE, _sh, make_outside_host

    from build_scripts.cluster import listeners
    from build_scripts.cluster.network_policy import COMPONENT

    node_address, _ = make_outside_host(context)
    sockets = [(name, s) for name, s in _our_sockets(context) if s.protocol == "tcp"]
    # kube-router's old health port too: nothing may answer there.
    ports = sorted({s.port for _, s in sockets} | {20244})
    answers = json.loads(
        _sh(*INSIDE, sys.executable, "-c", PROBE, node_address, *map(str, ports)).stdout
    )
    expected = {port: "closed" for port in ports}
    for _, s in sockets:
        if listeners.where(s.address, "") == listeners.ANY:
            expected[s.port] = "open"
    seen = {int(port): ("open" if a == "open" else "closed") for port, a in answers.items()}
    assert seen == expected, f"answers from {node_address}: {answers}; expected {expected}"
    assert COMPONENT not in {name for name, _ in sockets}, "kube-router listens on something"
