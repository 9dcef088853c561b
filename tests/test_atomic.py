import pytest

from build_scripts.core import atomic


def test_failed_write_keeps_previous_artifact(tmp_path):
    destination = tmp_path / "TraderAdmin_Setup_v1.0.0.exe"
    destination.write_bytes(b"good installer")
    with pytest.raises(RuntimeError), atomic.atomic_path(destination) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("makensis died")
    assert destination.read_bytes() == b"good installer"
    assert list(tmp_path.iterdir()) == [destination]


def test_empty_output_is_not_renamed_into_place(tmp_path):
    destination = tmp_path / "artifact"
    destination.write_text("old")
    with pytest.raises(FileNotFoundError), atomic.atomic_path(destination):
        pass
    assert destination.read_text() == "old"


def test_successful_write_replaces_and_is_readable(tmp_path):
    destination = tmp_path / "sub" / "file.txt"
    atomic.write_text(destination, "new")
    assert destination.read_text() == "new"
    assert destination.stat().st_mode & 0o777 == 0o644


def test_a_secret_gets_its_mode_and_replaces_atomically(tmp_path):
    destination = tmp_path / "ca.key"
    atomic.write_bytes(destination, b"old", mode=0o600)
    atomic.write_bytes(destination, b"new", mode=0o600)
    assert destination.read_bytes() == b"new"
    assert destination.stat().st_mode & 0o777 == 0o600
