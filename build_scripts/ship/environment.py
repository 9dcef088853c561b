"""An environment: deploy/environments/NAME.yaml, the values of one place the release runs.

Read and checked here, once per deploy (or per release step, per bundle), and handed down:
to the image source (local cluster or registry), to kube/manifests.py (which renders what it is
given and reads no environment itself) and to the token Secrets. This layer is where an
environment's name becomes its values, so the name travels down one way.
"""

from __future__ import annotations

import yaml

from build_scripts.core.errors import ConfigError
from build_scripts.kube import manifests


def environments() -> list[str]:
    return sorted(p.stem for p in (manifests.deploy_dir() / "environments").glob("*.yaml"))


def load_values(environment: str) -> dict:
    path = manifests.deploy_dir() / "environments" / f"{environment}.yaml"
    if not path.exists():
        raise ConfigError(
            f"unknown environment {environment!r}",
            f"choose one of: {', '.join(environments())} "
            f"(or add deploy/environments/{environment}.yaml)",
        )
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    # `token_secret` named the one token shared by both services; it is the admin's now.
    if "token_secret" in values:
        values.setdefault("admin_token_secret", values.pop("token_secret"))
    missing = [key for key in manifests.REQUIRED_VALUES if key not in values]
    if missing:
        raise ConfigError(
            f"{path} lacks {', '.join(missing)}", "compare it with deploy/environments/local.yaml"
        )
    secrets = token_secrets(values)
    if len(set(secrets.values())) < len(secrets):
        # One Secret for both roles puts one token in both, which the backend refuses at start:
        # it would crash-loop.
        raise ConfigError(
            f"{path}: {' and '.join(manifests.TOKEN_SECRET_VALUES.values())} are both "
            f"{next(iter(secrets.values()))!r}; each role needs a Secret of its own",
            "give orchestrator_token_secret another name (e.g. traderadmin-orchestrator-token)",
        )
    return values


def token_secrets(values: dict) -> dict[str, str]:
    """API role -> the name of its token Secret."""
    return {role: values.get(key) for role, key in manifests.TOKEN_SECRET_VALUES.items()}
