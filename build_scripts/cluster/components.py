"""The cluster's components and their command lines, in start and stop order."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import etcd as cluster_etcd
from build_scripts.cluster import network_policy, render
from build_scripts.cluster import pki as cluster_pki
from build_scripts.cluster.config import (
    CNI_NETWORK,
    CONTEXT,
    NODE_NAME,
    Layout,
    Settings,
)
from build_scripts.cluster.credentials import (
    CLIENT_IDENTITIES,
    Pki,
    admin_kubeconfig,
    write_kubeconfig_if_changed,
)
from build_scripts.cluster.supervise import Process
from build_scripts.core import paths, tools

# The cluster's processes in start order. `down` stops the kubelet first (else it recreates the
# pods `down` removes), then the rest from the top of the stack down to containerd.
START_ORDER = (
    "containerd",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "storage-provisioner",
    network_policy.COMPONENT,
)


STOP_ORDER = (
    "kubelet",
    network_policy.COMPONENT,
    "storage-provisioner",
    "kube-proxy",
    "kube-scheduler",
    "kube-controller-manager",
    "kube-apiserver",
    "etcd",
    "containerd",
)


LOG_VERBOSITY = "1"


def write_configs(layout: Layout, settings: Settings, pki: Pki) -> None:
    from build_scripts.core import atomic

    files = {
        layout.config / "containerd.toml": render.containerd_config(layout),
        layout.cni_conf_dir / f"10-{CNI_NETWORK}.conflist": render.cni_config(layout, settings),
        layout.config / "kubelet.yaml": render.kubelet_config(layout, settings),
        layout.config / "kube-proxy.yaml": render.kube_proxy_config(layout, settings),
        layout.config / "kube-scheduler.yaml": render.scheduler_config(layout),
        layout.config / "admission.yaml": render.admission_config(),
        layout.config / "bootstrap.yaml": render.bootstrap_manifests(settings),
        layout.config / "crictl.yaml": render.crictl_config(layout),
    }
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            atomic.write_text(path, text)
    # Every process that talks to the API server has an identity of its own, in a kubeconfig.
    for name in (n for n in START_ORDER if n in CLIENT_IDENTITIES):
        user = CLIENT_IDENTITIES[name].user
        kubeconfig = cluster_pki.kubeconfig(
            name=CONTEXT, server=settings.server_url, ca=pki.ca, client=pki.clients[name], user=user
        )
        write_kubeconfig_if_changed(layout.component_kubeconfig(name), kubeconfig)
    write_kubeconfig_if_changed(layout.kubeconfig, admin_kubeconfig(pki, settings))


def processes(
    layout: Layout, settings: Settings, toolset: cluster_build.Toolset
) -> dict[str, Process]:
    pki = layout.pki
    cfg = layout.config
    k8s = toolset.path
    specs = {
        "containerd": Process(
            "containerd",
            [
                tools.require("containerd"),
                "--config",
                str(cfg / "containerd.toml"),
            ],
        ),
        "etcd": Process("etcd", cluster_etcd.argv(tools.require("etcd"), layout, settings)),
        "kube-apiserver": Process(
            "kube-apiserver",
            [
                str(k8s("kube-apiserver")),
                f"--advertise-address={settings.node_ip}",
                f"--bind-address={settings.node_ip}",
                f"--secure-port={settings.api_port}",
                # Every client has a certificate or a service-account token; kubelet probes
                # go to the pods, not here.
                "--anonymous-auth=false",
                *cluster_etcd.apiserver_flags(layout, settings),
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
                f"--kubelet-certificate-authority={pki / 'ca.crt'}",
                "--kubelet-preferred-address-types=InternalIP,Hostname",
                f"--service-account-issuer=https://kubernetes.default.svc.{settings.cluster_domain}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={settings.service_cidr}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction,PodSecurity",
                f"--admission-control-config-file={cfg / 'admission.yaml'}",
                "--profiling=false",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kube-controller-manager": Process(
            "kube-controller-manager",
            [
                str(k8s("kube-controller-manager")),
                f"--kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
                f"--authentication-kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
                f"--authorization-kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
                "--bind-address=127.0.0.1",
                f"--cluster-name={CONTEXT}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                "--use-service-account-credentials=true",
                "--controllers=*",
                "--allocate-node-cidrs=true",
                f"--cluster-cidr={settings.pod_cidr}",
                "--node-cidr-mask-size=24",
                f"--service-cluster-ip-range={settings.service_cidr}",
                "--leader-elect=false",
                "--profiling=false",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kube-scheduler": Process(
            "kube-scheduler",
            [
                str(k8s("kube-scheduler")),
                f"--config={cfg / 'kube-scheduler.yaml'}",
                f"--authentication-kubeconfig={layout.component_kubeconfig('kube-scheduler')}",
                f"--authorization-kubeconfig={layout.component_kubeconfig('kube-scheduler')}",
                "--bind-address=127.0.0.1",
                "--profiling=false",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kubelet": Process(
            "kubelet",
            [
                str(k8s("kubelet")),
                f"--config={cfg / 'kubelet.yaml'}",
                f"--kubeconfig={layout.component_kubeconfig('kubelet')}",
                f"--root-dir={layout.kubelet_root}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={settings.node_ip}",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "kube-proxy": Process(
            "kube-proxy",
            [
                str(k8s("kube-proxy")),
                f"--config={cfg / 'kube-proxy.yaml'}",
                f"--v={LOG_VERBOSITY}",
            ],
        ),
        "storage-provisioner": Process(
            "storage-provisioner",
            [
                sys.executable,
                "-m",
                "build_scripts.cluster.storage",
                "--kubeconfig",
                str(layout.component_kubeconfig("storage-provisioner")),
                "--root",
                str(layout.volumes),
            ],
            env={"PYTHONPATH": str(paths.repo_root())},
            cwd=paths.repo_root(),
        ),
        network_policy.COMPONENT: Process(
            network_policy.COMPONENT,
            network_policy.command_line(
                network_policy.binary_path(),
                kubeconfig=layout.component_kubeconfig(network_policy.COMPONENT),
                node_name=NODE_NAME,
                service_cidr=settings.service_cidr,
            ),
            env=network_policy.environment(),
        ),
    }
    kubeconfig = layout.component_kubeconfig
    inputs = {
        "containerd": (cfg / "containerd.toml",),
        "etcd": cluster_etcd.inputs(layout),
        "kube-apiserver": (
            cfg / "admission.yaml",
            pki / "apiserver.crt",
            pki / "ca.crt",
            pki / "sa.pub",
        ),
        "kube-controller-manager": (kubeconfig("kube-controller-manager"), pki / "ca.crt"),
        "kube-scheduler": (cfg / "kube-scheduler.yaml", kubeconfig("kube-scheduler")),
        "kubelet": (cfg / "kubelet.yaml", kubeconfig("kubelet"), pki / "kubelet-serving.crt"),
        "kube-proxy": (cfg / "kube-proxy.yaml", kubeconfig("kube-proxy")),
        "storage-provisioner": (
            kubeconfig("storage-provisioner"),
            Path(__file__).with_name("storage.py"),
        ),
        network_policy.COMPONENT: (kubeconfig(network_policy.COMPONENT),),
    }
    return {
        name: dataclasses.replace(spec, inputs=inputs.get(name, ())) for name, spec in specs.items()
    }
