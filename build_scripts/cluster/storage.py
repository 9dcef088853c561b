"""The local cluster's default StorageClass provisioner: one host directory per claim.

Why our own: kube-controller-manager's built-in host-path provisioner creates its directories
under /tmp/hostpath_pv (outside the cluster's state dir) with mode 0750 owned by root, so pods
under the `restricted` Pod Security level (non-root) cannot write to them; pre-created PVs would
run out and need manual recycling. This provisioner creates `<state>/volumes/<ns>_<claim>_<uid>`
with mode 0777 (hostPath volumes get no fsGroup ownership change), creates a hostPath PV bound
to the claim, and on release (reclaim policy Delete) removes the directory and the PV. It polls
the API every two seconds, which is plenty for a one-node test cluster.

Run as a daemon by `cluster.up`: python -m build_scripts.cluster.storage --kubeconfig K --root D
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from build_scripts.cluster.config import NODE_NAME, PROVISIONER_NAME
from build_scripts.core import on_first_use

kr8s = on_first_use.module("kr8s")
kr8s_objects = on_first_use.module("kr8s.objects")

log = logging.getLogger("storage-provisioner")
POLL_SECONDS = 2.0


def volume_directory(root: Path, claim: dict) -> Path:
    meta = claim["metadata"]
    return root / f"{meta['namespace']}_{meta['name']}_{meta['uid']}"


def persistent_volume(claim: dict, storage_class: dict, directory: Path) -> dict:
    """The PV that satisfies `claim`, pre-bound to it through claimRef."""
    meta = claim["metadata"]
    spec = claim["spec"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{meta['uid']}",
            "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER_NAME},
        },
        "spec": {
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
            "storageClassName": storage_class["metadata"]["name"],
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
            "hostPath": {"path": str(directory), "type": "Directory"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": [NODE_NAME],
                                }
                            ]
                        }
                    ]
                }
            },
        },
    }


def claims_to_provision(claims: list[dict], classes: dict[str, dict]) -> list[dict]:
    """Pending claims of one of our classes that no volume was made for yet."""
    wanted = []
    for claim in claims:
        spec = claim.get("spec", {})
        if spec.get("volumeName") or claim.get("status", {}).get("phase") != "Pending":
            continue
        if (
            spec.get("storageClassName") in classes
            and spec.get("volumeMode", "Filesystem") == "Filesystem"
        ):
            wanted.append(claim)
    return wanted


def volumes_to_delete(volumes: list[dict]) -> list[dict]:
    return [
        v
        for v in volumes
        if v["metadata"].get("annotations", {}).get("pv.kubernetes.io/provisioned-by")
        == PROVISIONER_NAME
        and v.get("status", {}).get("phase") == "Released"
        and v["spec"].get("persistentVolumeReclaimPolicy") == "Delete"
    ]


def _within(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return path.resolve() != root.resolve()


def reconcile(api, root: Path) -> None:
    classes = {
        sc.name: sc.raw
        for sc in api.get("storageclasses")
        if sc.raw.get("provisioner") == PROVISIONER_NAME
    }
    claims = [c.raw for c in api.get("persistentvolumeclaims", namespace=kr8s.ALL)]
    for claim in claims_to_provision(claims, classes):
        directory = volume_directory(root, claim)
        directory.mkdir(parents=True, exist_ok=True)
        # Any uid must be able to write: restricted pods run as arbitrary non-root users.
        os.chmod(directory, 0o777)
        body = persistent_volume(claim, classes[claim["spec"]["storageClassName"]], directory)
        volume = kr8s_objects.PersistentVolume(body, api=api)
        if volume.exists():
            continue
        volume.create()
        meta = claim["metadata"]
        log.info(
            "provisioned %s for %s/%s at %s",
            body["metadata"]["name"],
            meta["namespace"],
            meta["name"],
            directory,
        )
    for volume in volumes_to_delete([v.raw for v in api.get("persistentvolumes")]):
        path = Path(volume["spec"].get("hostPath", {}).get("path", ""))
        if _within(root, path):
            shutil.rmtree(path, ignore_errors=True)
        kr8s_objects.PersistentVolume(volume, api=api).delete()
        log.info("deleted %s and %s", volume["metadata"]["name"], path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--root", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s"
    )
    # httpx logs every request at INFO: one line per poll would drown what happened.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args.root.mkdir(parents=True, exist_ok=True)
    api = kr8s.api(kubeconfig=args.kubeconfig)
    log.info("watching claims of provisioner %s; volumes under %s", PROVISIONER_NAME, args.root)
    while True:
        try:
            reconcile(api, args.root)
        except Exception as error:  # keep serving: the API server may restart under us
            log.warning("reconcile failed: %s", error)
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
