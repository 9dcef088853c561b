"""ARCHITECTURE.md names every module under build_scripts/, and only modules that exist
(the documentation scenario checks the same; this fails first)."""

from __future__ import annotations

from build_scripts.core import paths
from build_scripts.validation import architecture_doc

REPO = paths.repo_root()
TEXT = (REPO / architecture_doc.DOCUMENT).read_text(encoding="utf-8")


def test_architecture_md_names_every_module_and_only_modules_that_exist():
    drift = architecture_doc.drift(REPO)
    assert not drift, drift.describe()


def test_a_module_left_out_of_the_document_is_found():
    assert "`core/poll.py`" in TEXT
    drift = architecture_doc.drift(REPO, TEXT.replace("`core/poll.py`", "`core/`"))
    assert drift.unnamed == ["core/poll.py"] and not drift.missing


def test_a_module_the_document_names_that_does_not_exist_is_found():
    text = TEXT + "\n- `bundle/sums.py`: the bundle's checksums.\n- `sums.py` alone.\n"
    drift = architecture_doc.drift(REPO, text)
    assert drift.missing == ["bundle/sums.py", "sums.py"] and not drift.unnamed


def test_paths_are_read_whole():
    text = "see `build_scripts/core/cmd.py`, tests/test_x.py and core/atomic.py."
    assert architecture_doc.named(text) == [
        "build_scripts/core/cmd.py",
        "core/atomic.py",
        "tests/test_x.py",
    ]
