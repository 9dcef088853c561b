"""`deploy.undeploy`: remove the release's workloads, keeping its data unless told otherwise.

Kept by default: the namespace, the PersistentVolumeClaim (the configuration and audit log) and
the Secrets (the API token): a later `deploy` finds them and carries on where it stopped.
With delete_data the whole namespace goes, and with it the claim, its volume and the Secrets.
"""

from __future__ import annotations

from build_scripts.core import on_first_use, poll
from build_scripts.core.errors import VerificationFailed
from build_scripts.core.progress import say

kr8s = on_first_use.module("kr8s")

# What undeploy removes; everything else in the namespace stays.
WORKLOAD_KINDS = ("deployments", "services", "networkpolicies")


def undeploy(
    api: kr8s.Api, namespace: str, *, delete_data: bool = False, timeout: float = 120
) -> list[str]:
    """Delete the workloads (or the namespace); wait until their pods are gone."""
    removed = []
    if delete_data:
        for item in api.get("namespaces"):
            if item.name == namespace:
                item.delete()
                removed.append(f"namespace/{namespace} (with its volume claim and Secrets)")
        _wait_gone(
            lambda: any(n.name == namespace for n in api.get("namespaces")),
            timeout,
            f"namespace {namespace}",
        )
        return removed
    for kind in WORKLOAD_KINDS:
        for obj in api.get(
            kind, namespace=namespace, label_selector={"app.kubernetes.io/part-of": "traderadmin"}
        ):
            obj.delete()
            removed.append(f"{kind}/{obj.name}")
    _wait_gone(
        lambda: bool(
            list(
                api.get(
                    "pods",
                    namespace=namespace,
                    label_selector={"app.kubernetes.io/part-of": "traderadmin"},
                )
            )
        ),
        timeout,
        f"the pods in {namespace}",
    )
    say(f"  kept in {namespace}: volume claims and Secrets (--delete-data removes them)")
    return removed


def _wait_gone(present, timeout: float, what: str) -> None:
    poll.until(
        lambda: not present(),
        what=f"{what} to go",
        timeout=timeout,
        interval=1,
        fail=lambda _: VerificationFailed(f"{what} still there after {timeout:.0f}s"),
    )
