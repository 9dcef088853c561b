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


@given("the release output folder as it is now")
def step_snapshot_dist(context):
    context.dist_before = _snapshot(context.repo / "dist")


@then('no release folder exists for version "{version}"')
def step_no_release_folder(context, version):
    folder = context.repo / "dist" / version
    assert not folder.exists(), f"{folder} was created"


@then("the release output folder is unchanged")
def step_dist_unchanged(context):
    after = _snapshot(context.repo / "dist")
    assert after == context.dist_before, (
        f"dist/ changed: before {sorted(context.dist_before)}, after {sorted(after)}"
    )
