"""Helpers shared by the test modules (tests/ is a package so tests/wine can import them too)."""

from __future__ import annotations

import dataclasses

from build_scripts.core import metadata


def pinned_release(version: str = "0.7.0") -> metadata.Release:
    """This checkout's release with a fixed commit and commit time: builds made from it do not
    depend on the repository's state."""
    return dataclasses.replace(
        metadata.current_release(version), commit="0123456789" * 4, source_date_epoch=1_700_000_000
    )
