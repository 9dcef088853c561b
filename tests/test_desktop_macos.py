"""The macOS app's Info.plist stamping, signing configuration and command lines.

Nothing here runs a macOS tool: the hosted macOS job (.github/workflows/release.yml) runs them.
"""

import dataclasses
import plistlib
from pathlib import Path

import pytest

from build_scripts.core import metadata
from build_scripts.core.artifacts import Artifact
from build_scripts.core.errors import ConfigError, UnsupportedPlatform, VerificationFailed
from build_scripts.desktop import build as desktop
from build_scripts.desktop import macos as desktop_macos
from build_scripts.desktop.macos import MacSigning

# What `wails build -platform darwin/...` writes (Wails v2's template, rendered).
WAILS_INFO_PLIST = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
    <dict>
        <key>CFBundlePackageType</key><string>APPL</string>
        <key>CFBundleName</key><string>TraderAdmin</string>
        <key>CFBundleExecutable</key><string>TraderAdmin</string>
        <key>CFBundleIdentifier</key><string>com.wails.TraderAdmin</string>
        <key>CFBundleVersion</key><string>0.0.0</string>
        <key>CFBundleShortVersionString</key><string>0.0.0</string>
        <key>CFBundleIconFile</key><string>iconfile</string>
        <key>LSMinimumSystemVersion</key><string>10.13.0</string>
        <key>NSHighResolutionCapable</key><string>true</string>
    </dict>
</plist>
"""


def _release(version: str = "1.4.2-rc.1") -> metadata.Release:
    return dataclasses.replace(
        metadata.current_release(version), commit="c0ffee1", source_date_epoch=1_700_000_000
    )


def test_info_plist_gets_the_release_and_keeps_what_wails_wrote():
    release = _release()
    stamped = plistlib.loads(
        desktop_macos.stamp_info_plist(WAILS_INFO_PLIST, desktop_macos.info_plist_values(release))
    )
    assert stamped["CFBundleShortVersionString"] == "1.4.2"
    assert stamped["CFBundleVersion"] == "1.4.2"
    assert stamped["CFBundleGetInfoString"] == "TraderAdmin 1.4.2-rc.1 (commit c0ffee1)"
    assert stamped["CFBundleIdentifier"] == release.app_id
    assert stamped["NSHumanReadableCopyright"] == release.copyright
    assert stamped["CFBundleExecutable"] == "TraderAdmin"
    assert stamped["LSMinimumSystemVersion"] == "12.0"  # Go >= 1.25 needs macOS 12
    assert stamped["CFBundleIconFile"] == "iconfile"


def test_a_release_version_is_stamped_unchanged():
    values = desktop_macos.info_plist_values(_release("2.0.1"))
    assert values["CFBundleShortVersionString"] == values["CFBundleVersion"] == "2.0.1"


def test_stamping_is_reproducible_and_reads_binary_plists_too():
    values = desktop_macos.info_plist_values(_release())
    xml = desktop_macos.stamp_info_plist(WAILS_INFO_PLIST, values)
    binary = plistlib.dumps(plistlib.loads(WAILS_INFO_PLIST), fmt=plistlib.FMT_BINARY)
    assert desktop_macos.stamp_info_plist(binary, values) == xml
    assert desktop_macos.stamp_info_plist(xml, values) == xml
    assert xml.startswith(b"<?xml")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a plist", "not a property list"),
        (plistlib.dumps(["a", "list"]), "does not hold a dictionary"),
        (plistlib.dumps({"CFBundleName": "x"}), "names no CFBundleExecutable"),
    ],
)
def test_a_broken_info_plist_is_refused(data, message):
    with pytest.raises(VerificationFailed, match=message):
        desktop_macos.stamp_info_plist(data, {"CFBundleVersion": "1.0.0"})


def test_names_of_the_bundle_and_the_zip():
    release = _release("0.7.0")
    root = Path("/r")
    assert desktop_macos.app_path(release, "darwin/universal", root) == Path(
        "/r/desktop/darwin-universal/TraderAdmin.app"
    )
    assert desktop_macos.zip_path(release, "darwin/universal", root) == Path(
        "/r/TraderAdmin-0.7.0-macos-universal.zip"
    )
    assert desktop_macos.zip_path(release, "darwin/arm64", root).name == (
        "TraderAdmin-0.7.0-macos-arm64.zip"
    )
    with pytest.raises(ConfigError):
        desktop_macos.zip_path(release, "windows/amd64", root)


@pytest.mark.parametrize("platform", ["darwin/universal", "darwin/arm64", "darwin/amd64"])
def test_the_wails_command_for_each_macos_platform(platform):
    ldflags = desktop.ldflags(_release())
    argv = desktop_macos.wails_argv(platform, ldflags, first=True)
    assert argv[:4] == ["wails", "build", "-platform", platform]
    assert {"-clean", "-trimpath", "-m", "-nocolour"} <= set(argv)
    assert argv[-2:] == ["-ldflags", ldflags]
    assert "-X main.version=1.4.2-rc.1" in ldflags
    later = desktop_macos.wails_argv(platform, ldflags, first=False)
    assert later[-2:] == ["-s", "-skipbindings"]
    assert desktop_macos.wails_env()["CGO_ENABLED"] == "1"


def test_unsigned_builds_only_zip_deterministically():
    app, archive = Path("/s/TraderAdmin.app"), Path("/d/TraderAdmin-1.0.0-macos-universal.zip")
    ((what, argv),) = desktop_macos.package_commands(app, archive, None)
    assert what == "zip" and argv[:3] == ["ditto", "-c", "-k"]
    # No resource forks, extended attributes, quarantine or ACLs: they differ between machines.
    assert {"--norsrc", "--noextattr", "--noqtn", "--noacl", "--keepParent"} <= set(argv)
    assert argv[-2:] == [str(app), str(archive)]


def test_signed_and_notarised_builds_sign_verify_zip_notarise_staple_and_zip_again(tmp_path):
    entitlements = tmp_path / "app.entitlements"
    entitlements.write_text("<plist/>")
    signing = MacSigning.from_env(
        {
            desktop_macos.ENV_IDENTITY: "Developer ID Application: T (ABCDE12345)",
            desktop_macos.ENV_ENTITLEMENTS: str(entitlements),
            desktop_macos.ENV_NOTARY_PROFILE: "traderadmin-notary",
        }
    )
    app, archive = Path("/s/TraderAdmin.app"), Path("/d/a.zip")
    steps = desktop_macos.package_commands(app, archive, signing)
    assert [name for name, _ in steps] == [
        "codesign",
        "codesign verify",
        "zip",
        "notarise",
        "staple",
        "zip",
    ]
    commands = dict(steps[:5])
    assert commands["codesign"] == [
        "codesign",
        "--force",
        "--options",
        "runtime",
        "--timestamp",
        "--sign",
        "Developer ID Application: T (ABCDE12345)",
        "--entitlements",
        str(entitlements),
        str(app),
    ]
    assert commands["codesign verify"] == [
        "codesign",
        "--verify",
        "--deep",
        "--strict",
        "--verbose=2",
        str(app),
    ]
    assert commands["notarise"] == [
        "xcrun",
        "notarytool",
        "submit",
        str(archive),
        "--keychain-profile",
        "traderadmin-notary",
        "--wait",
    ]
    assert commands["staple"] == ["xcrun", "stapler", "staple", str(app)]
    assert "notarised" in desktop_macos.signing_note(signing)


def test_signed_without_notarisation_says_so():
    signing = MacSigning.from_env({desktop_macos.ENV_IDENTITY: "-"})
    steps = desktop_macos.package_commands(Path("/a.app"), Path("/a.zip"), signing)
    assert [name for name, _ in steps] == ["codesign", "codesign verify", "zip"]
    assert "not notarised" in desktop_macos.signing_note(signing)


def test_no_signing_variables_means_unsigned():
    assert MacSigning.from_env({}) is None


def test_notarisation_without_a_signing_identity_is_refused():
    with pytest.raises(ConfigError) as caught:
        MacSigning.from_env({desktop_macos.ENV_NOTARY_PROFILE: "p"})
    assert "notarises only apps signed" in caught.value.one_line()


def test_a_missing_entitlements_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a file"):
        MacSigning.from_env(
            {
                desktop_macos.ENV_IDENTITY: "x",
                desktop_macos.ENV_ENTITLEMENTS: str(tmp_path / "missing.plist"),
            }
        )


@pytest.mark.parametrize("platform", ["darwin/universal", "darwin/arm64", "darwin/amd64"])
def test_on_linux_every_macos_platform_is_refused(platform):
    with pytest.raises(UnsupportedPlatform) as caught:
        desktop.parse_platforms([platform], "linux")
    assert caught.value.exit_code == 2
    assert "\n" not in caught.value.one_line()


def test_zip_time_stamps_are_the_release_epoch(tmp_path):
    app = tmp_path / "TraderAdmin.app"
    (app / "Contents" / "MacOS").mkdir(parents=True)
    (app / "Contents" / "MacOS" / "TraderAdmin").write_bytes(b"x")
    (app / "Contents" / "link").symlink_to("MacOS/TraderAdmin")
    desktop_macos.normalise_times(app, 1_700_000_000)
    for path in [app, *app.rglob("*")]:
        assert path.lstat().st_mtime == 1_700_000_000


def test_desktop_build_hands_macos_platforms_to_the_bundle_builder(tmp_path, monkeypatch):
    """desktop.build's hook: darwin/* goes to desktop_macos.build_app with the release's
    ldflags and the signing configuration from the environment (no wails run here)."""
    source = tmp_path / "desktop"
    (source / "frontend" / "node_modules").mkdir(parents=True)
    (source / "wails.json").write_text("{}")
    calls = []

    def fake_build_app(staged, platform, release, **options):
        calls.append((platform, options))
        return Artifact(tmp_path / "x.zip", "fake")

    monkeypatch.setattr(desktop_macos, "build_app", fake_build_app)
    monkeypatch.setattr(desktop.bootstrap, "ensure_frontend_packages", lambda frontend: False)
    monkeypatch.setenv(desktop_macos.ENV_IDENTITY, "Developer ID Application: T (X)")
    release = _release()
    artifacts = desktop.build(
        release, ["darwin/universal", "darwin/arm64"], root=tmp_path / "dist", source=source
    )
    assert [a.note for a in artifacts] == ["fake", "fake"]
    assert [platform for platform, _ in calls] == ["darwin/universal", "darwin/arm64"]
    first, second = (options for _, options in calls)
    assert first["ldflags"] == desktop.ldflags(release)
    assert (first["first"], second["first"]) == (True, False)
    assert first["root"] == tmp_path / "dist"
    assert first["signing"].identity == "Developer ID Application: T (X)"
