"""Behave hooks: every scenario gets its own scratch directory; heavy resources come from tags."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from behave import fixture, use_fixture

from build_scripts import paths


@fixture
def scratch_directory(context):
    directory = Path(tempfile.mkdtemp(prefix="traderadmin-scenario-"))
    context.scratch = directory
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def before_all(context):
    context.repo = paths.repo_root()


def before_scenario(context, scenario):
    use_fixture(scratch_directory, context)
    context.env_overrides = {}
