"""Print the hosted workflow's cache keys, one `name=key` line each, made of the pinned
versions of what each cache holds (read from the engine's source with the standard library, so
this runs before anything is installed). A cache is rebuilt when a pin moves, not on every
change of the engine's code."""

import ast
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "build_scripts"

# cache -> (module, constant) pairs whose values say what it holds, and files it is built from.
CACHES = {
    # Kubernetes, CoreDNS, crictl, kube-router and pause, built from source by cluster.up.
    "kubernetes": (
        [
            ("cluster/build.py", "KUBERNETES_VERSION"),
            ("cluster/build.py", "CRI_TOOLS_VERSION"),
            ("cluster/config.py", "COREDNS_VERSION"),
            ("cluster/build.py", "COREDNS_PLUGINS"),
            ("cluster/config.py", "PAUSE_VERSION"),
            ("cluster/network_policy.py", "KUBE_ROUTER_VERSION"),
        ],
        [],
    ),
    # debootstrap's root and the derived base images.
    "base-images": ([("images/recipe.py", "DERIVATION")], ["docker/base/recipe.toml"]),
    # The Wails CLI, the registry, the SBOM generators and actionlint.
    "tools": (
        [
            ("core/tools.py", "WAILS_VERSION"),
            ("core/tools.py", "REGISTRY_VERSION"),
            ("release/sbom.py", "GOMOD"),
            ("release/sbom.py", "CYCLONEDX_BOM_VERSION"),
            ("release/workflow_lint.py", "ACTIONLINT_VERSION"),
        ],
        ["desktop/tools/go.sum"],
    ),
}


def constant(module: str, name: str) -> object:
    tree = ast.parse((ENGINE / module).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit(f"error: {name} not found in build_scripts/{module}; update .ci/cache_keys.py")


def key(name: str) -> str:
    pins, files = CACHES[name]
    parts = [f"{constant_name}={constant(module, constant_name)}" for module, constant_name in pins]
    parts += [hashlib.sha256((ROOT / path).read_bytes()).hexdigest() for path in files]
    return f"{name}-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


if __name__ == "__main__":
    for cache in CACHES:
        print(f"{cache}={key(cache)}")
