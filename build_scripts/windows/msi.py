"""The MSI for managed machines: dist/<version>/TraderAdmin-<version>-x64.msi, rendered from
build_scripts/windows_installer.wxs.j2 and compiled with wixl (msitools) on Linux.

It installs what the NSIS installer installs (the same staged payload, installer.stage_payload)
into ProgramFiles64Folder\\TraderAdmin, per machine. The UpgradeCode comes from release.toml and
never changes; the ProductCode is derived from it and the version, so it is new for every
version and the same for every build of one version. wixl lacks a few WiX features; the
template's header says which, and what this module does after compiling instead (`_amend`).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import jinja2

from build_scripts.core import atomic, cmd
from build_scripts.core.artifacts import Artifact, Kind
from build_scripts.core.errors import ConfigError, VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import say
from build_scripts.windows import distribution, installer, signing
from build_scripts.windows.signing import SigningConfig

TEMPLATE = Path(__file__).parent.parent / "windows_installer.wxs.j2"
RELEASE_READS = ("build_scripts/windows_installer.wxs.j2",)

# The machine-wide update policy (agreed with the update feed, issue 23): written only when the
# public property is given, e.g. `msiexec /i … /qn UPDATEPOLICY=off`.
POLICY_PROPERTY = "UPDATEPOLICY"
POLICY_VALUE = "UpdatePolicy"
POLICY_COMPONENT = "UpdatePolicy"
# Component ids of the payload besides the program (MSI identifiers: letters, digits, _ and .).
PAYLOAD_IDS = {"LICENSE.txt": "License", "README.html": "Readme", "config.toml.example": "Example"}
# Windows Installer's ProductVersion: major and minor up to 255, build up to 65535.
MAX_MAJOR_MINOR, MAX_BUILD = 255, 65535


def msi_name(release: Release) -> str:
    return f"{release.product}-{release.version_text}-x64.msi"


def msi_path(release: Release, root: Path | None = None) -> Path:
    return (root if root is not None else release.dist_dir) / msi_name(release)


def policy_key(release: Release) -> str:
    """Below HKLM, in the 64-bit view: Software\\TraderAdmin."""
    return rf"Software\{release.product}"


def msi_version(release: Release) -> str:
    """X.Y.Z: Windows Installer compares only these three numbers (a pre-release suffix is not
    seen: two snapshots of one X.Y.Z replace each other, whichever is installed last)."""
    v = release.version
    if v.major > MAX_MAJOR_MINOR or v.minor > MAX_MAJOR_MINOR or v.patch >= MAX_BUILD:
        raise ConfigError(
            f"version {release.version_text} does not fit an MSI ProductVersion",
            f"major and minor must be at most {MAX_MAJOR_MINOR}, patch below {MAX_BUILD}",
        )
    return f"{v.major}.{v.minor}.{v.patch}"


def next_msi_version(release: Release) -> str:
    """X.Y.(Z+1): the first version the upgrade table treats as newer (its maximum is exclusive)."""
    v = release.version
    msi_version(release)
    return f"{v.major}.{v.minor}.{v.patch + 1}"


def product_code(release: Release, upgrade_code: str) -> str:
    """New per version, stable across rebuilds of one version."""
    name = f"{upgrade_code}/{release.version_text}"
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, name)).upper() + "}"


def _policy_component_guid(upgrade_code: str) -> str:
    # A component keeps its GUID for ever; derived from the UpgradeCode, not the version.
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{upgrade_code}/policy")).upper() + "}"


@dataclass(frozen=True)
class PayloadFile:
    id: str
    name: str
    source: str  # relative to the WiX source's folder


def render_wxs(
    release: Release, payload: installer.Payload, settings: distribution.Distribution, base: Path
) -> str:
    """The WiX source, to be written into `base`: wixl finds files only relative to the source's
    folder (it appends even an absolute path to it)."""

    def near(path: Path) -> str:
        return os.path.relpath(path, base)

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        undefined=jinja2.StrictUndefined,
        autoescape=True,  # XML: a publisher "A & B" must not break the file
        keep_trailing_newline=True,
    )
    files = [PayloadFile(PAYLOAD_IDS[n], n, near(payload.directory / n)) for n in PAYLOAD_IDS]
    return environment.get_template(TEMPLATE.name).render(
        product=release.product,
        publisher=release.publisher,
        homepage=release.homepage,
        version=release.version_text,
        commit=release.commit,
        msi_name=msi_name(release),
        msi_version=msi_version(release),
        msi_next_version=next_msi_version(release),
        product_code=product_code(release, settings.msi_upgrade_code),
        upgrade_code=settings.msi_upgrade_code,
        icon=near(payload.icon),
        app_exe=near(payload.app_exe),
        app_exe_name=f"{release.product}.exe",
        payload=files,
        nsis_uninstall_key=(
            rf"Software\Microsoft\Windows\CurrentVersion\Uninstall\{release.windows_uninstall_key}"
        ),
        policy_key=policy_key(release),
        policy_value=POLICY_VALUE,
        policy_component=POLICY_COMPONENT,
        policy_component_guid=_policy_component_guid(settings.msi_upgrade_code),
    )


def _amend(msi: Path) -> None:
    """What wixl cannot write (see the template's header): the policy component's condition,
    and UPDATEPOLICY among the secure properties."""
    queries = (
        f"UPDATE `Component` SET `Condition` = '{POLICY_PROPERTY}' "
        f"WHERE `Component` = '{POLICY_COMPONENT}'",
        "UPDATE `Property` SET `Value` = "
        f"'OLDERVERSIONBEINGUPGRADED;NEWERVERSIONDETECTED;{POLICY_PROPERTY}' "
        "WHERE `Property` = 'SecureCustomProperties'",
    )
    for query in queries:
        cmd.run(["msibuild", msi, "-q", query], step="msibuild", quiet=True)


def build_msi(
    release: Release,
    *,
    app_exe: Path,
    root: Path | None = None,
    signing_config: SigningConfig | None = None,
    icon: Path | None = None,
    verify_app: bool = True,
    settings: distribution.Distribution | None = None,
) -> Artifact:
    """Render, compile, amend, sign, verify and place the MSI; returns its Artifact."""
    settings = settings or distribution.load()
    installer.require_app_exe(app_exe, release, verify=verify_app)
    destination = msi_path(release, root)
    with tempfile.TemporaryDirectory(prefix="traderadmin-msi-") as scratch:
        payload = installer.stage_payload(
            release, Path(scratch) / "payload", app_exe=app_exe, icon=icon
        )
        wxs = Path(scratch) / "TraderAdmin.wxs"
        wxs.write_text(render_wxs(release, payload, settings, wxs.parent), encoding="utf-8")
        with atomic.atomic_path(destination) as tmp:
            cmd.run(["wixl", "--arch", "x64", "-o", tmp, wxs], step="wixl", quiet=True)
            _amend(tmp)
            if signing_config is not None:
                signing.sign_file(
                    tmp, signing_config, description=release.product, url=release.homepage
                )
            verify_msi(tmp, release, settings, signed=signing_config is not None)
    note = f"msiexec /i … /qn, per machine, {signing.note(signing_config)}"
    say(f"✓ {destination} ({note})")
    return Artifact(destination, note, Kind.INSTALLER, "msi")


# --- Reading an MSI back (msiinfo) ------------------------------------------------------------


def read_table(msi: Path, table: str) -> list[dict[str, str]]:
    """The rows of one table, as `msiinfo export` writes it (.idt: names, types, key, rows)."""
    output = cmd.run(
        ["msiinfo", "export", msi, table], step="msiinfo", capture=True, quiet=True
    ).output
    lines = output.splitlines()  # CRLF, and cmd.run strips the last line's LF
    names = lines[0].split("\t")
    return [dict(zip(names, line.split("\t"), strict=False)) for line in lines[3:] if line]


def properties(msi: Path) -> dict[str, str]:
    return {row["Property"]: row["Value"] for row in read_table(msi, "Property")}


def verify_msi(
    path: Path, release: Release, settings: distribution.Distribution, *, signed: bool
) -> None:
    """The identity, files and policy condition the release expects, read back from the file."""
    found = properties(path)
    expected = {
        "ProductName": release.product,
        "ProductVersion": msi_version(release),
        "Manufacturer": release.publisher,
        "UpgradeCode": settings.msi_upgrade_code,
        "ProductCode": product_code(release, settings.msi_upgrade_code),
        "ALLUSERS": "1",
    }
    problems = [
        f"{name} is {found.get(name)!r}, expected {value!r}"
        for name, value in expected.items()
        if found.get(name) != value
    ]
    files = {row["FileName"].split("|")[-1] for row in read_table(path, "File")}
    missing = set(installer.payload_files(release)) - files
    if missing:
        problems.append(f"files missing: {', '.join(sorted(missing))}")
    conditions = {row["Component"]: row["Condition"] for row in read_table(path, "Component")}
    if conditions.get(POLICY_COMPONENT) != POLICY_PROPERTY:
        problems.append(f"the policy component's condition is {conditions.get(POLICY_COMPONENT)!r}")
    if signed and not signing.is_signed(path):
        problems.append("not signed although a certificate is configured")
    if problems:
        raise VerificationFailed(f"{path.name}: " + "; ".join(problems))
