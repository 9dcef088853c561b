"""Saved images rewritten into their reproducible form (images/normalize.py), on real tar files."""

import hashlib
import io
import json
import tarfile

from build_scripts.images import normalize, transfer

EPOCH = 1_700_000_000
LATER = EPOCH + 86_400


def _layer(entries, *, mtime=LATER, uname="builder") -> bytes:
    """A layer tar with entries in the given order: (name, kind, payload or link target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.uname, info.gname = mtime, uname, uname
            info.uid = info.gid = 65532
            info.pax_headers = {"atime": str(mtime + 5), "SCHILY.xattr.user.note": "kept"}
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, value
                tar.addfile(info)
            else:
                info.size, info.mode = len(value), 0o644
                tar.addfile(info, io.BytesIO(value))
    return buffer.getvalue()


LAYER = [
    ("opt/", "dir", None),
    ("opt/zz-target", "file", b"shared bytes"),
    ("opt/b.pyc", "file", b"\x00pyc"),
    ("opt/aa-link", "link", "opt/zz-target"),  # sorts before its target
]


def _normalized(layer: bytes) -> bytes:
    out = io.BytesIO()
    normalize.normalize_layer(io.BytesIO(layer), out, EPOCH)
    return out.getvalue()


def test_a_layer_is_sorted_clamped_and_nameless_with_hard_links_repointed():
    result = _normalized(_layer(LAYER))
    with tarfile.open(fileobj=io.BytesIO(result)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["opt", "opt/aa-link", "opt/b.pyc", "opt/zz-target"]
        assert all(m.mtime == EPOCH for m in members)
        assert all(m.uname == "" and m.gname == "" and m.uid == 65532 for m in members)
        assert all("atime" not in m.pax_headers for m in members)
        assert all(m.pax_headers.get("SCHILY.xattr.user.note") == "kept" for m in members)
        first, link = members[1], members[3]
        assert first.isreg() and tar.extractfile(first).read() == b"shared bytes"
        assert link.islnk() and link.linkname == "opt/aa-link"


def test_a_layer_differing_only_in_times_names_and_order_comes_out_the_same():
    one = _layer(LAYER)
    other = _layer([LAYER[0], *LAYER[1:][::-1]], mtime=LATER + 99)
    assert one != other
    assert _normalized(one) == _normalized(other)
    # Normalizing again changes nothing (an archive saved from the loaded image stays put).
    assert _normalized(_normalized(one)) == _normalized(one)


def test_older_mtimes_are_kept_and_contents_matter():
    older = _layer(LAYER, mtime=EPOCH - 10)
    with tarfile.open(fileobj=io.BytesIO(_normalized(older))) as tar:
        assert {m.mtime for m in tar.getmembers()} == {EPOCH - 10}
    changed = [*LAYER[:2], ("opt/b.pyc", "file", b"\x01pyc"), LAYER[3]]
    assert _normalized(_layer(changed)) != _normalized(_layer(LAYER))


def _config(created: str, container: str) -> dict:
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "container": container,
        "container_config": {"Hostname": container[:12]},
        "config": {"User": "65532:65532", "Image": "sha256:" + container},
        "history": [{"created": created, "created_by": "COPY"}, {"created": created}],
        "rootfs": {"type": "layers", "diff_ids": ["sha256:old"]},
    }


def test_the_config_loses_build_times_and_build_machine_ids():
    text = normalize.normalize_config(_config("2026-12-02T05:40:01.2Z", "ab" * 32), EPOCH, ["d"])
    config = json.loads(text)
    assert config["created"] == "2023-11-14T22:13:20Z"
    assert {h["created"] for h in config["history"]} == {"2023-11-14T22:13:20Z"}
    assert "container" not in config and "container_config" not in config
    assert config["config"] == {"User": "65532:65532", "Image": ""}
    assert config["rootfs"]["diff_ids"] == ["d"]


def _saved(path, layers, config) -> None:
    """A `docker save` archive: layer folders, the config, manifest.json."""
    ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    config = {**config, "rootfs": {"type": "layers", "diff_ids": ids}}
    config_bytes = json.dumps(config).encode()
    names = [f"{i}{'x' * 63}/layer.tar" for i in range(len(layers))]
    files = [*zip(names, layers, strict=True), ("cfg.json", config_bytes)]
    manifest = [{"Config": "cfg.json", "RepoTags": ["old:tag"], "Layers": names}]
    files.append(("manifest.json", json.dumps(manifest).encode()))
    with tarfile.open(path, "w") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), LATER
            tar.addfile(info, io.BytesIO(data))


def test_two_builds_of_one_image_give_one_archive_whose_config_digest_is_the_id(tmp_path):
    base = _layer([("etc/", "dir", None)], mtime=LATER + 7)  # the base's: kept byte for byte
    base_id = "sha256:" + hashlib.sha256(base).hexdigest()
    first, second = tmp_path / "first.tar", tmp_path / "second.tar"
    _saved(first, [base, _layer(LAYER)], _config("2026-12-02T05:40:01Z", "ab" * 32))
    _saved(
        second,
        [base, _layer(LAYER[::-1], mtime=LATER + 50)],
        _config("2026-12-02T06:00:00Z", "cd" * 32),
    )
    tags = ["traderadmin/orchestrator:1.0", "traderadmin/orchestrator:abc"]
    results = []
    for saved in (first, second):
        out = tmp_path / f"out-{saved.stem}" / "orchestrator.tar"
        out.parent.mkdir()
        results.append(
            (
                normalize.normalize_archive(
                    saved, out, epoch=EPOCH, tags=tags, keep_diff_ids=[base_id]
                ),
                out,
            )
        )
    (one, one_path), (two, two_path) = results
    assert two.image_id == one.image_id
    assert one_path.read_bytes() == two_path.read_bytes()
    assert one.rewritten == 1 and one.diff_ids[0] == base_id
    assert transfer.saved_image_ids(one_path) == {one.image_id}
    with tarfile.open(one_path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        config_bytes = tar.extractfile(manifest[0]["Config"]).read()
        assert "sha256:" + hashlib.sha256(config_bytes).hexdigest() == one.image_id
        assert manifest[0]["RepoTags"] == tags
        for name, diff_id in zip(manifest[0]["Layers"], one.diff_ids, strict=True):
            layer = tar.extractfile(name).read()
            assert "sha256:" + hashlib.sha256(layer).hexdigest() == diff_id
        assert {m.mtime for m in tar.getmembers()} == {EPOCH}
    assert not [p for p in one_path.parent.iterdir() if p.name.startswith(".")]
