"""The pure parts of the image build: names, labels, digests, recipes, ELF, Dockerfile facts."""

from __future__ import annotations

import io
import json
import re
import shlex
import sys
import tarfile
from pathlib import Path

import pytest

from build_scripts.core import components, tools
from build_scripts.core.errors import ConfigError, ReleaseError
from build_scripts.core.metadata import Release, Version
from build_scripts.images import build as images
from build_scripts.images import mirror, rootfs, specs, transfer
from build_scripts.images import recipe as base_recipe
from build_scripts.release import steps as release_steps
from build_scripts.services import build as services

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _release(commit: str = COMMIT, build: str = "") -> Release:
    return Release(
        product="TraderAdmin",
        publisher="P",
        description="d",
        copyright="c",
        homepage="https://traderadmin.invalid/",
        app_id="a.b",
        image_prefix="traderadmin",
        windows_uninstall_key="T",
        version=Version(1, 2, 3, "rc.1", build),
        commit=commit,
        source_date_epoch=1_700_000_000,
    )


# --- names and labels ---------------------------------------------------------------------


def test_tags_are_the_version_and_the_commit():
    assert specs.image_tags(_release(), "backend") == (
        "traderadmin/backend:1.2.3-rc.1",
        f"traderadmin/backend:{COMMIT}",
    )


def test_no_commit_tag_outside_git_and_no_plus_in_tags():
    assert specs.image_tags(_release("unknown", "meta.7"), "orchestrator") == (
        "traderadmin/orchestrator:1.2.3-rc.1_meta.7",
    )


def test_created_is_source_date_epoch_in_utc():
    assert images.created_timestamp(1_700_000_000) == "2023-11-14T22:13:20Z"


def test_labels_follow_the_build_arguments():
    bases = {"build": "b:1", "static": "s:1", "python": "p:1"}
    backend = specs.IMAGES["backend"]
    args = images.build_args(_release(), backend, bases, "https://src.example/")
    assert args["RUNTIME_BASE"] == "s:1" and args["BUILD_BASE"] == "b:1"
    labels = images.expected_labels(backend, args)
    assert labels == {
        "org.opencontainers.image.title": "traderadmin-backend",
        "org.opencontainers.image.version": "1.2.3-rc.1",
        "org.opencontainers.image.revision": COMMIT,
        "org.opencontainers.image.created": "2023-11-14T22:13:20Z",
        "org.opencontainers.image.source": "https://src.example/",
        "org.opencontainers.image.base.name": "s:1",
    }
    orchestrator = specs.IMAGES["orchestrator"]
    assert images.build_args(_release(), orchestrator, bases, "x")["RUNTIME_BASE"] == "p:1"


@pytest.mark.parametrize(
    ("user", "ok"),
    [
        ("65532:65532", True),
        ("65532", True),
        ("1000:0", True),
        ("0", False),
        ("0:0", False),
        ("root", False),
        ("nonroot", False),
        ("nonroot:65532", False),
        ("", False),
    ],
)
def test_numeric_non_root_user(user, ok):
    assert images.is_numeric_non_root(user) is ok


@pytest.mark.parametrize("text", ["127.0.0.1:5000", "registry.example.com", "[::1]:5000", "h:1/"])
def test_registry_is_host_and_port(text):
    assert transfer.parse_registry(text) == text.rstrip("/")


@pytest.mark.parametrize("text", ["", None, "http://127.0.0.1:5000", "host:5000/team", "a b"])
def test_registry_rejects_urls_and_paths(text):
    with pytest.raises(ConfigError) as caught:
        transfer.parse_registry(text)
    assert "HOST:PORT" in caught.value.one_line() or "127.0.0.1:5000" in caught.value.one_line()


def test_saved_image_ids_read_the_archive_manifest(tmp_path):
    archive = tmp_path / "saved.tar"
    manifest = json.dumps([{"Config": "abc123.json", "RepoTags": ["t/x:1"], "Layers": []}])
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest.encode()))
    assert transfer.saved_image_ids(archive) == {"sha256:abc123"}
    assert transfer.saved_image_ids(tmp_path / "missing.tar") == set()


def test_backend_input_is_where_services_puts_the_binary():
    release = _release()
    binary = services.backend_binary_path(release).relative_to(release.dist_dir)
    assert specs.IMAGES["backend"].inputs == (binary.as_posix(),)
    wheelhouse = services.wheelhouse_path(release).relative_to(release.dist_dir)
    assert specs.IMAGES["orchestrator"].inputs == (wheelhouse.as_posix(),)


def test_each_image_step_needs_the_step_that_makes_its_inputs():
    steps = {s.name: s for s in release_steps.standard_steps()}
    assert steps["image-backend"].needs == ("backend",)
    assert steps["image-orchestrator"].needs == ("orchestrator",)


def test_the_registry_is_in_the_tool_catalogue():
    tool = tools.by_name("registry")
    assert tool and tools.REGISTRY_VERSION in tool.install and "go install" in tool.install


# --- Dockerfile facts ---------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        keyword, _, rest = whole.partition(" ")
        found.append((keyword.upper(), " ".join(rest.split())))
    return found


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = [[]]
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, rest))
    return result  # result[0]: the ARGs before the first FROM


@pytest.fixture(params=sorted(specs.IMAGES))
def dockerfile(request):
    item = specs.IMAGES[request.param]
    return item, item.dockerfile.read_text()


def test_dockerfile_is_multi_stage_with_the_bases_as_arguments(dockerfile):
    _, text = dockerfile
    preamble, *built = stages(text)
    assert {rest.split("=")[0] for _, rest in preamble} == {"BUILD_BASE", "RUNTIME_BASE"}
    assert len(built) >= 2
    assert built[0][0][1].startswith("${BUILD_BASE} AS ")
    assert built[-1][0][1] == "${RUNTIME_BASE}"
    # No `# syntax=` line: BuildKit would pull that frontend image from a registry.
    assert not re.search(r"^#\s*syntax\s*=", text, re.M)


def test_final_stage_runs_as_a_numeric_non_root_user_with_a_json_entrypoint(dockerfile):
    _, text = dockerfile
    final = stages(text)[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users == [f"{components.RUNTIME_UID}:{components.RUNTIME_UID}"]
    (entrypoint,) = [rest for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert isinstance(json.loads(entrypoint), list)
    assert not [keyword for keyword, _ in final if keyword == "ADD"]


def test_final_stage_sets_each_oci_label_from_its_build_argument(dockerfile):
    item, text = dockerfile
    labels = " ".join(rest for keyword, rest in stages(text)[-1] if keyword == "LABEL")
    in_dockerfile = dict(pair.split("=", 1) for pair in shlex.split(labels))
    bases = {"build": "b:1", "static": "s:1", "python": "p:1"}
    args = images.build_args(_release(), item, bases, "https://src.example/")
    for key, value in images.expected_labels(item, args).items():
        if key.endswith(".title"):
            assert in_dockerfile[key] == value
            continue
        (argument,) = [name for name, given in args.items() if given == value]
        assert in_dockerfile[key] == "${" + argument + "}", key


def test_the_backend_final_stage_needs_no_shell():
    final = stages(specs.IMAGES["backend"].dockerfile.read_text())[-1]
    assert "RUN" not in [keyword for keyword, _ in final]
    (entrypoint,) = [rest for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint)[0].startswith("/")


def test_copies_only_declared_inputs_that_the_dockerignore_lets_through(dockerfile):
    item, text = dockerfile
    sources = []
    for keyword, rest in instructions(text):
        if keyword == "COPY" and "--from=" not in rest:
            sources += [part for part in rest.split()[:-1] if not part.startswith("--")]
    assert sources and {source.rstrip("/") for source in sources} <= set(item.inputs)
    ignore = specs.dockerignore_path().read_text().splitlines()
    assert "*" in ignore
    for relative in item.inputs:
        assert f"!{relative}" in ignore


def test_pip_installs_from_the_wheelhouse_only():
    text = specs.IMAGES["orchestrator"].dockerfile.read_text()
    runs = [rest for keyword, rest in instructions(text) if keyword == "RUN"]
    assert any("pip install" in run and "--no-index" in run for run in runs)


# --- the base-image recipe and the Debian mirror --------------------------------------------


def test_the_repository_recipe_parses():
    recipe = base_recipe.load_recipe()
    assert recipe.suite == "bookworm" and "python3" in recipe.include
    assert recipe.user.uid == components.RUNTIME_UID
    assert re.fullmatch(r"[0-9a-f]{12}", recipe.key)


def test_recipe_key_follows_the_text_but_the_rootfs_key_only_debootstrap_inputs():
    text = base_recipe.recipe_path().read_text()
    recipe = base_recipe.parse_recipe(text)
    trimmed = base_recipe.parse_recipe(text.replace('"usr/share/zoneinfo/right"', '"x"'))
    assert trimmed.key != recipe.key and trimmed.rootfs_key == recipe.rootfs_key
    more = base_recipe.parse_recipe(text.replace('"tzdata"]', '"tzdata", "curl"]'))
    assert more.rootfs_key != recipe.rootfs_key


def test_a_broken_recipe_names_the_file():
    with pytest.raises(ConfigError) as caught:
        base_recipe.parse_recipe("[debian]\n", "docker/base/recipe.toml")
    assert "docker/base/recipe.toml" in caught.value.one_line()


def test_one_line_sources():
    text = (
        "# comment\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] "
        "http://m.example/debian bookworm main\n"
        "deb-src http://m.example/debian bookworm main\n"
        "deb http://security.example/debian-security bookworm-security main  # trailing\n"
    )
    found = mirror.parse_sources_list(text)
    assert found[0] == mirror.AptSource(
        "http://m.example/debian", ("bookworm",), ("main",), "/usr/share/keyrings/k.gpg"
    )
    assert len(found) == 2


def test_deb822_sources_and_the_choice_of_mirror():
    text = (
        "Types: deb\n"
        "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
        "URIs: http://deb.example/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\n"
        "Types: deb\n"
        "URIs: http://security.example/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
        "\n"
        "Types: deb\n"
        "URIs: http://off.example/debian\n"
        "Suites: bookworm\n"
        "Components: main\n"
        "Enabled: no\n"
        "\n"
        "Types: deb\n"
        "URIs: http://inline.example/debian\n"
        "Suites: trixie\n"
        "Components: main\n"
        "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n"
    )
    found = mirror.parse_deb822_sources(text)
    assert [s.uri for s in found] == [
        "http://deb.example/debian",
        "http://security.example/debian-security",
        "http://inline.example/debian",
    ]
    assert found[2].signed_by is None
    chosen = mirror.choose_mirror(found, "bookworm")
    assert chosen and chosen.uri == "http://deb.example/debian"
    assert chosen.signed_by == "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert mirror.choose_mirror(found, "bullseye") is None


def test_no_mirror_says_how_to_pass_one(tmp_path):
    with pytest.raises(ConfigError) as caught:
        mirror.resolve_mirror("bookworm", None, tmp_path)
    assert "--mirror" in caught.value.one_line()
    configured = mirror.resolve_mirror("bookworm", "http://mirror.local/debian", tmp_path)
    assert configured.uri == "http://mirror.local/debian"


# --- ELF and the root file system ----------------------------------------------------------


def test_elf_dependencies_of_this_python():
    interpreter, needed = rootfs.elf_dependencies(Path(sys.executable).resolve().read_bytes())
    assert interpreter and "ld-linux" in interpreter
    assert "libc.so.6" in needed


def test_elf_dependencies_of_non_elf_files():
    assert rootfs.elf_dependencies(b"#!/bin/sh\necho hi\n") == (None, [])
    assert rootfs.elf_dependencies(b"") == (None, [])


def _rootfs(tmp_path: Path, members: list[tuple[str, str, str | bytes]]) -> Path:
    """A tarball from (name, kind, content): kind is dir, file, link (symlink) or hard."""
    path = tmp_path / "root.tar"
    with tarfile.open(path, "w") as tar:
        for name, kind, content in members:
            info = tarfile.TarInfo(name)
            data = None
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, str(content)
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, str(content)
            else:
                data = content if isinstance(content, bytes) else str(content).encode()
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


USRMERGE = [
    ("./", "dir", ""),
    ("./usr", "dir", ""),
    ("./usr/lib", "dir", ""),
    ("./usr/lib/x86_64-linux-gnu", "dir", ""),
    ("./usr/lib/x86_64-linux-gnu/libc.so.6", "file", "libc"),
    ("./usr/lib/x86_64-linux-gnu/libz.so.1", "link", "libz.so.1.2.13"),
    ("./usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "file", "zlib"),
    ("./lib", "link", "usr/lib"),
    ("./usr/lib64", "dir", ""),
    ("./usr/lib64/ld-linux-x86-64.so.2", "link", "/lib/x86_64-linux-gnu/libc.so.6"),
    ("./lib64", "link", "usr/lib64"),
    ("./usr/share", "dir", ""),
    ("./usr/share/zoneinfo", "dir", ""),
    ("./usr/share/zoneinfo/UTC", "file", "utc"),
    ("./usr/share/zoneinfo/Zulu", "hard", "usr/share/zoneinfo/UTC"),
    ("./usr/share/zoneinfo/right", "dir", ""),
    ("./usr/share/zoneinfo/right/UTC", "file", "leap"),
    ("./usr/share/zoneinfo/posix", "dir", ""),
    ("./usr/share/zoneinfo/posix/UTC", "link", "../UTC"),
    ("./etc", "dir", ""),
    ("./etc/os-release", "link", "../usr/lib/os-release"),
    ("./usr/lib/os-release", "file", "ID=debian"),
]


def test_symlinks_resolve_through_usrmerge(tmp_path):
    with tarfile.open(_rootfs(tmp_path, USRMERGE)) as archive:
        root = rootfs.RootFS(archive)
        canonical, links = root.resolve("/lib64/ld-linux-x86-64.so.2")
        assert canonical == "usr/lib/x86_64-linux-gnu/libc.so.6"
        assert links == ["lib64", "usr/lib64/ld-linux-x86-64.so.2", "lib"]
        assert rootfs.find_library(root, "libz.so.1") == "usr/lib/x86_64-linux-gnu/libz.so.1"
        assert rootfs.find_library(root, "libnope.so") is None
        assert root.is_file("lib/x86_64-linux-gnu/libc.so.6") and not root.is_file("lib")


def test_select_keeps_directories_minus_drops_with_links_and_parents(tmp_path):
    with tarfile.open(_rootfs(tmp_path, USRMERGE)) as archive:
        root = rootfs.RootFS(archive)
        kept = rootfs.select(
            root,
            ["usr/share/zoneinfo", "etc/os-release"],
            ["usr/share/zoneinfo/right"],
            libraries=False,
        )
    assert {"usr/share/zoneinfo/UTC", "usr/share/zoneinfo/Zulu"} <= kept
    assert {"usr/share/zoneinfo/posix/UTC", "etc/os-release", "usr/lib/os-release"} <= kept
    assert {"usr", "usr/share", "etc", "usr/lib"} <= kept
    assert not any(name.startswith("usr/share/zoneinfo/right") for name in kept)
    assert "usr/lib/x86_64-linux-gnu/libc.so.6" not in kept


def test_select_names_what_is_missing(tmp_path):
    with tarfile.open(_rootfs(tmp_path, USRMERGE)) as archive:
        root = rootfs.RootFS(archive)
        with pytest.raises(ReleaseError) as caught:
            rootfs.select(root, ["usr/bin/python3.11"], [], libraries=True)
    assert "usr/bin/python3.11" in caught.value.one_line()
    assert "recipe.toml" in caught.value.hint


def test_written_tar_copies_hard_links_to_dropped_targets_and_adds_users(tmp_path):
    with tarfile.open(_rootfs(tmp_path, USRMERGE)) as archive:
        root = rootfs.RootFS(archive)
        selected = {"usr", "usr/share", "usr/share/zoneinfo", "usr/share/zoneinfo/Zulu"}
        user = base_recipe.User("nonroot", 65532, 65532, "home/nonroot")
        out = rootfs.write_tar(root, selected, tmp_path / "out.tar", rootfs.user_files(user))
    with tarfile.open(out) as written:
        zulu = written.getmember("usr/share/zoneinfo/Zulu")
        assert zulu.isfile() and written.extractfile(zulu).read() == b"utc"
        passwd = written.extractfile("etc/passwd").read().decode()
        assert "nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin" in passwd
        home = written.getmember("home/nonroot")
        assert (home.uid, home.mode) == (65532, 0o700)
        assert written.getmember("tmp").mode == 0o1777


@pytest.mark.parametrize(
    ("path", "dropped"),
    [
        ("usr/lib/python3.11/test", True),
        ("usr/lib/python3.11/test/x.py", True),
        ("usr/lib/python3.11/testing.py", False),
        ("usr/lib/python3.11/lib-dynload/_testcapi.so", True),
        ("usr/lib/python3.11/lib-dynload/_ssl.so", False),
    ],
)
def test_drop_patterns(path, dropped):
    patterns = ["usr/lib/python3.11/test", "usr/lib/python3.11/lib-dynload/_test*"]
    assert rootfs.is_dropped(path, patterns) is dropped


STATUS = """\
Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9+deb12u13

Package: zlib1g
Status: install ok installed
Architecture: amd64
Version: 1:1.2.13.dfsg-1

Package: gone
Status: deinstall ok config-files
Version: 1.0
"""


def test_kept_packages_get_their_dpkg_record_and_no_other_does(tmp_path):
    members = [
        *USRMERGE,
        ("./var", "dir", ""),
        ("./var/lib", "dir", ""),
        ("./var/lib/dpkg", "dir", ""),
        ("./var/lib/dpkg/status", "file", STATUS),
        ("./var/lib/dpkg/info", "dir", ""),
        ("./var/lib/dpkg/info/libc6:amd64.list", "file", "/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
        ("./var/lib/dpkg/info/zlib1g:amd64.list", "file", "/lib/x86_64-linux-gnu/libz.so.1.2.13\n"),
    ]
    assert set(rootfs.dpkg_stanzas(STATUS)) == {"libc6", "zlib1g"}
    with tarfile.open(_rootfs(tmp_path, members)) as archive:
        root = rootfs.RootFS(archive)
        records = rootfs.package_records(root, {"usr/lib/x86_64-linux-gnu/libc.so.6"})
    files = {info.name: data for info, data in records if data is not None}
    assert list(files) == ["var/lib/dpkg/status.d/libc6"]
    assert b"Version: 2.36-9+deb12u13" in files["var/lib/dpkg/status.d/libc6"]


def test_there_is_one_image_per_deployable_component():
    from build_scripts.core.components import COMPONENTS

    assert tuple(specs.IMAGES) == COMPONENTS
