"""Hostile bundles, each made for real (tests/crafted_tars.py): refused with one line and exit
5 through the task boundary, before any file is read beyond what the checks need; nothing
extracted, nothing deployed, and the verifier's memory stays bounded.

A bundle.verify run's peak memory is measured from outside (wait4's ru_maxrss of that one
process tree): the interpreter with invoke and the engine imported is about 75 MiB; reading
four sparse 64 MiB members into memory, as the verifier did, took it to about 400 MiB.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from build_scripts.bundle import contents, image_source, members, verify
from build_scripts.core import paths, sums
from build_scripts.core.errors import ReleaseError, VerificationFailed
from build_scripts.kube import release_deploy
from tests import bundle_support as support
from tests import crafted_tars as craft

TOP = support.TOP
PEAK_BOUND_MIB = 150


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path]:
    return support.make_keys(tmp_path_factory.mktemp("keys") / "release", "release")


@pytest.fixture
def signed(tmp_path, keys) -> Path:
    folder, _ = support.make_folder(tmp_path / "made")
    support.seal(folder, keys[0])
    return support.tar_folder(folder, tmp_path / "signed.tar")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    peak_mib: float
    seconds: float


# Started from a small process of its own: a process's peak RSS counts what its parent held
# when it forked (Linux keeps the high-water mark across exec), and pytest holds the crafted
# tars' bytes. This one runs the command and writes its children's peak (KiB) to argv[1].
MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(sys.argv[1], "w").write(str(peak))
sys.exit(code)
"""


def _run(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> Run:
    """`python -m invoke ARGV` from the repository; its exit code, output and peak RSS."""
    out, err, peak = (tmp_path / f"run.{name}" for name in ("stdout", "stderr", "peak"))
    command = [sys.executable, "-c", MEASURE, str(peak), sys.executable, "-m", "invoke", *argv]
    start = time.monotonic()
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        code = subprocess.run(
            command,
            cwd=paths.repo_root(),
            env={**os.environ, **(env or {})},
            stdout=stdout,
            stderr=stderr,
            timeout=120,
        ).returncode
    return Run(
        code,
        out.read_text(),
        err.read_text(),
        int(peak.read_text()) / 1024,  # KiB on Linux
        time.monotonic() - start,
    )


def _refused(run: Run, line: str) -> None:
    """Exit 5, and one error line saying `line` (after warnings such as "unsigned")."""
    shown = f"exit {run.code}, {run.peak_mib:.0f} MiB\nstderr: {run.stderr}\nstdout: {run.stdout}"
    *warnings, error = run.stderr.splitlines() or [""]
    assert run.code == 5, shown
    assert error.startswith("error: ") and line in error, shown
    assert all(w.startswith("warning: ") for w in warnings), shown


def _verify_cli(tmp_path: Path, bundle: Path, *extra: str) -> Run:
    return _run(tmp_path, "bundle.verify", str(bundle), *extra)


# --- refused from the headers alone -------------------------------------------------------


@pytest.mark.parametrize("sparse", [craft.gnu_sparse, craft.pax_sparse], ids=["gnu", "pax"])
def test_sparse_members_are_refused_and_memory_stays_bounded(tmp_path, sparse):
    members_ = [sparse(f"{TOP}/f{i}.json", 64 << 20, b"{}") for i in range(4)]
    bundle = craft.write(tmp_path / "sparse.tar", craft.folder(TOP), *members_)
    assert bundle.stat().st_size < 10 << 10
    run = _verify_cli(tmp_path, bundle, "--allow-unsigned")
    _refused(run, f"error: {TOP}/f0.json: a sparse member (64.0 MiB declared)")
    assert run.peak_mib < PEAK_BOUND_MIB, f"peak {run.peak_mib:.0f} MiB"


def test_a_20_GiB_sparse_member_is_refused_at_once(tmp_path):
    bundle = craft.write(
        tmp_path / "big.tar", craft.folder(TOP), craft.gnu_sparse(f"{TOP}/big.bin", 20 << 30)
    )
    run = _verify_cli(tmp_path, bundle, "--allow-unsigned")
    _refused(run, f"{TOP}/big.bin: a sparse member (20.0 GiB declared)")
    # Refused by the header walk, before any hashing (20 GiB of holes would take minutes; the
    # subprocess's 120 s timeout would end this test first).
    assert run.peak_mib < PEAK_BOUND_MIB, run


@pytest.mark.parametrize(
    ("kind", "compress"), [("gzip", gzip.compress), ("bzip2", bz2.compress), ("xz", lzma.compress)]
)
def test_a_compressed_bundle_is_refused(tmp_path, keys, signed, kind, compress):
    bundle = tmp_path / "compressed.tar"
    bundle.write_bytes(compress(signed.read_bytes()))
    run = _verify_cli(tmp_path, bundle, "--public-key", str(keys[1]))
    _refused(run, f"compressed.tar is compressed ({kind}); a bundle is a plain tar")


@pytest.mark.parametrize("name", ["bundle.json", sums.FILE_NAME])
def test_a_name_twice_is_refused(tmp_path, keys, signed, name):
    bundle = craft.appended(signed, tmp_path / "twice.tar", craft.regular(f"{TOP}/{name}", b"{}"))
    run = _verify_cli(tmp_path, bundle, "--public-key", str(keys[1]))
    _refused(run, f"{TOP}/{name}: twice in the bundle")


@pytest.mark.parametrize(
    ("declared", "named"),
    [
        (20 << 30, "declares 20.0 GiB, over the bound of 16.0 GiB for one file"),
        (1 << 30, "declares 1.0 GiB, but the tar ends 1024 bytes after its header"),
    ],
)
def test_a_member_declaring_data_the_tar_lacks_is_refused(tmp_path, signed, keys, declared, named):
    bundle = craft.appended(
        signed, tmp_path / "declared.tar", craft.declared_only(f"{TOP}/huge.bin", declared)
    )
    assert bundle.stat().st_size < 64 << 10
    run = _verify_cli(tmp_path, bundle, "--public-key", str(keys[1]))
    _refused(run, f"{TOP}/huge.bin {named}")
    assert run.peak_mib < PEAK_BOUND_MIB, run


def test_more_members_than_the_bound_are_refused(tmp_path, signed, keys):
    extra = [craft.regular(f"{TOP}/n/{i}.json", b"") for i in range(members.MAX_MEMBERS)]
    bundle = craft.appended(signed, tmp_path / "many.tar", *extra)
    run = _verify_cli(tmp_path, bundle, "--public-key", str(keys[1]))
    _refused(run, f"many.tar has more than {members.MAX_MEMBERS} members")


def test_a_member_with_megabytes_of_headers_is_refused(tmp_path, signed, keys):
    bundle = craft.appended(
        signed, tmp_path / "headers.tar", craft.huge_pax_header(f"{TOP}/x.json", 2 << 20)
    )
    run = _verify_cli(tmp_path, bundle, "--public-key", str(keys[1]))
    _refused(run, "headers.tar: a member's headers exceed 1.0 MiB")


def test_headers_are_held_one_member_at_a_time(tmp_path):
    """Each member's PAX records under the bound, 115 MiB of them in all: the walk holds one
    member's at a time (tarfile alone would keep every one)."""
    headers = [craft.huge_pax_header(f"{TOP}/h{i}.json", 1_000_000) for i in range(120)]
    bundle = craft.write(tmp_path / "headers.tar", craft.folder(TOP), *headers)
    run = _verify_cli(tmp_path, bundle, "--allow-unsigned")
    _refused(run, "SHA256SUMS is missing from the bundle")
    assert run.peak_mib < PEAK_BOUND_MIB, run


def test_a_name_over_the_bound_is_refused(tmp_path, signed, keys):
    long = f"{TOP}/{'d' * 200}/{'e' * 200}/{'f' * 200}/{'g' * 200}/{'h' * 200}.json"
    bundle = craft.appended(signed, tmp_path / "long.tar", craft.regular(long, b"{}"))
    run = _verify_cli(tmp_path, bundle, "--public-key", str(keys[1]))
    _refused(run, f"a name of {len(long)} characters, over the bound of 1024 bytes")


# --- refused before the files are read: SHA256SUMS and its signature first ----------------


def test_a_thousand_unlisted_json_members_are_refused_unread(tmp_path, signed, keys, monkeypatch):
    extra = [craft.regular(f"{TOP}/x/{i}.json", b"[" * 4096) for i in range(1000)]
    bundle = craft.appended(signed, tmp_path / "unlisted.tar", *extra)
    run = _verify_cli(tmp_path, bundle, "--public-key", str(keys[1]))
    _refused(run, "x/0.json is in the bundle but not listed in SHA256SUMS (and 999 more: ")
    assert run.peak_mib < PEAK_BOUND_MIB, run

    def no_file_is_read(*_):
        raise AssertionError("a file was hashed before the listing was checked")

    monkeypatch.setattr(verify, "hash_listed", no_file_is_read)
    with pytest.raises(VerificationFailed, match="not listed in SHA256SUMS"):
        verify.verify(bundle, keys[1])


def test_a_sums_file_over_its_bound_is_refused_unread(tmp_path):
    folder, _ = support.make_folder(tmp_path / "made")
    (folder / sums.FILE_NAME).write_bytes(b"0" * (contents.MAX_SUMS + 1))
    bundle = support.tar_folder(folder, tmp_path / "sums.tar")
    run = _verify_cli(tmp_path, bundle, "--allow-unsigned")
    _refused(run, f"{TOP}/SHA256SUMS holds 2.0 MiB, over the bound of 2.0 MiB for it")


def test_listed_json_over_the_memory_bound_is_refused_unread(tmp_path):
    """Unsigned and resealed, so every file is listed: what is kept stays within KEPT_TOTAL."""
    folder, _ = support.make_folder(tmp_path / "made")
    each = contents.LARGE - 1024
    for i in range(contents.KEPT_TOTAL // each + 1):
        (folder / f"padding-{i}.json").write_bytes(b" " * each)
    support.seal(folder, None)
    bundle = support.tar_folder(folder, tmp_path / "kept.tar")
    run = _verify_cli(tmp_path, bundle, "--allow-unsigned")
    _refused(run, "over the bound of 64.0 MiB verification keeps in memory")
    assert run.peak_mib < PEAK_BOUND_MIB, run


def test_an_untouched_bundle_verifies_within_the_same_memory(tmp_path, signed, keys):
    run = _verify_cli(tmp_path, signed, "--public-key", str(keys[1]))
    assert run.code == 0, run
    assert run.peak_mib < PEAK_BOUND_MIB, run


# --- deploy --bundle: verified before anything is written ----------------------------------


@pytest.fixture
def scratch() -> Iterator[Path]:
    """An empty temporary folder for the code under test, with a short path: gpg's homes go
    there too, and gpg-agent's socket path must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="ta-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder)


class NoCluster:
    """A deploy target that fails the test if it is ever reached."""

    def api(self):
        raise AssertionError("the cluster was reached")

    def describe(self) -> str:
        return "no cluster"


def _hostile(tmp_path: Path, signed: Path) -> dict[str, tuple[Path, str]]:
    sparse = craft.write(
        tmp_path / "sparse.tar", craft.folder(TOP), craft.gnu_sparse(f"{TOP}/a.json", 64 << 20)
    )
    compressed = tmp_path / "compressed.tar"
    compressed.write_bytes(gzip.compress(signed.read_bytes()))
    twice = craft.appended(signed, tmp_path / "twice.tar", craft.regular(f"{TOP}/bundle.json", b""))
    unlisted = craft.appended(signed, tmp_path / "unlisted.tar", craft.regular(f"{TOP}/x", b"1"))
    return {
        "sparse": (sparse, "a sparse member"),
        "compressed": (compressed, "is compressed (gzip)"),
        "twice": (twice, "twice in the bundle"),
        "unlisted": (unlisted, "x is in the bundle but not listed"),
    }


def test_deploy_refuses_hostile_bundles_before_writing_anything(tmp_path, signed, keys, scratch):
    env = {"TMPDIR": str(scratch), "TRADERADMIN_CACHE": str(tmp_path / "cache")}
    for kind, (bundle, named) in _hostile(tmp_path, signed).items():
        run = _run(
            tmp_path,
            "deploy",
            "--bundle",
            str(bundle),
            "--public-key",
            str(keys[1]),
            "--kubeconfig",
            str(tmp_path / "no-kubeconfig"),
            env=env,
        )
        _refused(run, named)
        assert list(scratch.iterdir()) == [], kind
        assert not (tmp_path / "cache").exists(), kind


def test_deploy_reaches_no_cluster_and_leaves_no_folder(
    tmp_path, signed, keys, monkeypatch, scratch
):
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    for bundle, named in _hostile(tmp_path, signed).values():
        request = image_source.Request(bundle, "local", None, keys[1], allow_unsigned=False)
        with pytest.raises(VerificationFailed, match=re.escape(named)):
            image_source.deploy_bundle(request, NoCluster(), release_deploy.Options())  # type: ignore[arg-type]
        assert list(scratch.iterdir()) == []
    # An untouched bundle is verified, extracted, and stops at the cluster that is not running.
    request = image_source.Request(signed, "local", None, keys[1], allow_unsigned=False)
    with pytest.raises(ReleaseError, match="the local cluster is not running"):
        image_source.deploy_bundle(
            request,
            NoCluster(),  # type: ignore[arg-type]
            release_deploy.Options(),
            state_dir=tmp_path / "no-cluster",
        )
    assert list(scratch.iterdir()) == []


def test_extraction_writes_only_the_verified_bytes(tmp_path, signed, keys):
    report = verify.verify(signed, keys[1])
    # Changed after verification: a byte flipped, a member added.
    support.flip_byte(signed, "/TraderAdmin_Setup_v1.0.0.exe", 100)
    with pytest.raises(VerificationFailed, match="changed after it was verified"):
        contents.extract_verified(signed, report.digests, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    support.flip_byte(signed, "/TraderAdmin_Setup_v1.0.0.exe", 100)
    added = craft.appended(signed, tmp_path / "added.tar", craft.regular(f"{TOP}/added", b"1"))
    folder = contents.extract_verified(added, report.digests, tmp_path / "out")
    written = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert written == set(report.digests)


def test_extraction_checks_the_free_space_first(tmp_path, signed, keys, monkeypatch):
    report = verify.verify(signed, keys[1])

    class Usage:
        free = contents.FREE_MARGIN

    monkeypatch.setattr(contents.shutil, "disk_usage", lambda _: Usage())
    with pytest.raises(ReleaseError, match=r"needs .* which has 64\.0 MiB free") as failed:
        contents.extract_verified(signed, report.digests, tmp_path / "out")
    assert failed.value.exit_code == 1
    assert not (tmp_path / "out").exists()
