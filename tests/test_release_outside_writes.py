"""A task that writes into the release folder on its own (installer.build, desktop.build,
images.save) leaves SHA256SUMS and release.json only if they are still true."""

import subprocess

import pytest

from build_scripts.release import folder


def _sums_pass(root):
    done = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=root, capture_output=True
    )
    return done.returncode == 0


def _described(world):
    world.run()
    root = world.release.dist_dir
    return root, (root / "SHA256SUMS").read_text(), (root / "release.json").read_text()


def test_the_same_bytes_written_again_keep_the_description(world):
    root, sums, manifest = _described(world)
    with folder.written_outside_the_graph(world.release):
        assert not (root / "SHA256SUMS").exists()  # nothing vouches for files being written
        (root / "gen.txt").write_text((root / "gen.txt").read_text())
    assert (root / "SHA256SUMS").read_text() == sums
    assert (root / "release.json").read_text() == manifest
    assert _sums_pass(root)


def test_a_changed_file_withdraws_the_description(world, capsys):
    root, _, _ = _described(world)
    with folder.written_outside_the_graph(world.release):
        (root / "gen.txt").write_text("built some other way\n")
    assert not (root / "SHA256SUMS").exists() and not (root / "release.json").exists()
    assert "gen.txt is not the file they described" in capsys.readouterr().out
    # The next release rebuilds what the record no longer vouches for, and describes it again.
    world.run()
    assert world.started() == ["gen"]
    assert (root / "gen.txt").read_text() == "one\n" and _sums_pass(root)


def test_a_new_file_withdraws_the_description(world):
    root, _, _ = _described(world)
    with folder.written_outside_the_graph(world.release):
        (root / "extra.bin").write_bytes(b"x")
    assert not (root / "SHA256SUMS").exists()


def test_a_failed_task_that_changed_nothing_leaves_the_description(world):
    root, sums, _ = _described(world)
    with pytest.raises(RuntimeError), folder.written_outside_the_graph(world.release):
        raise RuntimeError("makensis failed")
    assert (root / "SHA256SUMS").read_text() == sums and _sums_pass(root)


def test_sums_edited_by_hand_are_not_put_back(world, capsys):
    root, _, _ = _described(world)
    (root / "SHA256SUMS").write_text("not a sha256sum line\n")
    with folder.written_outside_the_graph(world.release):
        pass
    assert not (root / "SHA256SUMS").exists() and not (root / "release.json").exists()
    assert "SHA256SUMS is not the file they described" in capsys.readouterr().out
