"""The local cluster's plain functions: build recipe, certificates, configs, processes, storage.

Nothing here starts the cluster (features/local-cluster.feature does); the process tests use
real short-lived child processes.
"""

from __future__ import annotations

import datetime
import json
import shlex
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from cryptography.x509.oid import NameOID

from build_scripts.cluster import build as cluster_build
from build_scripts.cluster import (
    components,
    config,
    credentials,
    host,
    isolation,
    ownership,
    probes,
    render,
    status,
    supervise,
)
from build_scripts.cluster import images as cluster_images
from build_scripts.cluster import lifecycle as cluster
from build_scripts.cluster import options as cluster_options
from build_scripts.cluster import pki as cluster_pki
from build_scripts.cluster import storage as cluster_storage
from build_scripts.core import daemon, poll
from build_scripts.core.errors import ReleaseError, VerificationFailed

SETTINGS = config.Settings(node_ip="192.0.2.2")


# --- build recipe -----------------------------------------------------------------------------


def test_wrapper_module_pins_every_staging_module_to_the_matching_release():
    go_mod = cluster_build.wrapper_go_mod("v1.34.4")
    assert "require k8s.io/kubernetes v1.34.4" in go_mod
    for name in cluster_build.STAGING_MODULES:
        assert f"replace k8s.io/{name} => k8s.io/{name} v0.34.4\n" in go_mod
    assert len(cluster_build.STAGING_MODULES) == 31


def test_staging_version_follows_the_minor_and_patch():
    assert cluster_build.staging_version("v1.34.4") == "v0.34.4"
    assert cluster_build.staging_version("1.35.0") == "v0.35.0"
    with pytest.raises(ReleaseError):
        cluster_build.staging_version("v2.0.0")


def test_tools_file_imports_every_component_under_the_tools_tag():
    source = cluster_build.wrapper_tools_go()
    assert source.startswith("//go:build tools\n")
    for component in cluster_build.KUBERNETES_COMPONENTS:
        assert f'_ "k8s.io/kubernetes/cmd/{component}"' in source


def test_ldflags_stamp_the_version_into_both_version_packages():
    flags = cluster_build.version_ldflags("v1.34.4")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.34.4" in flags
        assert f"-X {package}.gitMajor=1" in flags
        assert f"-X {package}.gitMinor=34" in flags


def test_only_bare_v0_0_0_placeholders_count_as_unreplaced():
    listing = "\n".join(
        [
            "k8s.io/api v0.0.0 => k8s.io/api v0.34.4",
            "k8s.io/utils v0.0.0-20250604170112-4c0f3b243397",
            "k8s.io/new-staging v0.0.0",
        ]
    )
    assert cluster_build.unreplaced_staging(listing) == ["k8s.io/new-staging v0.0.0"]


def test_scratch_image_archive_is_a_loadable_docker_archive(tmp_path):
    binary = tmp_path / "server"
    binary.write_bytes(b"\x7fELF pretend")
    first, second = (
        cluster_images.scratch_image_archive(
            binary, "traderadmin.local/x:1", output, entrypoint=["/server"], user="65532:65532"
        )
        for output in (tmp_path / "a.tar", tmp_path / "b.tar")
    )
    assert first.read_bytes() == second.read_bytes(), "same binary, same archive"
    with tarfile.open(first) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        assert manifest[0]["RepoTags"] == ["traderadmin.local/x:1"]
        image_config = json.load(archive.extractfile(manifest[0]["Config"]))
        layer = archive.extractfile(manifest[0]["Layers"][0]).read()
    assert image_config["config"]["Entrypoint"] == ["/server"]
    assert image_config["config"]["User"] == "65532:65532"
    import hashlib
    import io

    assert image_config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(layer)) as files:
        member = files.getmember("server")
        assert member.mode == 0o755
    assert cluster_images.image_id(first).startswith("sha256:")


# --- certificates and kubeconfigs -------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    layout = config.Layout(tmp_path_factory.mktemp("cluster"))
    return layout, credentials.ensure_pki(layout, SETTINGS)


def test_every_certificate_is_signed_by_the_cluster_ca(pki):
    _, issued = pki
    ca = issued.ca.read_cert()
    for pair in [issued.apiserver, issued.kubelet_serving, *issued.clients.values()]:
        pair.read_cert().verify_directly_issued_by(ca)


def test_apiserver_certificate_names_every_way_pods_and_users_reach_it(pki):
    _, issued = pki
    dns, ips = cluster_pki.serving_names(issued.apiserver)
    assert {"kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"} <= dns
    assert {"127.0.0.1", "10.96.0.1", "192.0.2.2"} == ips


def test_client_certificates_carry_the_identities_rbac_and_node_authorizer_expect(pki):
    _, issued = pki
    kubelet = issued.clients["kubelet"].read_cert().subject
    assert kubelet.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "system:node:traderadmin-local"
    )
    assert kubelet.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    admin = issued.clients["admin"].read_cert().subject
    assert admin.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"


def test_private_keys_are_readable_by_root_only(pki):
    layout, _ = pki
    for key in layout.pki.glob("*.key"):
        assert key.stat().st_mode & 0o777 == 0o600, key


def test_certificates_are_reused_unless_the_node_address_changed(pki):
    layout, issued = pki
    again = credentials.ensure_pki(layout, SETTINGS)
    assert again.apiserver.cert.read_bytes() == issued.apiserver.cert.read_bytes()
    assert again.clients["admin"].cert.read_bytes() == issued.clients["admin"].cert.read_bytes()
    moved = credentials.ensure_pki(layout, config.Settings(node_ip="192.0.2.77"))
    assert "192.0.2.77" in cluster_pki.serving_names(moved.apiserver)[1]
    assert moved.clients["admin"].cert.read_bytes() == issued.clients["admin"].cert.read_bytes()
    credentials.ensure_pki(layout, SETTINGS)  # leave the module fixture as it was


def test_merging_the_kubeconfig_keeps_other_entries_and_the_current_context(pki):
    _, issued = pki
    ours = credentials.admin_kubeconfig(issued, SETTINGS)
    existing = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "work",
        "clusters": [
            {"name": "work", "cluster": {"server": "https://w"}},
            {"name": "traderadmin-local", "cluster": {"server": "https://old"}},
        ],
        "users": [{"name": "me", "user": {}}],
        "contexts": [{"name": "work", "context": {"cluster": "work", "user": "me"}}],
    }
    merged = cluster_pki.merge_kubeconfig(existing, ours)
    assert merged["current-context"] == "work"
    assert [c["name"] for c in merged["clusters"]] == ["work", "traderadmin-local"]
    ours_cluster = next(c for c in merged["clusters"] if c["name"] == "traderadmin-local")
    assert ours_cluster["cluster"]["server"] == "https://192.0.2.2:6443"  # the node IP
    assert {c["name"] for c in merged["contexts"]} == {"work", "traderadmin-local"}
    assert cluster_pki.merge_kubeconfig(None, ours)["current-context"] == "traderadmin-local"
    trimmed = cluster_pki.remove_from_kubeconfig(merged, ours)
    assert [c["name"] for c in trimmed["clusters"]] == ["work"]
    assert trimmed["current-context"] == "work"


# --- configuration files ----------------------------------------------------------------------


def test_containerd_config_keeps_everything_under_the_state_dir(tmp_path):
    layout = config.Layout(tmp_path)
    parsed = tomllib.loads(render.containerd_config(layout))
    assert parsed["root"].startswith(str(tmp_path))
    assert parsed["state"].startswith(str(tmp_path))
    assert parsed["grpc"]["address"] == str(layout.containerd_socket)
    cri = parsed["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == config.PAUSE_IMAGE
    assert cri["netns_mounts_under_state_dir"] is True
    assert cri["cni"]["conf_dir"] == str(layout.cni_conf_dir)
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False


def test_cni_config_is_a_bridge_with_local_ipam_state_and_the_firewall_plugin(tmp_path):
    layout = config.Layout(tmp_path)
    parsed = json.loads(render.cni_config(layout, SETTINGS))
    bridge, portmap, firewall = parsed["plugins"]
    assert bridge["type"] == "bridge" and bridge["hairpinMode"] is True
    assert bridge["ipam"]["dataDir"] == str(layout.cni_ipam_dir)
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/24", "gateway": "10.244.0.1"}]]
    assert (portmap["type"], firewall["type"]) == ("portmap", "firewall")


def test_kubelet_config_uses_our_runtime_cgroupfs_and_cluster_dns(tmp_path):
    layout = config.Layout(tmp_path)
    parsed = yaml.safe_load(render.kubelet_config(layout, SETTINGS))
    assert parsed["containerRuntimeEndpoint"] == f"unix://{layout.containerd_socket}"
    assert parsed["cgroupDriver"] == "cgroupfs"
    assert parsed["clusterDNS"] == ["10.96.0.10"]
    assert parsed["authentication"]["anonymous"]["enabled"] is False
    assert parsed["authorization"]["mode"] == "Webhook"
    assert parsed["podLogsDir"].startswith(str(tmp_path))


def test_pod_security_restricted_is_the_cluster_default_except_kube_system():
    parsed = yaml.safe_load(render.admission_config())
    plugin = parsed["plugins"][0]
    assert plugin["name"] == "PodSecurity"
    assert plugin["configuration"]["defaults"]["enforce"] == "restricted"
    assert plugin["configuration"]["exemptions"]["namespaces"] == ["kube-system"]


def test_bootstrap_manifests_hold_dns_and_the_default_storage_class():
    documents = list(yaml.safe_load_all(render.bootstrap_manifests(SETTINGS)))
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in documents}
    service = by_kind[("Service", "kube-dns")]
    assert service["spec"]["clusterIP"] == "10.96.0.10"
    deployment = by_kind[("Deployment", "coredns")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == config.COREDNS_IMAGE
    assert container["securityContext"]["runAsNonRoot"] is True
    storage = by_kind[("StorageClass", "local-path")]
    assert (
        storage["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    )
    assert storage["provisioner"] == config.PROVISIONER_NAME
    assert "kubernetes.default.svc.cluster.local" not in json.dumps(
        by_kind[("ConfigMap", "coredns")]
    )  # the Corefile serves the domain, it names no service


def test_component_arguments_name_only_files_under_the_state_dir(tmp_path):
    layout = config.Layout(tmp_path / "state")
    toolset = cluster_build.Toolset(tmp_path / "bin", tmp_path / "coredns", tmp_path / "crictl")
    specs = components.processes(layout, SETTINGS, toolset)
    assert set(specs) == set(components.START_ORDER)
    apiserver = specs["kube-apiserver"].argv
    assert "--authorization-mode=Node,RBAC" in apiserver
    assert "--enable-admission-plugins=NodeRestriction,PodSecurity" in apiserver
    assert not any("pod-infra-container-image" in a for a in specs["kubelet"].argv)
    for name, process in specs.items():
        for arg in process.argv[1:]:
            value = arg.split("=", 1)[-1]
            if value.startswith("/") and name != "storage-provisioner":
                assert value.startswith(str(tmp_path)), (name, arg)


# --- processes and status ---------------------------------------------------------------------


@pytest.fixture
def layout(tmp_path):
    return config.Layout(tmp_path / "state")


def test_a_started_process_is_recognised_stopped_by_pid_and_forgotten(layout):
    process = supervise.Process("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    pid, what = supervise.ensure_process(layout, process)
    try:
        assert what == "started"
        assert supervise.running_pid(layout, "sleeper") == pid
        assert supervise.ensure_process(layout, process) == (pid, "already running")
    finally:
        assert supervise.stop_process(layout, "sleeper").startswith(f"stopped (pid {pid}, ")
    assert supervise.running_pid(layout, "sleeper") is None
    assert not layout.pid("sleeper").exists()


def test_a_recycled_pid_running_something_else_is_not_ours(layout):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        layout.run.mkdir(parents=True)
        layout.pid("etcd").write_text(f"{other.pid}\n")
        layout.argv_record("etcd").write_text(json.dumps(["/usr/bin/etcd", "--name", "x"]))
        assert supervise.running_pid(layout, "etcd") is None
        assert supervise.stop_process(layout, "etcd") == "not running"
        assert other.poll() is None, "down must never signal a process it did not start"
    finally:
        other.kill()
        other.wait()


def test_status_reports_a_crashed_component_with_the_tail_of_its_log(layout, tmp_path):
    script = "import sys; print('loading config'); print('fatal: port in use'); sys.exit(1)"
    process = supervise.Process("etcd", [sys.executable, "-c", script])
    supervise.ensure_process(layout, process)
    poll.until(
        lambda: supervise.running_pid(layout, "etcd") is None,
        what="etcd to exit",
        timeout=10,
        interval=0.05,
    )
    options = cluster_options.ClusterOptions(state_dir=layout.root, merge_kubeconfig=False)
    result = status.status(options)
    etcd = next(c for c in result.components if c.name == "etcd")
    assert etcd.state == "crashed"
    assert etcd.tail[-1] == "fatal: port in use"
    assert "fatal: port in use" in status.format_status(result)
    with pytest.raises(VerificationFailed, match="etcd"):
        status.require_healthy(result)


def test_status_of_a_cluster_never_started_says_how_to_start_it(layout):
    result = status.status(cluster_options.ClusterOptions(state_dir=layout.root))
    assert {c.state for c in result.components} == {"stopped"}
    with pytest.raises(ReleaseError, match="not running") as caught:
        status.require_healthy(result)
    assert "invoke cluster.up" in caught.value.one_line()


def test_wait_for_fails_fast_with_the_log_of_a_component_that_died(layout):
    supervise.ensure_process(
        layout,
        supervise.Process(
            "kube-apiserver",
            [sys.executable, "-c", "print('E: etcd unreachable'); raise SystemExit(1)"],
        ),
    )
    # No wait for the exit: wait_for itself notices the watched process is gone.
    with pytest.raises(ReleaseError, match="etcd unreachable"):
        supervise.wait_for(
            "readyz", lambda: False, layout=layout, watch=("kube-apiserver",), timeout=10
        )


def test_log_tail_reads_only_the_end_of_a_large_log(tmp_path):
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {i}\n" for i in range(100_000)))
    assert daemon.log_tail(log, 3) == ["line 99997", "line 99998", "line 99999"]
    assert daemon.log_tail(tmp_path / "missing.log") == []


# --- storage provisioner ----------------------------------------------------------------------


CLASSES = {
    "local-path": {
        "metadata": {"name": "local-path"},
        "reclaimPolicy": "Delete",
        "provisioner": config.PROVISIONER_NAME,
    }
}


def _claim(phase="Pending", volume_name=None, storage_class="local-path"):
    spec = {
        "storageClassName": storage_class,
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
    }
    if volume_name:
        spec["volumeName"] = volume_name
    return {
        "metadata": {"namespace": "ns", "name": "data", "uid": "u-1"},
        "spec": spec,
        "status": {"phase": phase},
    }


def test_only_pending_unbound_claims_of_our_class_are_provisioned():
    assert cluster_storage.claims_to_provision([_claim()], CLASSES) == [_claim()]
    assert cluster_storage.claims_to_provision([_claim(phase="Bound")], CLASSES) == []
    assert cluster_storage.claims_to_provision([_claim(volume_name="pv")], CLASSES) == []
    assert cluster_storage.claims_to_provision([_claim(storage_class="other")], CLASSES) == []


def test_the_volume_is_prebound_to_its_claim_on_this_node(tmp_path):
    directory = cluster_storage.volume_directory(tmp_path, _claim())
    assert directory == tmp_path / "ns_data_u-1"
    volume = cluster_storage.persistent_volume(_claim(), CLASSES["local-path"], directory)
    assert volume["metadata"]["name"] == "pvc-u-1"
    assert volume["spec"]["claimRef"]["uid"] == "u-1"
    assert volume["spec"]["capacity"] == {"storage": "1Gi"}
    assert volume["spec"]["hostPath"]["path"] == str(directory)
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    term = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]
    assert term["matchExpressions"][0]["values"] == [config.NODE_NAME]


def test_only_released_volumes_we_provisioned_are_deleted(tmp_path):
    ours = {
        "metadata": {"annotations": {"pv.kubernetes.io/provisioned-by": config.PROVISIONER_NAME}},
        "spec": {"persistentVolumeReclaimPolicy": "Delete"},
        "status": {"phase": "Released"},
    }
    theirs = {
        "metadata": {"annotations": {}},
        "spec": {"persistentVolumeReclaimPolicy": "Delete"},
        "status": {"phase": "Released"},
    }
    bound = {**ours, "status": {"phase": "Bound"}}
    assert cluster_storage.volumes_to_delete([ours, theirs, bound]) == [ours]
    assert cluster_storage._within(tmp_path, tmp_path / "ns_data_u-1")
    assert not cluster_storage._within(tmp_path, tmp_path)
    assert not cluster_storage._within(tmp_path, tmp_path.parent / "elsewhere")


def test_mounts_under_are_listed_deepest_first(tmp_path):
    root = tmp_path / "state"
    mountinfo = "\n".join(
        [
            f"1 0 0:1 / {root}/kubelet/pods/a rw - tmpfs tmpfs rw",
            f"2 0 0:1 / {root}/kubelet/pods/a/volumes/x rw - tmpfs tmpfs rw",
            "3 0 0:1 / /elsewhere rw - tmpfs tmpfs rw",
            f"4 0 0:1 / {root}/with\\040space rw - tmpfs tmpfs rw",
        ]
    )
    root.mkdir()
    assert host.mount_points_under(mountinfo, root) == [
        f"{root}/kubelet/pods/a/volumes/x",
        f"{root}/kubelet/pods/a",
        f"{root}/with space",
    ]


def test_node_ip_is_the_default_route_address_or_a_clear_error():
    has_default_route = any(
        line.split()[1] == "00000000"
        for line in Path("/proc/net/route").read_text().splitlines()[1:]
    )
    if not has_default_route:
        with pytest.raises(ReleaseError, match="no default route"):
            host.detect_node_ip()
        return
    address = host.detect_node_ip()
    assert address.count(".") == 3 and not address.startswith("127.")


def test_wiping_removes_only_the_chains_the_kubelet_and_cni_added():
    listing = "\n".join(
        [
            "-P INPUT ACCEPT",
            "-N CNI-ADMIN",
            "-N CNI-FORWARD",
            "-N DOCKER",
            "-N KUBE-FIREWALL",
            "-A INPUT -j KUBE-FIREWALL",
            '-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD',
            "-A FORWARD -o docker0 -j DOCKER",
            '-A CNI-FORWARD -m comment --comment "CNI admin overrides" -j CNI-ADMIN',
            "-A CNI-FORWARD -d 10.244.0.7/32 -j ACCEPT",
        ]
    )
    commands = host.host_chain_commands(
        "filter", listing, pod_network="10.244.0.0/16", another_cluster=False
    )
    unhook = '-t filter -D FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD'
    assert shlex.split(unhook) in commands
    assert ["-t", "filter", "-D", "INPUT", "-j", "KUBE-FIREWALL"] in commands
    assert ["-t", "filter", "-X", "KUBE-FIREWALL"] in commands
    assert ["-t", "filter", "-X", "CNI-FORWARD"] in commands
    assert not any("DOCKER" in c for command in commands for c in command)
    # Jumps go before the chains they lead to are deleted.
    assert commands.index(["-t", "filter", "-D", "INPUT", "-j", "KUBE-FIREWALL"]) < commands.index(
        ["-t", "filter", "-X", "KUBE-FIREWALL"]
    )


def test_the_kubelets_chains_stay_while_another_cluster_runs():
    listing = "-N KUBE-FIREWALL\n-A INPUT -j KUBE-FIREWALL"
    commands = host.host_chain_commands(
        "filter", listing, pod_network="10.244.0.0/16", another_cluster=True
    )
    assert commands == []


def test_another_clusters_rules_in_the_cni_chain_stay_and_only_ours_go():
    listing = "\n".join(
        [
            "-N CNI-ADMIN",
            "-N CNI-FORWARD",
            '-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD',
            "-A CNI-FORWARD -j CNI-ADMIN",
            "-A CNI-FORWARD -d 10.244.0.7/32 -j ACCEPT",
            "-A CNI-FORWARD -s 10.42.0.9/32 -j ACCEPT",
        ]
    )
    commands = ownership.shared_chain_commands("filter", listing, host.CNI_CHAINS, "10.244.0.0/16")
    assert commands == [
        ["-t", "filter", "-D", "CNI-FORWARD", "-d", "10.244.0.7/32", "-j", "ACCEPT"]
    ]


KUBE_PROXY_NAT = "\n".join(
    [
        "-N KUBE-SERVICES",
        "-N KUBE-MARK-MASQ",
        "-N KUBE-SVC-ERIFXISQEP7F7OF4",
        "-N KUBE-SEP-IT2ZTR26TO4XFPTO",
        "-N KUBE-SVC-FOREIGNCLUSTER01",
        "-N KUBE-SEP-FOREIGNCLUSTER01",
        "-N KUBE-OTHER-TOOL",
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "-A OUTPUT -j KUBE-SERVICES",
        "-A PREROUTING -j KUBE-OTHER-TOOL",
        "-A KUBE-SERVICES -d 10.96.0.10/32 -p udp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4",
        "-A KUBE-SVC-ERIFXISQEP7F7OF4 -j KUBE-SEP-IT2ZTR26TO4XFPTO",
        "-A KUBE-SEP-IT2ZTR26TO4XFPTO -s 10.244.0.3/32 -j KUBE-MARK-MASQ",
        "-A KUBE-OTHER-TOOL -j KUBE-SVC-FOREIGNCLUSTER01",
        "-A KUBE-SVC-FOREIGNCLUSTER01 -j KUBE-SEP-FOREIGNCLUSTER01",
    ]
)


def test_down_removes_the_chains_our_kube_proxy_made_and_not_anothers():
    commands = ownership.kube_proxy_commands("nat", KUBE_PROXY_NAT)
    deleted = {c[3] for c in commands if c[2] == "-X"}
    assert deleted == {
        "KUBE-SERVICES",
        "KUBE-MARK-MASQ",
        "KUBE-SVC-ERIFXISQEP7F7OF4",
        "KUBE-SEP-IT2ZTR26TO4XFPTO",
    }
    unhooked = [c for c in commands if c[2] == "-D"]
    assert {c[3] for c in unhooked} == {"PREROUTING", "OUTPUT"}
    assert not any("FOREIGN" in part or "OTHER" in part for c in commands for part in c)


def test_processes_in_another_kubelets_pod_cgroups_are_told_apart_from_ours():
    theirs = "4:memory:/kubepods.slice/kubepods-besteffort.slice/x\n0::/"
    ours = "4:memory:/traderadmin/kubepods/besteffort/pod1/abc\n0::/"
    legacy_name = "0::/kubepods/burstable/pod2"
    assert ownership.in_pod_cgroups_of_another_kubelet(theirs)
    assert ownership.in_pod_cgroups_of_another_kubelet(legacy_name)
    assert not ownership.in_pod_cgroups_of_another_kubelet(ours)
    assert not ownership.in_pod_cgroups_of_another_kubelet("0::/user.slice")


def test_a_second_up_or_down_at_the_same_time_is_refused(layout):
    layout.root.mkdir(parents=True)
    busy = pytest.raises(ReleaseError, match=r"another cluster\.up or cluster\.down is running")
    with (
        cluster._exclusive(layout, "start the cluster"),
        busy,
        cluster._exclusive(layout, "stop the cluster"),
    ):
        pass
    with cluster._exclusive(layout, "stop the cluster"):  # free again once the first is done
        pass


def test_network_policy_cleanup_removes_only_kube_routers_chains_and_jumps():
    from build_scripts.cluster import network_policy

    rules = "\n".join(
        [
            "-P FORWARD DROP",
            "-N CNI-ADMIN",
            "-N KUBE-ROUTER-FORWARD",
            "-N KUBE-POD-FW-ABC",
            '-A FORWARD -m comment --comment "kube-router netpol" -j KUBE-ROUTER-FORWARD',
            "-A FORWARD -j CNI-ADMIN",
            "-A KUBE-ROUTER-FORWARD -d 10.0.0.5/32 -j KUBE-POD-FW-ABC",
        ]
    )
    assert network_policy.cleanup_commands(rules) == [
        [
            "-t",
            "filter",
            "-D",
            "FORWARD",
            "-m",
            "comment",
            "--comment",
            "kube-router netpol",
            "-j",
            "KUBE-ROUTER-FORWARD",
        ],
        ["-t", "filter", "-F", "KUBE-ROUTER-FORWARD"],
        ["-t", "filter", "-F", "KUBE-POD-FW-ABC"],
        ["-t", "filter", "-X", "KUBE-ROUTER-FORWARD"],
        ["-t", "filter", "-X", "KUBE-POD-FW-ABC"],
    ]


def test_the_network_policy_engine_runs_only_its_firewall(tmp_path):
    from build_scripts.cluster import network_policy

    argv = network_policy.command_line(
        tmp_path / "kube-router",
        kubeconfig=tmp_path / "k",
        node_name="node",
        service_cidr="10.0.0.0/24",
    )
    assert "--run-firewall=true" in argv
    for part in ("--run-router=false", "--run-service-proxy=false", "--enable-cni=false"):
        assert part in argv


def test_node_readiness_counts_only_a_heartbeat_after_the_kubelet_started():
    node = {
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:10Z"},
            ]
        }
    }
    started = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).timestamp()
    assert probes.node_is_ready(node)
    assert probes.node_is_ready(node, since=started + 10)
    assert not probes.node_is_ready(node, since=started + 11)
    assert not probes.node_is_ready({"status": {"conditions": []}})


def test_dns_counts_a_ready_coredns_pod():
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    unready = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert probes.dns_pods_ready([unready, ready])
    assert not probes.dns_pods_ready([unready])
    assert not probes.dns_pods_ready([])


def test_dns_query_asks_for_the_a_record_of_the_name():
    query = probes.dns_query("kubernetes.default.svc.cluster.local", 0x1234)
    assert query[:2] == b"\x12\x34" and query[4:6] == b"\x00\x01"  # id, one question
    assert b"\x0akubernetes\x07default\x03svc\x07cluster\x05local\x00" in query
    assert query.endswith(b"\x00\x01\x00\x01")  # type A, class IN


def test_dns_answered_needs_our_id_noerror_and_an_answer():
    def response(query_id=0x1234, flags=0x8180, answers=1):
        return (
            query_id.to_bytes(2, "big")
            + flags.to_bytes(2, "big")
            + (1).to_bytes(2, "big")
            + answers.to_bytes(2, "big")
            + bytes(4)
        )

    assert probes.dns_answered(response(), 0x1234)
    assert not probes.dns_answered(response(query_id=0x4321), 0x1234)
    assert not probes.dns_answered(response(flags=0x8183), 0x1234)  # NXDOMAIN
    assert not probes.dns_answered(response(answers=0), 0x1234)
    assert not probes.dns_answered(response(flags=0x0100), 0x1234)  # a query, not a response
    assert not probes.dns_answered(b"\x12", 0x1234)


def test_pod_isolation_rejects_untranslated_service_traffic_then_anything_leaving_the_bridge():
    untranslated, leaving = isolation.isolation_rules("10.96.0.0/16", "tacni0")
    assert untranslated.startswith("ip daddr 10.96.0.0/16 ")
    assert leaving.startswith('iifname "tacni0" oifname != "tacni0" ')
    for rule in (untranslated, leaving):
        # reject, not drop: the client gets "connection refused" at once instead of a timeout.
        assert "reject with icmpx type port-unreachable" in rule


def test_pod_isolation_hooks_forward_before_every_iptables_rule():
    # iptables (nft or legacy) filters at priority 0; kube-router puts an ACCEPT first in
    # FORWARD. Only a base chain of lower priority sees every packet before those.
    script = isolation.ruleset("10.96.0.0/16", "tacni0")
    assert "type filter hook forward priority -10; policy accept;" in script
    assert isolation.PRIORITY < 0


def test_this_machines_untranslated_service_requests_are_rejected_after_kube_proxys_nat():
    # kube-proxy's nat OUTPUT (priority -100) translates first; what still carries a Service
    # address after it would leave by the default route.
    script = isolation.ruleset("10.96.0.0/16", "tacni0")
    assert "type filter hook output priority -10; policy accept;" in script
    assert -100 < isolation.PRIORITY < 0
    (rule,) = isolation.host_rules("10.96.0.0/16")
    assert rule.startswith("ip daddr 10.96.0.0/16 ")
    assert "reject with icmpx type port-unreachable" in rule
    assert "oifname" not in rule  # still the pre-DNAT route's interface at this hook


def test_pod_isolation_ruleset_is_accepted_by_nft():
    # `nft --check` parses and validates against the kernel without changing the ruleset.
    result = subprocess.run(
        ["nft", "--check", "-f", "-"],
        input=isolation.ruleset("10.96.0.0/16", "tacni0"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_pod_isolation_refuses_a_bad_cidr_or_interface_before_nft_sees_it():
    with pytest.raises(ValueError):
        isolation.isolation_rules("10.96.0.0/33", "tacni0")
    with pytest.raises(ReleaseError):
        isolation.isolation_rules("10.96.0.0/16", 'tacni0" accept')


def test_installed_chain_reads_hook_priority_and_comments_from_nft_json():
    listing = json.dumps(
        {
            "nftables": [
                {"metainfo": {"json_schema_version": 1}},
                {"table": {"family": "inet", "name": "traderadmin_pods", "handle": 1}},
                {
                    "chain": {
                        "family": "inet",
                        "table": "traderadmin_pods",
                        "name": "forward",
                        "type": "filter",
                        "hook": "forward",
                        "prio": -10,
                        "policy": "accept",
                    }
                },
                {"rule": {"chain": "forward", "comment": isolation.UNTRANSLATED_SERVICE_COMMENT}},
                {"rule": {"chain": "forward", "comment": isolation.LEAVES_NODE_COMMENT}},
                {"rule": {"chain": "output", "comment": isolation.HOST_UNTRANSLATED_COMMENT}},
            ]
        }
    )
    chain = isolation.installed_chain(listing)
    assert chain["hook"] == "forward" and chain["prio"] == -10
    assert chain["comments"] == [
        isolation.UNTRANSLATED_SERVICE_COMMENT,
        isolation.LEAVES_NODE_COMMENT,
    ]
    assert isolation.installed_chain(listing, "output") is None  # listed rule, no such chain
    assert isolation.installed_chain('{"nftables": []}') is None
    assert isolation.installed_chain("not json") is None


def test_coredns_forwards_nothing_off_the_machine():
    documents = list(yaml.safe_load_all(render.bootstrap_manifests(SETTINGS)))
    (config_map,) = [d for d in documents if d["kind"] == "ConfigMap"]
    corefile = config_map["data"]["Corefile"]
    assert "kubernetes cluster.local" in corefile
    assert "forward" not in corefile


def test_coredns_is_built_with_every_plugin_the_corefile_uses():
    """A directive the binary lacks stops CoreDNS at start ("unknown directive")."""
    corefile = render.corefile(SETTINGS)
    body = corefile[corefile.index("{") + 1 : corefile.rindex("}")]
    depth, directives = 0, set()
    for line in body.splitlines():
        words = line.split()
        if words and depth == 0:
            directives.add(words[0])
        depth += line.count("{") - line.count("}")
    assert directives and directives <= set(cluster_build.COREDNS_PLUGINS)
    main_go = cluster_build.coredns_main_go()
    for plugin in cluster_build.COREDNS_PLUGINS:
        assert f'"github.com/coredns/coredns/plugin/{plugin}"' in main_go


def test_conntrack_check_flags_a_pod_connection_to_another_host_only():
    """The scenario's judge of `conntrack -L`: real peers off this machine are flagged."""
    import ipaddress

    from build_scripts.cluster.isolation import connections_leaving_the_machine

    local = {ipaddress.ip_address(a) for a in ("10.244.0.1", "192.0.2.2")}
    listing = "\n".join(
        [
            # pod -> Service, DNATed to another pod: stays
            "tcp 6 117 TIME_WAIT src=10.244.0.5 dst=10.96.0.10 sport=1 dport=53 "
            "src=10.244.0.3 dst=10.244.0.5 sport=53 dport=1",
            # pod -> the API server behind the kubernetes Service: the node, stays
            "tcp 6 86399 ESTABLISHED src=10.244.0.5 dst=10.96.0.1 sport=2 dport=443 "
            "src=192.0.2.2 dst=10.244.0.5 sport=6443 dport=2",
            # the node's bridge address sending IGMP: not a pod, link-local
            "unknown 2 592 src=10.244.0.1 dst=224.0.0.22 [UNREPLIED] src=224.0.0.22 dst=10.244.0.1",
            # pod -> a stranger: flagged
            "tcp 6 60 SYN_SENT src=10.244.0.5 dst=203.0.113.9 sport=3 dport=80 [UNREPLIED] "
            "src=203.0.113.9 dst=192.0.2.2 sport=80 dport=3",
        ]
    )
    leaving = connections_leaving_the_machine(listing, "10.244.0.0/16", local)
    assert len(leaving) == 1 and "203.0.113.9" in leaving[0]
