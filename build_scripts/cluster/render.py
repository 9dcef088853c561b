"""The configuration files of the cluster's components and the objects `up` applies, rendered
from the Jinja2 templates in templates/ beside this module.

The render functions are pure: they take the layout and settings and return file contents, so
tests can check them without starting anything.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from pathlib import Path

import jinja2

from build_scripts.cluster import ownership
from build_scripts.cluster.config import (
    CNI_BIN_DIR,
    CNI_BRIDGE,
    CNI_NETWORK,
    COREDNS_IMAGE,
    NODE_NAME,
    PAUSE_IMAGE,
    PROVISIONER_NAME,
    STORAGE_CLASS,
    Layout,
    Settings,
)
from build_scripts.core.components import RUNTIME_UID

TEMPLATES = Path(__file__).with_name("templates")


def _quote(value: object) -> str:
    # One quoting for TOML basic strings, JSON and YAML double-quoted scalars: for our paths and
    # names, all three escape like JSON.
    return json.dumps(str(value))


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["quote"] = _quote
    return environment


def render(template: str, **values: object) -> str:
    return _environment().get_template(template).render(**values)


def containerd_config(layout: Layout) -> str:
    """Our own containerd: own root, state and socket, CRI on, sandbox image = our pause."""
    return render(
        "containerd.toml.j2", layout=layout, pause_image=PAUSE_IMAGE, cni_bin_dir=CNI_BIN_DIR
    )


def cni_config(layout: Layout, settings: Settings) -> str:
    """A bridge network with host-local IPAM (state under our dir), portmap and firewall."""
    gateway = str(ipaddress.ip_network(settings.node_pod_cidr)[1])
    return render(
        "cni.conflist.j2",
        layout=layout,
        settings=settings,
        network=CNI_NETWORK,
        bridge=CNI_BRIDGE,
        gateway=gateway,
    )


def kubelet_config(layout: Layout, settings: Settings) -> str:
    return render(
        "kubelet.yaml.j2", layout=layout, settings=settings, cgroup_root=ownership.CGROUP_ROOT
    )


def kube_proxy_config(layout: Layout, settings: Settings) -> str:
    return render("kube-proxy.yaml.j2", layout=layout, settings=settings, node_name=NODE_NAME)


def crictl_config(layout: Layout) -> str:
    return render("crictl.yaml.j2", layout=layout)


def scheduler_config(layout: Layout) -> str:
    return render("kube-scheduler.yaml.j2", layout=layout)


def admission_config() -> str:
    return render("admission.yaml.j2")


def corefile(settings: Settings) -> str:
    return render("Corefile.j2", settings=settings)


def bootstrap_manifests(settings: Settings) -> str:
    """Objects `up` applies: API-server-to-kubelet RBAC, CoreDNS and the default StorageClass.

    CoreDNS answers cluster names only: no `forward` to the host's resolvers, which would send
    pods' queries off this machine (and pods cannot reach another host anyway, see
    isolation.py). Other names get SERVFAIL at once.
    """
    return render(
        "bootstrap.yaml.j2",
        settings=settings,
        corefile=corefile(settings),
        coredns_image=COREDNS_IMAGE,
        runtime_uid=RUNTIME_UID,
        storage_class=STORAGE_CLASS,
        provisioner=PROVISIONER_NAME,
    )
