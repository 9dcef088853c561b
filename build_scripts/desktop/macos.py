"""The macOS app: `wails build` on a Mac, TraderAdmin.app stamped, signed if configured, zipped.

`build_app` runs inside desktop.build's staged copy of desktop/ for each darwin/* platform:

1. `wails build -platform darwin/<arch>` (cgo on: Wails draws with WebKit through Cocoa);
2. the bundle is copied into a scratch folder beside its destination and its Info.plist is
   stamped with the release (plistlib; `stamp_info_plist` is a pure function);
3. `lipo -archs` must list exactly the platform's architectures, and the app must print the
   release with `--version` when this Mac can run it;
4. codesign (hardened runtime) and notarisation when the environment asks for them (see
   MacSigning), else an `unsigned` line;
5. `ditto` zips it as TraderAdmin-<version>-macos-<arch>.zip in dist/<version>/, with every
   time stamp set to the release's SOURCE_DATE_EPOCH and no extended attributes, so the same
   bundle gives the same zip;
6. only then do the bundle and the zip replace the previous ones.

Everything that builds a command line is a plain function, unit-tested on Linux.
"""

from __future__ import annotations

import os
import platform as host
import plistlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import atomic, cmd
from build_scripts.core.artifacts import Artifact, Kind
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.desktop import wails

# Go's architecture names, and the Mach-O slices `lipo -archs` prints for them.
SLICES = {"amd64": ("x86_64",), "arm64": ("arm64",), "universal": ("x86_64", "arm64")}
BUILD_TIMEOUT = 1800
MINIMUM_MACOS = "12.0"
# Apple's notary service usually answers within minutes; `--wait` polls until it does.
NOTARY_TIMEOUT = 3600

ENV_IDENTITY = "TRADERADMIN_MACOS_SIGN_IDENTITY"
ENV_ENTITLEMENTS = "TRADERADMIN_MACOS_ENTITLEMENTS"
ENV_KEYCHAIN = "TRADERADMIN_MACOS_KEYCHAIN"
ENV_NOTARY_PROFILE = "TRADERADMIN_MACOS_NOTARY_PROFILE"


def arch_of(platform: str) -> str:
    """'darwin/universal' -> 'universal'; anything else is a programming error upstream."""
    goos, arch = platform.split("/")
    if goos != "darwin" or arch not in SLICES:
        raise ConfigError(
            f"{platform} is not a macOS platform", "use darwin/<amd64|arm64|universal>"
        )
    return arch


def bundle_name(release: Release) -> str:
    return f"{release.product}.app"


def app_path(release: Release, platform: str, root: Path | None = None) -> Path:
    """dist/<version>/desktop/darwin-<arch>/TraderAdmin.app (or below another root)."""
    base = root if root is not None else release.dist_dir
    return base / "desktop" / platform.replace("/", "-") / bundle_name(release)


def zip_path(release: Release, platform: str, root: Path | None = None) -> Path:
    """dist/<version>/TraderAdmin-<version>-macos-<arch>.zip, beside the Windows installer."""
    base = root if root is not None else release.dist_dir
    return base / f"{release.product}-{release.version_text}-macos-{arch_of(platform)}.zip"


# --- Info.plist ---------------------------------------------------------------------------------


def info_plist_values(release: Release) -> dict[str, str]:
    """What the release stamps into Info.plist.

    Apple wants CFBundleShortVersionString and CFBundleVersion to be up to three integers (Launch
    Services compares them as numbers), so both get MAJOR.MINOR.PATCH; the full SemVer text of a
    snapshot or pre-release, and the commit, go into CFBundleGetInfoString.
    """
    v = release.version
    numeric = f"{v.major}.{v.minor}.{v.patch}"
    return {
        "CFBundleName": release.product,
        "CFBundleDisplayName": release.product,
        "CFBundleIdentifier": release.app_id,
        "CFBundleShortVersionString": numeric,
        "CFBundleVersion": numeric,
        "CFBundleGetInfoString": (
            f"{release.product} {release.version_text} (commit {release.commit})"
        ),
        "NSHumanReadableCopyright": release.copyright,
        # Wails' template says 10.13, but programs built with Go >= 1.25 need macOS 12.
        "LSMinimumSystemVersion": MINIMUM_MACOS,
    }


def stamp_info_plist(data: bytes, values: Mapping[str, str]) -> bytes:
    """Info.plist bytes (XML or binary) with `values` set; XML out, keys sorted (reproducible)."""
    try:
        plist = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError) as exc:
        raise VerificationFailed(f"Info.plist is not a property list: {exc}") from exc
    if not isinstance(plist, dict):
        raise VerificationFailed("Info.plist does not hold a dictionary")
    if not plist.get("CFBundleExecutable"):
        raise VerificationFailed("Info.plist names no CFBundleExecutable")
    plist.update(values)
    return plistlib.dumps(plist, fmt=plistlib.FMT_XML, sort_keys=True)


def read_info_plist(app: Path) -> dict:
    return plistlib.loads((app / "Contents" / "Info.plist").read_bytes())


# --- Signing configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class MacSigning:
    """codesign identity (e.g. 'Developer ID Application: Name (TEAMID)'), optional entitlements
    and keychain, and a notarytool keychain profile (`xcrun notarytool store-credentials`)."""

    identity: str
    entitlements: Path | None = None
    keychain: Path | None = None
    notary_profile: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MacSigning | None:
        """The configuration the environment names, None for unsigned; ConfigError if half-set."""
        env = os.environ if environ is None else environ
        identity = env.get(ENV_IDENTITY, "").strip()
        profile = env.get(ENV_NOTARY_PROFILE, "").strip() or None
        if not identity:
            if profile:
                raise ConfigError(
                    f"{ENV_NOTARY_PROFILE} is set but {ENV_IDENTITY} is not",
                    "Apple notarises only apps signed with a Developer ID: set both, or neither",
                )
            return None
        files = {}
        for name in (ENV_ENTITLEMENTS, ENV_KEYCHAIN):
            value = env.get(name, "").strip()
            files[name] = Path(value).expanduser() if value else None
            if files[name] is not None and not files[name].is_file():
                raise ConfigError(f"{name} names {value}, which is not a file", "fix the path")
        return cls(identity, files[ENV_ENTITLEMENTS], files[ENV_KEYCHAIN], profile)


def signing_note(signing: MacSigning | None) -> str:
    if signing is None:
        return f"unsigned (set {ENV_IDENTITY} to sign with codesign)"
    if signing.notary_profile:
        return f"signed by {signing.identity!r}, notarised and stapled"
    return f"signed by {signing.identity!r}, not notarised (set {ENV_NOTARY_PROFILE})"


# --- Command lines ------------------------------------------------------------------------------


def wails_argv(platform: str, ldflags: str, *, first: bool) -> list[str]:
    """The same production build as the other platforms (see desktop.wails_build)."""
    arch_of(platform)
    return wails.wails_argv(platform, ldflags, first=first)


def wails_env() -> dict[str, str]:
    # The macOS webview is WebKit through Objective-C: cgo is required (Windows builds: cgo off).
    return {"CGO_ENABLED": "1", "GOFLAGS": "-mod=readonly"}


def lipo_argv(executable: Path) -> list[str]:
    return ["lipo", "-archs", str(executable)]


def codesign_argv(app: Path, signing: MacSigning) -> list[str]:
    # Notarisation requires the hardened runtime (--options runtime) and a secure time stamp.
    argv = ["codesign", "--force", "--options", "runtime", "--timestamp"]
    argv += ["--sign", signing.identity]
    if signing.keychain:
        argv += ["--keychain", str(signing.keychain)]
    if signing.entitlements:
        argv += ["--entitlements", str(signing.entitlements)]
    return [*argv, str(app)]


def codesign_verify_argv(app: Path) -> list[str]:
    return ["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app)]


def notarytool_argv(archive: Path, profile: str) -> list[str]:
    return ["xcrun", "notarytool", "submit", str(archive), "--keychain-profile", profile, "--wait"]


def stapler_argv(app: Path) -> list[str]:
    return ["xcrun", "stapler", "staple", str(app)]


def ditto_argv(app: Path, archive: Path) -> list[str]:
    # Apple's way to zip a bundle (keeps symlinks and modes). Resource forks, extended attributes,
    # quarantine and ACLs stay out: they differ between machines and no signed bundle needs them.
    return [
        "ditto",
        "-c",
        "-k",
        "--norsrc",
        "--noextattr",
        "--noqtn",
        "--noacl",
        "--keepParent",
        str(app),
        str(archive),
    ]


def package_commands(
    app: Path, archive: Path, signing: MacSigning | None
) -> list[tuple[str, list[str]]]:
    """The (step, argv) sequence after the bundle is stamped: sign, verify, zip, notarise,
    staple, zip again (the stapled ticket must be inside the shipped zip)."""
    steps: list[tuple[str, list[str]]] = []
    if signing:
        steps += [("codesign", codesign_argv(app, signing))]
        steps += [("codesign verify", codesign_verify_argv(app))]
    steps += [("zip", ditto_argv(app, archive))]
    if signing and signing.notary_profile:
        steps += [("notarise", notarytool_argv(archive, signing.notary_profile))]
        steps += [("staple", stapler_argv(app))]
        steps += [("zip", ditto_argv(app, archive))]
    return steps


# --- Building -----------------------------------------------------------------------------------


def host_slice() -> str:
    machine = host.machine().lower()
    return {"aarch64": "arm64", "amd64": "x86_64"}.get(machine, machine)


def normalise_times(root: Path, epoch: int) -> None:
    """Every path below root (and root) gets mtime and atime = epoch: zip entries carry them."""
    for path in [root, *root.rglob("*")]:
        os.utime(path, (epoch, epoch), follow_symlinks=False)


def verify_app(app: Path, release: Release, platform: str) -> str:
    """Info.plist, the executable's slices and, where this Mac can run it, `--version`."""
    info = read_info_plist(app)
    for key, value in info_plist_values(release).items():
        if info.get(key) != value:
            raise VerificationFailed(
                f"{app.name}: Info.plist {key} is {info.get(key)!r}, not {value!r}"
            )
    executable = app / "Contents" / "MacOS" / info["CFBundleExecutable"]
    if not os.access(executable, os.X_OK):
        raise VerificationFailed(f"{app.name}: {executable.name} is missing or not executable")
    slices = tuple(sorted(cmd.output_of(lipo_argv(executable), step="lipo").split()))
    expected = SLICES[arch_of(platform)]
    if slices != tuple(sorted(expected)):
        raise VerificationFailed(
            f"{app.name}: the executable holds {' '.join(slices) or 'nothing'}, "
            f"expected {' '.join(expected)}"
        )
    if host_slice() not in slices:
        return f"{' + '.join(slices)}; --version not run on this {host_slice()} Mac"
    output = cmd.output_of([executable, "--version"], step="app --version", timeout=60)
    if release.version_text not in output.split():
        raise VerificationFailed(f"{executable.name} --version printed {output!r}")
    return f"{' + '.join(slices)}; --version ok"


def build_app(
    staged: Path,
    platform: str,
    release: Release,
    *,
    ldflags: str,
    first: bool,
    root: Path | None = None,
    signing: MacSigning | None,
) -> Artifact:
    """Build, stamp, verify, sign and zip one macOS platform; the Artifact is the zip."""
    cmd.run(
        wails_argv(platform, ldflags, first=first),
        step=f"wails {platform}",
        cwd=staged,
        env=wails_env(),
        timeout=BUILD_TIMEOUT,
        hint="macOS builds need Xcode's command line tools (xcode-select --install)",
    )
    built = staged / "build" / "bin" / bundle_name(release)
    if not (built / "Contents" / "Info.plist").is_file():
        raise VerificationFailed(f"wails build {platform} reported success but wrote no {built}")
    destination = app_path(release, platform, root)
    archive = zip_path(release, platform, root)
    destination.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        app = scratch / destination.name
        shutil.copytree(built, app, symlinks=True)
        plist = app / "Contents" / "Info.plist"
        plist.write_bytes(stamp_info_plist(plist.read_bytes(), info_plist_values(release)))
        checked = verify_app(app, release, platform)
        with atomic.atomic_path(archive) as tmp:
            tmp.unlink()  # ditto writes the file itself
            for step, argv in package_commands(app, tmp, signing):
                if step == "zip":
                    tmp.unlink(missing_ok=True)
                    normalise_times(app, release.source_date_epoch)
                timeout = NOTARY_TIMEOUT if step == "notarise" else 600
                cmd.run(argv, step=step, timeout=timeout)
        _replace_tree(app, destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    note = f"{platform}, {checked}, {signing_note(signing)}"
    say(f"✓ {destination} and {archive.name} ({note})")
    return Artifact(archive, note, Kind.APP_ARCHIVE, platform)


def _replace_tree(new: Path, destination: Path) -> None:
    """Put a finished bundle in place; the previous one goes only once the new one is there."""
    old = None
    if destination.exists():
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        os.rename(destination, old)
    os.rename(new, destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
