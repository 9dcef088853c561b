"""Validating rendered manifests before anything is applied.

1. Offline: every object against the Kubernetes OpenAPI schema of the cluster's version, from
   the schemas bundled in the `kubernetes-validate` package (no network). Strict schemas: a
   misspelt field is an error, not silently dropped by the API server.
2. On a reachable cluster: a server-side dry run (`kubectl apply --server-side
   --dry-run=server`), which adds the API server's own validation and admission; a Pod Security
   warning ("would violate PodSecurity") counts as an error, since the pods would be rejected.

Every problem names the file, the object (kind/name) and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core.errors import ConfigError
from build_scripts.kube.manifests import RenderedManifests

# The local cluster's Kubernetes (cluster/build.py KUBERNETES_VERSION); the schemas used are
# those of this minor version or the nearest older one the package ships.
KUBERNETES_VERSION = "1.34"


@dataclass(frozen=True)
class Problem:
    file: Path
    obj: str
    field: str
    message: str

    def line(self) -> str:
        field = f" field {self.field}:" if self.field else ""
        return f"{self.file}: {self.obj}:{field} {self.message}"


def object_name(doc: dict) -> str:
    name = doc.get("metadata", {}).get("name", "?")
    return f"{doc.get('kind', '?')}/{name}"


def unparsable(path: Path, exc: Exception) -> Problem:
    """A manifests file that is not YAML: one problem for the whole file."""
    return Problem(path, "(file)", "", f"not valid YAML: {str(exc).splitlines()[0]}")


def schema_problems(
    manifests: RenderedManifests, version: str = KUBERNETES_VERSION
) -> tuple[list[Problem], str]:
    """Problems of every object of the manifests, and the schema version actually used."""
    from kubernetes_validate import utils as kv

    path = manifests.path
    problems: list[Problem] = []
    used = version
    for doc in manifests.documents:
        try:
            used = kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            field = ".".join(str(p) for p in exc.path)
            problems.append(Problem(path, object_name(doc), field, exc.message))
        except kv.SchemaNotFoundError as exc:
            problems.append(Problem(path, object_name(doc), "apiVersion", exc.message))
        except kv.VersionNotSupportedError as exc:
            raise ConfigError(
                f"kubernetes-validate has no schemas for Kubernetes {version}: {exc.message}",
                "upgrade kubernetes-validate in pyproject.toml",
            ) from exc
    return problems, used


# `The Deployment "backend" is invalid: spec.template.spec.containers[0].image: Required value`
_INVALID = re.compile(r'The (\w+) "([^"]+)" is invalid: (.*)')
_FIELD_ERROR = re.compile(r"^\s*\*?\s*([\w.\[\]/-]+): (.*)$")


def dry_run_problems(path: Path, output: str, returncode: int) -> list[Problem]:
    """Problems in the output of a server-side dry run of `path`."""
    problems = []
    for raw in output.splitlines():
        line = raw.strip()
        if "would violate PodSecurity" in line:
            found = re.search(r'deployment\.apps/(\S+)|"(\w+)"', line)
            obj = f"Deployment/{found.group(1)}" if found and found.group(1) else "(pod template)"
            problems.append(
                Problem(path, obj, "spec.template.spec", line.removeprefix("Warning: "))
            )
            continue
        invalid = _INVALID.search(line)
        if invalid:
            kind, name, rest = invalid.groups()
            field_error = _FIELD_ERROR.match(rest.split("; ")[0].strip("[]"))
            field, message = field_error.groups() if field_error else ("", rest)
            problems.append(Problem(path, f"{kind}/{name}", field, message))
        elif line.startswith("Error from server") or line.startswith("error:"):
            problems.append(Problem(path, "(server)", "", line))
    if returncode != 0 and not problems:
        last = output.strip().splitlines()[-1:] or [f"exit {returncode}"]
        problems.append(Problem(path, "(server)", "", last[0]))
    return problems


def raise_for(problems: list[Problem], what: str) -> None:
    if not problems:
        return
    more = f" (and {len(problems) - 1} more problem(s), printed above)" if len(problems) > 1 else ""
    raise ConfigError(
        f"{what}: {problems[0].line()}{more}",
        "fix deploy/templates or deploy/environments, then: invoke deploy.validate",
    )
