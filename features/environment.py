"""Behave hooks: every scenario gets its own scratch directory; heavy resources come from tags."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from behave import fixture, use_fixture
from behave.fixture import use_fixture_by_tag
from python_on_whales import DockerException, docker

from build_scripts.core import docker_engine, paths, tools, x11
from build_scripts.images import registry
from build_scripts.windows import wine


@fixture
def scratch_directory(context):
    directory = Path(tempfile.mkdtemp(prefix="traderadmin-scenario-"))
    context.scratch = directory
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@fixture
def xvfb(context):
    """@fixture.xvfb: an X server for the scenario; steps pass context.display on."""
    with x11.virtual_display() as display:
        context.display = display
        yield display


@fixture
def wine_prefix(context):
    """@fixture.wine_prefix: a fresh Wine prefix set to Windows 10 with the WebView2 Runtime's
    detection key (as on current Windows 10/11), deleted afterwards.

    Tag @fixture.xvfb first: the prefix's programs use that display.
    """
    with wine.fresh_prefix(display=getattr(context, "display", None)) as prefix:
        wine.register_webview2_runtime(prefix)
        context.prefix = prefix
        yield prefix


@fixture
def docker_daemon(context):
    """@fixture.docker: a Docker daemon that answers; the containers, networks and volumes that
    steps record in context.docker_made are removed afterwards."""
    docker_engine.ensure_running()
    context.docker_made = []
    yield docker
    for kind, name in reversed(context.docker_made):
        try:
            if kind == "container":
                docker.container.remove(name, force=True, volumes=True)
            elif kind == "network":
                docker.network.remove(name)
            elif kind == "volume":
                docker.volume.remove(name)
        except DockerException:
            pass  # already gone


@fixture
def local_registry(context):
    """@fixture.registry: a CNCF distribution registry on 127.0.0.1 (a free port), empty."""
    storage = Path(tempfile.mkdtemp(prefix="traderadmin-registry-"))
    handle = registry.start(storage / "storage")
    context.registry = handle
    yield handle
    registry.stop(handle)
    shutil.rmtree(storage, ignore_errors=True)


@fixture
def chromium(context):
    """@fixture.chromium: Playwright driving Debian's chromium (Playwright's own browser
    download cannot be reached from here), closed afterwards; steps open pages on
    context.browser."""
    from playwright.sync_api import sync_playwright

    program = tools.find(tools.by_name("chromium"))
    assert program, tools.missing_error("chromium").one_line()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=program)
        context.browser = browser
        yield browser
        browser.close()


# Heavy resources by tag; each fixture cleans up after its scenario.
FIXTURES_BY_TAG = {
    "fixture.chromium": chromium,
    "fixture.xvfb": xvfb,
    "fixture.wine_prefix": wine_prefix,
    "fixture.docker": docker_daemon,
    "fixture.registry": local_registry,
}


def before_tag(context, tag):
    if tag in FIXTURES_BY_TAG:
        return use_fixture_by_tag(tag, context, FIXTURES_BY_TAG)
    return None


def before_all(context):
    context.repo = paths.repo_root()


def before_scenario(context, scenario):
    use_fixture(scratch_directory, context)
    context.env_overrides = {}
