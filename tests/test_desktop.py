"""Desktop builds: platform choice, version stamping in a staged copy, reading PE files back.

The real `wails build` runs in `nox -s validate` (features/desktop-build.feature) and in
`nox -s installer`; here the functions around it are tested fast.
"""

import hashlib
import json
import struct
from pathlib import Path

import pytest

from build_scripts.core.errors import (
    ConfigError,
    ReleaseError,
    UnsupportedPlatform,
    VerificationFailed,
)
from build_scripts.desktop import build as desktop
from build_scripts.desktop import smoke
from build_scripts.windows import dll, installer, pe
from tests.support import pinned_release

NSIS_ICON = Path("/usr/share/nsis/Contrib/Graphics/Icons/modern-install.ico")


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def nsis_exe(tmp_path_factory) -> Path:
    """A small real PE file with a version resource and an icon: the installer made of a stub."""
    root = tmp_path_factory.mktemp("nsis-exe")
    stub = root / "TraderAdmin.exe"
    stub.write_bytes(b"MZ" + bytes(510))
    artifact = installer.build_installer(
        pinned_release("1.4.2-rc.1"), app_exe=stub, root=root, icon=NSIS_ICON, verify_app=False
    )
    return artifact.path


def test_platforms_come_comma_separated_or_repeated_without_duplicates():
    assert desktop.parse_platforms(["linux/amd64,windows/amd64", "windows/amd64"], "linux") == [
        "linux/amd64",
        "windows/amd64",
    ]


def test_a_macos_build_on_linux_fails_fast_saying_it_needs_macos():
    with pytest.raises(UnsupportedPlatform) as caught:
        desktop.parse_platforms(["windows/amd64,darwin/universal"], "linux")
    assert "must run on macOS" in caught.value.one_line()
    assert caught.value.exit_code == 2


def test_an_unknown_platform_names_the_choices():
    with pytest.raises(ConfigError) as caught:
        desktop.parse_platforms(["windws/amd64"], "linux")
    assert "windws/amd64" in caught.value.message and "windows/amd64" in caught.value.hint


def test_ldflags_strip_and_stamp_version_and_commit():
    release = pinned_release("1.4.2-rc.1")
    flags = desktop.ldflags(release).split()
    assert flags[:3] == ["-s", "-w", "-buildid="]
    assert "main.version=1.4.2-rc.1" in flags and f"main.commit={release.commit}" in flags


def test_windows_version_resource_comes_from_release_metadata():
    release = pinned_release("1.4.2-rc.1")
    info = desktop.windows_version_info(release)
    assert info["fixed"] == {"file_version": "1.4.2.0", "product_version": "1.4.2.0"}
    strings = info["info"]["0409"]
    assert strings["ProductVersion"] == strings["FileVersion"] == "1.4.2-rc.1"
    assert strings["CompanyName"] == release.publisher
    assert strings["LegalCopyright"] == release.copyright


def _fake_desktop(root: Path) -> Path:
    source = root / "desktop"
    (source / "frontend" / "node_modules" / "vite").mkdir(parents=True)
    (source / "frontend" / "dist").mkdir()
    (source / "frontend" / "dist" / "old.js").write_text("old")
    (source / "frontend" / "package.json.md5").write_text("x")
    (source / "build" / "bin").mkdir(parents=True)
    (source / "build" / "bin" / "TraderAdmin").write_text("old binary")
    (source / "build" / "appicon.png").write_bytes(b"png")
    (source / "main.go").write_text("package main\n")
    (source / "wails.json").write_text(
        json.dumps(
            {
                "name": "TraderAdmin",
                "frontend:install": "npm ci",
                "info": {"productVersion": "0.0.0", "comments": "kept"},
            }
        )
    )
    return source


def test_staging_stamps_a_copy_and_leaves_the_working_tree_alone(tmp_path):
    source = _fake_desktop(tmp_path)
    before = _tree_digest(source)
    staged = desktop.stage_sources(pinned_release("1.4.2-rc.1"), tmp_path / "stage", source)

    project = json.loads((staged / "wails.json").read_text())
    assert project["info"]["productVersion"] == "1.4.2-rc.1"
    assert project["info"]["comments"] == "kept"
    assert project["frontend:install"] == ""
    info = json.loads((staged / "build" / "windows" / "info.json").read_text())
    assert info["fixed"]["file_version"] == "1.4.2.0"
    modules = staged / "frontend" / "node_modules"
    assert modules.is_symlink() and modules.resolve() == (source / "frontend" / "node_modules")
    for built in ("build/bin", "frontend/dist", "frontend/package.json.md5"):
        assert not (staged / built).exists(), built
    assert (staged / "main.go").is_file() and (staged / "build" / "appicon.png").is_file()
    assert _tree_digest(source) == before


def test_staging_without_front_end_packages_says_run_bootstrap(tmp_path):
    source = _fake_desktop(tmp_path)
    (source / "frontend" / "node_modules" / "vite").rmdir()
    (source / "frontend" / "node_modules").rmdir()
    with pytest.raises(ReleaseError) as caught:
        desktop.stage_sources(pinned_release("1.4.2-rc.1"), tmp_path / "stage", source)
    assert "invoke bootstrap" in caught.value.one_line()


def test_version_resource_is_read_back_from_the_file(nsis_exe):
    info = pe.read_version_info(nsis_exe)
    assert info.file_version == info.product_version == "1.4.2.0"
    assert info.strings["ProductVersion"] == "1.4.2-rc.1"
    assert info.strings["CompanyName"] == pinned_release("1.4.2-rc.1").publisher


def test_the_icon_is_extracted_as_an_ico_file_with_the_same_images(nsis_exe):
    icon = pe.extract_icon(nsis_exe)
    assert icon[:4] == b"\0\0\1\0"

    def images(ico: bytes) -> set[bytes]:
        count = struct.unpack_from("<H", ico, 4)[0]
        found = set()
        for i in range(count):
            size, offset = struct.unpack_from("<II", ico, 6 + 16 * i + 8)
            found.add(ico[offset : offset + size])
        return found

    assert images(icon) == images(NSIS_ICON.read_bytes())


def test_verifying_an_exe_lists_every_mismatch(nsis_exe):
    # The stub installer carries 1.4.2-rc.1; checked against another release, both versions differ.
    pe.verify_windows_exe(nsis_exe, pinned_release("1.4.2-rc.1"))
    with pytest.raises(VerificationFailed) as caught:
        pe.verify_windows_exe(nsis_exe, pinned_release("2.0.0"))
    message = caught.value.message
    assert "ProductVersion is '1.4.2-rc.1', expected '2.0.0'" in message
    assert "file version 1.4.2.0, expected 2.0.0.0" in message


def test_a_file_that_is_not_a_pe_is_rejected(tmp_path):
    path = tmp_path / "TraderAdmin.exe"
    path.write_bytes(b"#!/bin/sh\n")
    with pytest.raises(VerificationFailed, match="no MZ header"):
        pe.read_version_info(path)


def test_a_binary_over_budget_fails_clearly_and_the_previous_one_stays(tmp_path):
    built = tmp_path / "built"
    built.write_bytes(b"\0" * 2_000_000)
    destination = tmp_path / "dist" / "TraderAdmin"
    destination.parent.mkdir()
    destination.write_bytes(b"previous good build")
    with pytest.raises(VerificationFailed) as caught:
        desktop.publish_binary(
            built,
            destination,
            "linux/arm64",
            pinned_release("1.4.2-rc.1"),
            signing_config=None,
            max_mb=1,
        )
    assert "TraderAdmin is 2.0 MB, over its 1 MB budget" in caught.value.message
    assert destination.read_bytes() == b"previous good build"
    assert [p.name for p in destination.parent.iterdir()] == ["TraderAdmin"]


def test_within_budget_the_summary_note_shows_size_and_budget(tmp_path):
    built = tmp_path / "built"
    built.write_bytes(b"\0" * 1_500_000)
    destination = tmp_path / "out" / "TraderAdmin"
    artifact = desktop.publish_binary(
        built,
        destination,
        "linux/arm64",
        pinned_release("1.4.2-rc.1"),
        signing_config=None,
        max_mb=15,
    )
    assert artifact.note == "linux/arm64, 1.5 MB of 15 MB budget"


def test_distinct_colours_of_a_ppm_image():
    pixels = bytes([10, 20, 30]) * 6 + bytes([1, 2, 3]) * 6
    assert smoke._distinct_colours(b"P6\n4 3\n255\n" + pixels) == 2
    assert smoke._distinct_colours(b"not an image") == 0


def test_the_go_runtime_shim_is_a_dll_forwarding_process_prng(tmp_path):
    shim = tmp_path / "bcryptprimitives.dll"
    shim.write_bytes(dll.go_runtime_shim())
    image = pe.read_pe(shim)
    assert image.machine == 0x8664
    export_rva, export_size = image.directories[0]
    table = image.data[image.offset(export_rva) : image.offset(export_rva) + export_size]
    assert b"ProcessPrng\0" in table and b"advapi32.SystemFunction036\0" in table
