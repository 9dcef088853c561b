"""Deploying one release: validate, (show the diff,) apply, judge the rollout, roll back.

read the state first, then act:
  1. offline schema check of the rendered file (kube/validate.py);
  2. namespace and API token Secret (created if missing);
  3. server-side dry run: the API server's validation and admission, nothing persisted;
  (with confirm, before any of these, the caller shows `preview` and asks: ask_first)
  5. record every Deployment as it is (kube/rollback.py), apply, wait (kube/wait.py);
  6. if a Deployment fails: roll every Deployment of the release back, wait until the previous
     version is healthy, and fail with one line naming component, reason and version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from build_scripts.core import on_first_use
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.core.progress import say, warn
from build_scripts.kube import rollback, strategy, validate
from build_scripts.kube import target as kube_target
from build_scripts.kube.apply import server_side_apply, server_side_diff
from build_scripts.kube.manifests import RenderedManifests
from build_scripts.kube.rollout import Verdict
from build_scripts.kube.wait import RolloutFailed, wait_for_release

kr8s = on_first_use.module("kr8s")

# A container running this long without once passing its readiness probe fails the rollout.
READINESS_BOUND_SECONDS = 60.0


class ReleaseRefused(VerificationFailed):
    """The release failed and was rolled back (or could not be): the one line says which."""


@dataclass(frozen=True)
class Options:
    timeout: float = 180.0
    readiness_bound: float = READINESS_BOUND_SECONDS
    rollback: bool = True
    confirm: Callable[[str], bool] | None = None


def read_manifests(path: Path) -> RenderedManifests:
    """Manifests rendered elsewhere (a bundle's, pinned already), parsed once; a file that is
    not YAML fails as the schema check does."""
    try:
        documents = tuple(d for d in yaml.safe_load_all(path.read_text()) if d)
    except yaml.YAMLError as exc:
        version = validate.KUBERNETES_VERSION
        _refuse_problems([validate.unparsable(path, exc)], f"schema check (Kubernetes {version})")
    return RenderedManifests(path, documents)


def check_offline(manifests: RenderedManifests) -> str:
    problems, version = validate.schema_problems(manifests)
    _refuse_problems(problems, f"schema check (Kubernetes {version})")
    return version


def dry_run(target: kube_target.Target, manifests: RenderedManifests) -> None:
    result = server_side_apply(
        manifests.path,
        field_manager=kube_target.FIELD_MANAGER,
        kubectl_args=target.kubectl_args(),
        dry_run=True,
    )
    problems = validate.dry_run_problems(manifests.path, result.output, result.returncode)
    _refuse_problems(problems, "server-side dry run")


def _refuse_problems(problems: list[validate.Problem], what: str) -> None:
    for problem in problems:
        warn(problem.line())
    validate.raise_for(problems, what)


def namespace_exists(api: kr8s.Api, namespace: str) -> bool:
    return any(n.name == namespace for n in api.get("namespaces"))


def diff(target: kube_target.Target, manifests: RenderedManifests) -> str:
    return server_side_diff(
        manifests.path, field_manager=kube_target.FIELD_MANAGER, kubectl_args=target.kubectl_args()
    )


def preview(
    api: kr8s.Api,
    target: kube_target.Target,
    manifests: RenderedManifests,
    token_secrets: dict[str, str],
    before: list[str] = (),
) -> list[str]:
    """What a deploy of the manifests would change, found without changing anything: `before`
    (what the caller does first: images imported or pushed), the namespace and token Secrets
    it would create, strategy switches, and the server-side diff of the objects."""
    docs = manifests.documents
    namespace = manifests.namespace()
    lines = list(before)
    if not namespace_exists(api, namespace):
        lines.append(f"create the namespace {namespace}")
        lines += [
            f"create Secret {namespace}/{s} (a new {r} token)" for r, s in token_secrets.items()
        ]
        lines += [
            f"create {d['kind']} {namespace}/{d['metadata']['name']}"
            for d in docs
            if d["kind"] != "Namespace"
        ]
        return lines
    held = {s.name for s in api.get("secrets", namespace=namespace)}
    lines += [
        f"create Secret {namespace}/{s} (a new {r} token)"
        for r, s in token_secrets.items()
        if s not in held
    ]
    live = {d.name: d.raw for d in api.get("deployments", namespace=namespace)}
    switches = strategy.strategy_patches(docs, live)
    lines += [f"switch Deployment {namespace}/{n} to the Recreate strategy" for n in switches]
    if switches:
        # The API server refuses the manifests until the switch is made, so no diff yet.
        lines.append("then apply the manifests (their diff can only be computed after the switch)")
    else:
        lines.append(diff(target, manifests) or "no changes to the objects")
    return lines


def ask_first(
    api: kr8s.Api,
    target: kube_target.Target,
    manifests: RenderedManifests,
    token_secrets: dict[str, str],
    confirm: Callable[[str], bool],
    before: list[str] = (),
) -> None:
    """--confirm: show what the deploy would change and ask, before the first change."""
    say("deploy would:")
    for line in preview(api, target, manifests, token_secrets, before):
        say(f"  {line}" if "\n" not in line else line)
    if not confirm("apply these changes?"):
        raise ConfigError("deploy not confirmed: nothing was applied")


def deploy(
    api: kr8s.Api,
    target: kube_target.Target,
    manifests: RenderedManifests,
    *,
    token_secrets: dict[str, str],
    release_version: str,
    options: Options,
) -> list[Verdict]:
    check_offline(manifests)
    namespace = kube_target.ensure_namespace(api, manifests)
    for role, secret in token_secrets.items():
        if kube_target.ensure_token_secret(api, namespace, secret):
            say(f"  created Secret {namespace}/{secret} with a new {role} token")
    strategy.clear_rolling_update(api, namespace, manifests)
    dry_run(target, manifests)
    names = manifests.deployments()
    previous = rollback.record(api, namespace, names)
    kube_target.apply_manifests(target, manifests)
    try:
        return _wait_and_show_diagnostics(api, namespace, names, options)
    except RolloutFailed as failure:
        refuse(api, namespace, failure, previous, release_version, options)
        raise  # refuse always raises; this keeps type checkers informed


def _wait_and_show_diagnostics(api: kr8s.Api, namespace: str, names: list[str], options: Options):
    """wait_for_release; on failure the pod's reason, events and log lines are shown first."""
    try:
        return wait_for_release(
            api,
            namespace,
            names,
            timeout=options.timeout,
            readiness_bound=options.readiness_bound,
        )
    except RolloutFailed as failure:
        for line in failure.diagnostics:
            warn(line)
        raise


def refuse(
    api: kr8s.Api,
    namespace: str,
    failure: RolloutFailed,
    previous: dict[str, rollback.Previous],
    release_version: str,
    options: Options,
) -> None:
    """Roll the whole release back (unless told not to) and raise the one-line verdict."""
    what = f"{failure.verdict.line()}; release {release_version}"
    inspect = (
        f"inspect: invoke deploy.status; invoke deploy.logs --component {failure.verdict.component}"
    )
    if not options.rollback:
        raise ReleaseRefused(f"{what} left as it is (--no-rollback)", inspect) from failure
    if rollback.nothing_to_roll_back(previous):
        raise ReleaseRefused(
            f"{what} failed on its first install: nothing to roll back to", inspect
        ) from failure
    version = rollback.previous_version(previous)
    current = {d.name: d.raw for d in api.get("deployments", namespace=namespace)}
    actions = rollback.plan(previous, current)
    say(f"▶ rolling back {', '.join(a.name for a in actions) or 'nothing'} to {version}")
    rollback.restore(api, namespace, actions)
    existed = [name for name, p in previous.items() if p.existed]
    try:
        _wait_and_show_diagnostics(api, namespace, existed, options)
    except RolloutFailed as again:
        raise ReleaseRefused(
            f"{what} failed and the rollback to {version} is not healthy either: "
            f"{again.verdict.line()}",
            inspect,
        ) from failure
    raise ReleaseRefused(f"{what} rolled back to {version}", inspect) from failure
