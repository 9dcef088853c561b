"""Switching a live Deployment from RollingUpdate to Recreate.

The API server defaults `spec.strategy.rollingUpdate` on a Deployment created without a
strategy; nobody owns those fields, so a server-side apply that says `type: Recreate` keeps them
and is refused ("may not be specified when strategy `type` is 'Recreate'"; kubernetes#24198),
and an explicit `rollingUpdate: null` did not clear them through kubectl here either. Before
the dry run, deploy therefore patches such a Deployment with a JSON merge patch (where null
deletes): type Recreate, no rollingUpdate. It changes no pod template, so nothing rolls out.
"""

from __future__ import annotations

from collections.abc import Sequence

from build_scripts.core import on_first_use
from build_scripts.core.progress import say
from build_scripts.kube.manifests import RenderedManifests

kr8s = on_first_use.module("kr8s")
kr8s_objects = on_first_use.module("kr8s.objects")


def strategy_patches(wanted: Sequence[dict], live: dict[str, dict]) -> dict[str, dict]:
    """{name: merge patch} for each Deployment the manifests want Recreate that is not yet."""
    patches = {}
    for doc in wanted:
        if doc.get("kind") != "Deployment":
            continue
        name = doc["metadata"]["name"]
        strategy = doc.get("spec", {}).get("strategy", {})
        current = live.get(name, {}).get("spec", {}).get("strategy", {})
        if strategy.get("type") == "Recreate" and name in live and "rollingUpdate" in current:
            patches[name] = {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}}
    return patches


def clear_rolling_update(api: kr8s.Api, namespace: str, manifests: RenderedManifests) -> list[str]:
    live = {d.name: d.raw for d in api.get("deployments", namespace=namespace)}
    patches = strategy_patches(manifests.documents, live)
    for name, patch in patches.items():
        kr8s_objects.Deployment.get(name, namespace=namespace, api=api).patch(patch)
        say(f"  {name}: strategy switched to Recreate (its rollingUpdate settings cleared)")
    return list(patches)
