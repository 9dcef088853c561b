"""The tool catalogue: every external program (and library) the release needs, what for, and
how to install it (tools.py looks them up; `invoke bootstrap` installs APT_PACKAGES). Data
only, kept apart from the lookups so both stay short.
"""

from __future__ import annotations

from dataclasses import dataclass

WAILS_VERSION = "v2.9.2"
WAILS_MODULE = "github.com/wailsapp/wails/v2/cmd/wails"
# The CNCF distribution registry (build_scripts/registry.py installs it into the bin dir).
REGISTRY_VERSION = "v3.1.2"
REGISTRY_MODULE = "github.com/distribution/distribution/v3/cmd/registry"


@dataclass(frozen=True)
class Tool:
    name: str
    purpose: str
    install: str
    # Program names looked up on PATH (then in the engine's bin dir), or absolute paths.
    candidates: tuple[str, ...] = ()
    version_args: tuple[str, ...] = ("--version",)
    # For libraries: the pkg-config module that must exist instead of a program.
    pkg_config: str | None = None
    apt_package: str | None = None
    # Tools the engine builds itself the first time a task needs them (the task named here);
    # doctor lists them but does not count them as missing before that.
    built_by: str | None = None


def _apt(package: str) -> str:
    return f"apt-get install {package}"


CATALOGUE: tuple[Tool, ...] = (
    Tool("git", "source metadata", _apt("git"), ("git",), apt_package="git"),
    Tool(
        "go", "Go builds", "install Go >= 1.22 (https://go.dev/doc/install)", ("go",), ("version",)
    ),
    Tool("node", "front-end build", "install Node.js 20 (apt-get install nodejs)", ("node",)),
    Tool("npm", "front-end packages", "install npm (apt-get install npm)", ("npm",)),
    Tool(
        "gcc",
        "cgo (Wails on Linux), static helpers",
        _apt("build-essential"),
        ("gcc",),
        apt_package="build-essential",
    ),
    Tool(
        "pkg-config",
        "locating GTK/WebKit",
        _apt("pkg-config"),
        ("pkg-config",),
        apt_package="pkg-config",
    ),
    Tool(
        "gtk+-3.0",
        "Linux desktop build",
        _apt("libgtk-3-dev"),
        pkg_config="gtk+-3.0",
        apt_package="libgtk-3-dev",
    ),
    Tool(
        "webkit2gtk-4.0",
        "Linux desktop build",
        _apt("libwebkit2gtk-4.0-dev"),
        pkg_config="webkit2gtk-4.0",
        apt_package="libwebkit2gtk-4.0-dev",
    ),
    Tool(
        "wails",
        "desktop builds",
        f"invoke bootstrap (builds Wails {WAILS_VERSION} from desktop/tools/go.mod)",
        ("wails",),
        ("version",),
    ),
    Tool(
        "makensis",
        "Windows installer",
        _apt("nsis"),
        ("makensis",),
        ("-VERSION",),
        apt_package="nsis",
    ),
    Tool(
        "osslsigncode",
        "Authenticode signing",
        _apt("osslsigncode"),
        ("osslsigncode",),
        ("--version",),
        apt_package="osslsigncode",
    ),
    # The MSI: wixl compiles a WiX source (Debian splits it from msitools); msibuild amends
    # what wixl cannot write, msiinfo and msiextract read a package back.
    Tool(
        "wixl",
        "the Windows Installer package (MSI)",
        _apt("wixl"),
        ("wixl",),
        apt_package="wixl",
    ),
    Tool(
        "msibuild",
        "amending the MSI's tables",
        _apt("msitools"),
        ("msibuild",),
        ("--help",),
        apt_package="msitools",
    ),
    Tool(
        "msiinfo",
        "reading the MSI's tables",
        _apt("msitools"),
        ("msiinfo",),
        apt_package="msitools",
    ),
    Tool(
        "msiextract",
        "the MSI's files (tests)",
        _apt("msitools"),
        ("msiextract",),
        apt_package="msitools",
    ),
    # Debian installs wine64 outside PATH; the wrapper `wine` picks the 32-bit loader.
    Tool(
        "wine64",
        "installer tests under Wine",
        _apt("wine wine64"),
        ("wine64", "/usr/lib/wine/wine64"),
        apt_package="wine64",
    ),
    Tool(
        "wineserver",
        "installer tests under Wine",
        _apt("wine"),
        ("wineserver", "/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver"),
        ("--version",),
        apt_package="wine",
    ),
    # The Wine tests cut an installer off at an exact file operation (tests/wine/power_loss.py).
    Tool(
        "strace",
        "installer tests under Wine (interrupting a run)",
        _apt("strace"),
        ("strace",),
        ("-V",),
        apt_package="strace",
    ),
    Tool(
        "xvfb-run",
        "headless X for Wine and the Linux app",
        _apt("xvfb"),
        ("xvfb-run",),
        ("--help",),
        apt_package="xvfb",
    ),
    Tool(
        "Xvfb",
        "a display for Wine and the Linux app that outlives one command",
        _apt("xvfb"),
        ("Xvfb",),
        ("-version",),
        apt_package="xvfb",
    ),
    Tool(
        "import",
        "screenshots of the desktop app under Xvfb (ImageMagick)",
        _apt("imagemagick"),
        ("import",),
        ("-version",),
        apt_package="imagemagick",
    ),
    Tool(
        "xwininfo",
        "finding the app's window under Xvfb",
        _apt("x11-utils"),
        ("xwininfo",),
        ("-version",),
        apt_package="x11-utils",
    ),
    Tool(
        "xdotool",
        "pressing keys in the installer wizard under Xvfb",
        _apt("xdotool"),
        ("xdotool",),
        ("version",),
        apt_package="xdotool",
    ),
    Tool(
        "xauth",
        "xvfb-run's X authority",
        _apt("xauth"),
        ("xauth",),
        ("version",),
        apt_package="xauth",
    ),
    Tool(
        "docker",
        "container images (client)",
        _apt("docker.io"),
        ("docker",),
        apt_package="docker.io",
    ),
    Tool(
        "dockerd",
        "container images (engine)",
        _apt("docker.io"),
        ("dockerd",),
        apt_package="docker.io",
    ),
    Tool(
        "debootstrap",
        "offline Debian base image",
        _apt("debootstrap"),
        ("debootstrap",),
        apt_package="debootstrap",
    ),
    Tool(
        "containerd",
        "local cluster runtime",
        _apt("containerd"),
        ("containerd",),
        apt_package="containerd",
    ),
    Tool(
        "ctr",
        "moving images into the cluster",
        _apt("containerd"),
        ("ctr",),
        apt_package="containerd",
    ),
    Tool("runc", "local cluster runtime", _apt("runc"), ("runc",), apt_package="runc"),
    Tool("etcd", "local cluster store", _apt("etcd-server"), ("etcd",), apt_package="etcd-server"),
    Tool(
        "etcdctl",
        "inspecting the local cluster store",
        _apt("etcd-client"),
        ("etcdctl",),
        ("version",),
        apt_package="etcd-client",
    ),
    Tool(
        "cni-bridge",
        "local cluster pod network",
        _apt("containernetworking-plugins"),
        ("/usr/lib/cni/bridge",),
        ("--version",),
        apt_package="containernetworking-plugins",
    ),
    Tool(
        "iptables",
        "local cluster services, docker",
        _apt("iptables"),
        ("iptables",),
        apt_package="iptables",
    ),
    Tool(
        "nft",
        "local cluster pod isolation (nftables)",
        _apt("nftables"),
        ("nft",),
        ("--version",),
        apt_package="nftables",
    ),
    Tool(
        "conntrack",
        "local cluster kube-proxy",
        _apt("conntrack"),
        ("conntrack",),
        apt_package="conntrack",
    ),
    Tool(
        "ipset",
        "local cluster NetworkPolicy engine (kube-router)",
        _apt("ipset"),
        ("ipset",),
        ("version",),
        apt_package="ipset",
    ),
    Tool(
        "skopeo",
        "images as OCI layouts in the release bundle, pushes from it",
        _apt("skopeo"),
        ("skopeo",),
        apt_package="skopeo",
    ),
    Tool(
        "gpg",
        "signing and verifying the release bundle (OpenPGP)",
        _apt("gnupg"),
        ("gpg",),
        apt_package="gnupg",
    ),
    Tool(
        "minisign",
        "signing the desktop update feed (Ed25519, minisign format)",
        _apt("minisign"),
        ("minisign",),
        ("-v",),
        apt_package="minisign",
    ),
    Tool(
        "registry",
        "local image registry (images.push tests)",
        f"GOBIN=~/.cache/traderadmin/bin go install {REGISTRY_MODULE}@{REGISTRY_VERSION} "
        "(or: invoke images.registry)",
        ("registry",),
        ("--version",),
        built_by="invoke images.registry",
    ),
    Tool(
        "kubectl",
        "applying manifests, inspecting clusters",
        "invoke cluster.up (builds it into ~/.cache/traderadmin/bin), or your distribution's "
        "kubectl",
        ("kubectl",),
        ("version", "--client"),
        built_by="invoke cluster.up",
    ),
    Tool(
        "openssl",
        "certificates",
        _apt("openssl"),
        ("openssl",),
        ("version",),
        apt_package="openssl",
    ),
    Tool(
        "chromium",
        "the release report's browser check (Playwright drives Debian's Chromium)",
        _apt("chromium"),
        ("chromium", "/usr/bin/chromium"),
        apt_package="chromium",
    ),
    Tool(
        "shellcheck",
        "checking the workflows' run: scripts (actionlint, nox -s lint)",
        _apt("shellcheck"),
        ("shellcheck",),
        apt_package="shellcheck",
    ),
)

# Packages no catalogue entry names: `file` (tests inspect binaries), the MinGW compiler that
# builds the Wine-only bcryptprimitives.dll stand-in (desktop/tools/wine/), x11-apps (xwd).
EXTRA_APT_PACKAGES = ("file", "gcc-mingw-w64-x86-64-win32", "x11-apps")
# What `invoke bootstrap` installs: every catalogue entry's package, then the extras.
APT_PACKAGES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [tool.apt_package for tool in CATALOGUE if tool.apt_package] + list(EXTRA_APT_PACKAGES)
    )
)
