"""The image SBOM reads the records our build puts into an image: dpkg's status.d, Python's
dist-info, the Go linker's module list. Archives here are made in docker-save form."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

from build_scripts.release import image_sbom

LIBC = (
    "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u13\n"
)
METADATA = (
    "Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.16.0\nLicense-Expression: PSF-2.0\n"
)


def _layer(files: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            layer.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _archive(tmp_path: Path, layers: list[dict[str, tuple[bytes, int]]]) -> Path:
    path = tmp_path / "image.tar"
    names = [f"{index}/layer.tar" for index in range(len(layers))]
    with tarfile.open(path, "w") as archive:
        for name, data in [
            ("manifest.json", json.dumps([{"Config": "c.json", "Layers": names}]).encode()),
            *((n, _layer(files)) for n, files in zip(names, layers, strict=True)),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_every_kind_of_record_becomes_a_component(tmp_path):
    go_binary = Path(shutil.which("go")).resolve().read_bytes()
    archive = _archive(
        tmp_path,
        [
            {
                "var/lib/dpkg/status.d/libc6": (LIBC.encode(), 0o644),
                "etc/os-release": (b'ID=debian\nVERSION_ID="12"\n', 0o644),
            },
            {
                "opt/lib/typing_extensions-4.16.0.dist-info/METADATA": (METADATA.encode(), 0o644),
                "usr/local/bin/tool": (go_binary, 0o755),
                "usr/local/bin/script": (b"#!/bin/sh\n", 0o755),
            },
        ],
    )
    components = {c.purl: c for c in image_sbom.image_components(archive)}
    assert "pkg:deb/debian/libc6@2.36-9%2Bdeb12u13?arch=amd64&distro=debian-12" in components
    assert components["pkg:pypi/typing-extensions@4.16.0"].licenses == ("PSF-2.0",)
    go = [c for c in components.values() if c.found_in == "/usr/local/bin/tool"]
    # The Go toolchain's own binary: std only, so its record names the stdlib it was built with.
    assert [c.name for c in go] == ["stdlib"]


def test_the_bom_is_reproducible_and_names_the_image(tmp_path):
    archive = _archive(tmp_path, [{"var/lib/dpkg/status.d/libc6": (LIBC.encode(), 0o644)}])
    options = dict(image="traderadmin/backend", version="1.2.3", source_date_epoch=0)
    first = image_sbom.image_bom(archive, tool_version="1", **options)
    assert first == image_sbom.image_bom(archive, tool_version="1", **options)
    assert first["bomFormat"] == "CycloneDX" and first["metadata"]["timestamp"].startswith("1970")
    assert first["metadata"]["component"]["name"] == "traderadmin/backend"
    assert [c["name"] for c in first["components"]] == ["libc6"]


def test_go_version_listing_with_a_checkout_built_main_module():
    listing = (
        "/x: go1.26.8\n\tpath\ttraderadmin/backend/cmd/b\n\tmod\ttraderadmin/backend\t(devel)\t\n"
        "\tdep\tgithub.com/BurntSushi/toml\tv1.6.0\th1:abc=\n\tbuild\t-trimpath=true\n"
    )
    purls = [c.purl for c in image_sbom.go_components(listing, "usr/local/bin/b")]
    assert purls == [
        "pkg:golang/stdlib@go1.26.8",
        "pkg:golang/traderadmin/backend",
        "pkg:golang/github.com/BurntSushi/toml@v1.6.0",
    ]
