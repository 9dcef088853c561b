"""Rolling a whole release back when one of its Deployments fails.

Before `deploy` applies, it records each Deployment as the cluster has it (`record`). If any
Deployment of the new release then fails, every Deployment that existed before goes back to
the pod template it had then (the template of its ReplicaSet at that time), so the previous
release runs again as a whole: never a new backend beside an old orchestrator that was only
half rolled back. Deployments the failed release created have no previous revision; a first
install therefore has nothing to roll back to and says so.

The plan is a pure function of the recorded and current objects (tests/test_kube_rollback.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from build_scripts.core import on_first_use
from build_scripts.kube.rollout import REVISION_ANNOTATION, version_of

kr8s = on_first_use.module("kr8s")
kr8s_objects = on_first_use.module("kr8s.objects")


@dataclass(frozen=True)
class Previous:
    """One Deployment before the deploy: its pod template and the version it carried."""

    name: str
    template: dict | None
    version: str | None
    revision: str | None

    @property
    def existed(self) -> bool:
        return self.template is not None


@dataclass(frozen=True)
class Restore:
    """Put `template` back into Deployment `name` (version `version`)."""

    name: str
    template: dict
    version: str


def previous_of(name: str, deployment: dict | None) -> Previous:
    if deployment is None:
        return Previous(name, None, None, None)
    template = copy.deepcopy(deployment["spec"]["template"])
    revision = deployment["metadata"].get("annotations", {}).get(REVISION_ANNOTATION)
    return Previous(name, template, version_of(deployment), revision)


def record(api: kr8s.Api, namespace: str, names: list[str]) -> dict[str, Previous]:
    existing = {d.name: d.raw for d in api.get("deployments", namespace=namespace)}
    return {name: previous_of(name, existing.get(name)) for name in names}


def plan(previous: dict[str, Previous], current: dict[str, dict]) -> list[Restore]:
    """What to restore: every Deployment that existed and whose template changed since."""
    actions = []
    for name, before in previous.items():
        if not before.existed:
            continue
        now = current.get(name)
        if now is not None and now["spec"]["template"] == before.template:
            continue
        actions.append(Restore(name, before.template, before.version or "unknown"))
    return actions


def nothing_to_roll_back(previous: dict[str, Previous]) -> bool:
    return not any(p.existed for p in previous.values())


def previous_version(previous: dict[str, Previous]) -> str:
    """The version the release returns to, e.g. "1.2.0 (backend revision 3, orchestrator
    revision 5)"; versions joined by "/" if the Deployments carried different ones."""
    existed = {n: p for n, p in sorted(previous.items()) if p.existed}
    if not existed:
        return "nothing"
    versions = "/".join(sorted({p.version or "unknown" for p in existed.values()}))
    revisions = ", ".join(f"{n} revision {p.revision or '?'}" for n, p in existed.items())
    return f"{versions} ({revisions})"


def restore(api: kr8s.Api, namespace: str, actions: list[Restore]) -> None:
    """Replace each Deployment's pod template; the controller then rolls to it.

    A JSON patch replaces the whole template (a merge patch would keep fields the failed
    release added). The next `deploy` takes the fields back by server-side apply with
    --force-conflicts.
    """
    for action in actions:
        deployment = kr8s_objects.Deployment.get(action.name, namespace=namespace, api=api)
        deployment.patch(
            [{"op": "replace", "path": "/spec/template", "value": action.template}], type="json"
        )
