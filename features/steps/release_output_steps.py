"""Steps about what the release leaves in dist/."""

from __future__ import annotations

from pathlib import Path

from behave import given, then


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def _dist(context) -> Path:
    """The scenario's own release output folder if it has one (the scenarios of CI's other
    part may be releasing into dist/ at the same time), else dist/."""
    return Path(context.env_overrides.get("TRADERADMIN_DIST", context.repo / "dist"))


@given("the release output folder as it is now")
def step_snapshot_dist(context):
    context.dist_before = _snapshot(_dist(context))


@then('no release folder exists for version "{version}"')
def step_no_release_folder(context, version):
    folder = _dist(context) / version
    assert not folder.exists(), f"{folder} was created"


@then("the release output folder is unchanged")
def step_dist_unchanged(context):
    after = _snapshot(_dist(context))
    assert after == context.dist_before, (
        f"dist/ changed: before {sorted(context.dist_before)}, after {sorted(after)}"
    )
