"""Building the local cluster's programs and images from upstream sources, offline.

Kubernetes is built from its Go module through a small wrapper module: `go install
k8s.io/kubernetes/cmd/...@vX` is refused because k8s.io/kubernetes's go.mod has replace
directives (its staging modules are required at v0.0.0), so the wrapper requires
k8s.io/kubernetes and pins every staging module to the matching v0.X.Y release. CoreDNS and
crictl have no replace directives and build with a plain `go install module@version`.

Container images (pause, CoreDNS) are single static binaries, so they are written directly as
`docker save`-format archives (one layer, FROM scratch) and imported into containerd with `ctr`;
no Docker engine or registry is needed to bring the cluster up.

Everything lands under the cache dir keyed by version, and is built once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import cmd, paths
from build_scripts.core.artifacts import sha256_of
from build_scripts.core.errors import ReleaseError, VerificationFailed
from build_scripts.core.progress import say, step

KUBERNETES_VERSION = "v1.34.4"
KUBERNETES_COMPONENTS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
)
# The staging modules k8s.io/kubernetes requires at v0.0.0 (see its go.mod `replace` block).
STAGING_MODULES = (
    "api",
    "apiextensions-apiserver",
    "apimachinery",
    "apiserver",
    "cli-runtime",
    "client-go",
    "cloud-provider",
    "cluster-bootstrap",
    "code-generator",
    "component-base",
    "component-helpers",
    "controller-manager",
    "cri-api",
    "cri-client",
    "csi-translation-lib",
    "dynamic-resource-allocation",
    "endpointslice",
    "externaljwt",
    "kms",
    "kube-aggregator",
    "kube-controller-manager",
    "kube-proxy",
    "kube-scheduler",
    "kubectl",
    "kubelet",
    "metrics",
    "mount-utils",
    "pod-security-admission",
    "sample-apiserver",
    "sample-cli-plugin",
    "sample-controller",
)
COREDNS_MODULE = "github.com/coredns/coredns"
# The plugins the cluster's Corefile (templates/Corefile.j2) uses, and all CoreDNS is built with.
COREDNS_PLUGINS = ("errors", "health", "ready", "kubernetes", "cache", "reload", "loadbalance")
CRI_TOOLS_MODULE = "sigs.k8s.io/cri-tools"
CRI_TOOLS_VERSION = "v1.34.0"
WRAPPER_MODULE = "traderadmin.local/kubernetes-build"
# Parallel compile jobs: the build machines have 2 cores shared with other work.
BUILD_JOBS = 2


@dataclass(frozen=True)
class Toolset:
    """The programs the cluster runs, all built by us."""

    bin_dir: Path
    coredns: Path
    crictl: Path

    def path(self, component: str) -> Path:
        return self.bin_dir / component


def kubernetes_dir(version: str = KUBERNETES_VERSION) -> Path:
    return paths.cache_dir() / "kubernetes" / version


def staging_version(version: str) -> str:
    """k8s.io/kubernetes v1.34.4 ↔ staging modules v0.34.4."""
    major, minor, patch = version.lstrip("v").split(".")
    if major != "1":
        raise ReleaseError(f"unsupported Kubernetes version {version}", "use a v1.x.y release")
    return f"v0.{minor}.{patch}"


def wrapper_go_mod(version: str) -> str:
    staging = staging_version(version)
    lines = [
        f"module {WRAPPER_MODULE}",
        "",
        "go 1.24.0",
        "",
        f"require k8s.io/kubernetes {version}",
        "",
    ]
    lines += [f"replace k8s.io/{name} => k8s.io/{name} {staging}" for name in STAGING_MODULES]
    return "\n".join(lines) + "\n"


def wrapper_tools_go() -> str:
    """Blank imports of the commands, so `go mod tidy` records their dependencies."""
    imports = "\n".join(f'\t_ "k8s.io/kubernetes/cmd/{c}"' for c in KUBERNETES_COMPONENTS)
    return (
        "//go:build tools\n\n"
        "// Package tools pins the Kubernetes commands this module builds.\n"
        f"package tools\n\nimport (\n{imports}\n)\n"
    )


def version_ldflags(version: str) -> str:
    """What Kubernetes' own build stamps, so `kubectl version` and /version tell the truth."""
    major, minor, _ = version.lstrip("v").split(".")
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
            f"-X {package}.buildDate=1970-01-01T00:00:00Z",
        ]
    return " ".join(flags)


def unreplaced_staging(module_list: str) -> list[str]:
    """Lines of `go list -m all` naming a k8s.io module still at the bare v0.0.0 placeholder.

    Pseudo-versions (v0.0.0-2023…) are real commits and fine; `=> v0.34.4` lines are replaced.
    """
    return [line for line in module_list.splitlines() if line.strip().endswith(" v0.0.0")]


def _go_env(extra: dict[str, str] | None = None) -> dict[str, str | None]:
    env: dict[str, str | None] = {"CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
    env.update(extra or {})
    return env


def _binaries_present(bin_dir: Path, names: tuple[str, ...]) -> bool:
    return all(os.access(bin_dir / n, os.X_OK) for n in names)


def build_kubernetes(version: str = KUBERNETES_VERSION, *, jobs: int = BUILD_JOBS) -> Path:
    """The bin dir with every Kubernetes component of `version`, building them if missing."""
    home = kubernetes_dir(version)
    bin_dir = home / "bin"
    if _binaries_present(bin_dir, KUBERNETES_COMPONENTS):
        return bin_dir
    source = home / "src"
    source.mkdir(parents=True, exist_ok=True)
    (source / "go.mod").write_text(wrapper_go_mod(version))
    (source / "tools.go").write_text(wrapper_tools_go())
    with step(f"Kubernetes {version}: resolve modules"):
        cmd.run(["go", "mod", "tidy"], step="go mod", cwd=source, env=_go_env())
        modules = cmd.output_of(
            ["go", "list", "-m", "all"], step="go list", cwd=source, env=_go_env()
        )
        left = unreplaced_staging(modules)
        if left:
            raise VerificationFailed(
                f"staging modules without a release: {', '.join(left)}",
                "add them to STAGING_MODULES in build_scripts/cluster_build.py",
            )
    staging = Path(tempfile.mkdtemp(prefix=".bin-", dir=home))
    try:
        packages = [f"k8s.io/kubernetes/cmd/{c}" for c in KUBERNETES_COMPONENTS]
        with step(f"Kubernetes {version}: build {', '.join(KUBERNETES_COMPONENTS)}"):
            started = time.monotonic()
            cmd.run(
                [
                    "go",
                    "build",
                    "-p",
                    str(jobs),
                    "-trimpath",
                    "-ldflags",
                    version_ldflags(version),
                    "-o",
                    f"{staging}/",
                    *packages,
                ],
                step="go build",
                cwd=source,
                env=_go_env(),
            )
            say(f"built in {time.monotonic() - started:.0f}s")
        if bin_dir.exists():
            shutil.rmtree(bin_dir)
        os.chmod(staging, 0o755)  # mkdtemp made it private
        os.replace(staging, bin_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return bin_dir


def kubernetes_source(version: str = KUBERNETES_VERSION) -> Path:
    """The k8s.io/kubernetes module source in the Go module cache (downloaded if missing)."""
    info = cmd.output_of(
        ["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
        step="go mod download",
        cwd=paths.cache_dir() if paths.cache_dir().is_dir() else None,
        env=_go_env(),
    )
    return Path(json.loads(info)["Dir"])


def go_install(
    module: str, package: str, version: str, destination: Path, ldflags: str = "-s -w"
) -> Path:
    """`go install package@version` into a private GOBIN, then move the binary into place."""
    if os.access(destination, os.X_OK):
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    gobin = Path(tempfile.mkdtemp(prefix=".gobin-", dir=destination.parent))
    try:
        with step(f"{module} {version}: build"):
            cmd.run(
                ["go", "install", "-trimpath", "-ldflags", ldflags, f"{package}@{version}"],
                step="go install",
                env=_go_env({"GOBIN": str(gobin)}),
                cwd=gobin,
            )
        built = gobin / Path(package).name
        os.replace(built, destination)
    finally:
        shutil.rmtree(gobin, ignore_errors=True)
    return destination


def coredns_main_go(plugins: tuple[str, ...] = COREDNS_PLUGINS) -> str:
    imports = "\n".join(f'\t_ "{COREDNS_MODULE}/plugin/{name}"' for name in plugins)
    return (
        "// Command coredns: CoreDNS with only the plugins the cluster's Corefile uses.\n"
        f'package main\n\nimport (\n\t"{COREDNS_MODULE}/coremain"\n{imports}\n)\n\n'
        "func main() { coremain.Run() }\n"
    )


def build_coredns(version: str, destination: Path) -> Path:
    """CoreDNS `version` with COREDNS_PLUGINS only, through a wrapper module like Kubernetes'.

    Its own main imports every plugin (core/plugin/zplugin.go), the cloud providers' DNS SDKs
    among them: most of a plain `go install`'s compile time, for plugins the cluster never
    loads. A directive the binary lacks fails CoreDNS at start with "unknown directive".
    """
    if os.access(destination, os.X_OK):
        return destination
    source = paths.cache_dir() / "coredns" / version / "src"
    source.mkdir(parents=True, exist_ok=True)
    (source / "go.mod").write_text(
        f"module {WRAPPER_MODULE}/coredns\n\ngo 1.24.0\n\nrequire {COREDNS_MODULE} {version}\n"
    )
    (source / "main.go").write_text(coredns_main_go())
    staging = destination.with_name(f".{destination.name}.tmp")
    with step(f"CoreDNS {version} ({', '.join(COREDNS_PLUGINS)}): build"):
        cmd.run(["go", "mod", "tidy"], step="go mod", cwd=source, env=_go_env())
        cmd.run(
            [
                "go",
                "build",
                "-trimpath",
                "-ldflags",
                f"-s -w -X {COREDNS_MODULE}/coremain.GitCommit={version}",
                "-o",
                staging,
                ".",
            ],
            step="go build",
            cwd=source,
            env=_go_env(),
        )
    os.replace(staging, destination)
    return destination


def build_toolset(
    version: str = KUBERNETES_VERSION, *, coredns_version: str, jobs: int = BUILD_JOBS
) -> Toolset:
    bin_dir = build_kubernetes(version, jobs=jobs)
    tools_dir = kubernetes_dir(version) / "tools"
    # The plugin list is in the name: another list is another binary.
    plugins = hashlib.sha256(" ".join(COREDNS_PLUGINS).encode()).hexdigest()[:8]
    coredns = build_coredns(coredns_version, tools_dir / f"coredns-{coredns_version}-{plugins}")
    crictl = go_install(
        CRI_TOOLS_MODULE,
        f"{CRI_TOOLS_MODULE}/cmd/crictl",
        CRI_TOOLS_VERSION,
        tools_dir / f"crictl-{CRI_TOOLS_VERSION}",
        ldflags=f"-s -w -X {CRI_TOOLS_MODULE}/pkg/version.Version={CRI_TOOLS_VERSION}",
    )
    return Toolset(bin_dir, coredns, crictl)


def install_kubectl(bin_dir: Path) -> Path:
    """Put kubectl in the engine's bin dir (searched after PATH by every task)."""
    from build_scripts.core import atomic

    target = paths.bin_dir() / "kubectl"
    source = bin_dir / "kubectl"
    if not (target.exists() and _same_file_content(source, target)):
        atomic.install_file(source, target)
    _link_onto_path(target)
    return target


def _link_onto_path(kubectl: Path, link_dir: Path = Path("/usr/local/bin")) -> None:
    """Make `kubectl` work in a plain shell too, as the DEPLOYMENT guide expects: a symlink in
    /usr/local/bin, only when root and when no other kubectl is there (ours or the user's)."""
    link = link_dir / "kubectl"
    if os.geteuid() != 0 or not link_dir.is_dir() or (link.exists() or link.is_symlink()):
        return
    link.symlink_to(kubectl)


def _same_file_content(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return sha256_of(a) == sha256_of(b)
