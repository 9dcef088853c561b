"""Steps about the release report: the page in a real browser (Playwright driving Debian's
chromium, @fixture.chromium), what it shows against the release folder and the history."""

from __future__ import annotations

import re
from pathlib import Path

from _support import shown
from behave import then, when

from build_scripts.core import metadata, sums

# A plan line of `invoke release`: two spaces, the step, then its decision.
PLAN_LINE = re.compile(r"^  (\S+) +(?:up to date|would run: )")
SERIOUS = ("serious", "critical")


def _version() -> str:
    return metadata.current_release().version_text


def _reports(context) -> Path:
    return Path(context.env_overrides["TRADERADMIN_REPORTS"])


def _folder(context) -> Path:
    return Path(context.env_overrides["TRADERADMIN_DIST"]) / _version()


@then("the release's output ends with the link to its report")
def step_link_line(context):
    last = context.result.stdout.strip().splitlines()[-1]
    page = _reports(context) / f"release-{_version()}.html"
    assert last in (f"report: {page}", f"report: reports/release-{_version()}.html"), shown(
        context.result
    )
    assert page.is_file(), shown(context.result)


@when("I open the release report in Chromium")
def step_open_report(context):
    page = context.browser.new_page(viewport={"width": 1280, "height": 900})
    context.page, context.console_errors, context.requests = page, [], []
    page.on("console", lambda m: m.type == "error" and context.console_errors.append(m.text))
    page.on("pageerror", lambda error: context.console_errors.append(str(error)))
    page.on("request", lambda request: context.requests.append(request.url))
    # Whatever the page might ask for beyond itself never leaves this machine.
    page.route(re.compile(r"^(?!file:|data:)"), lambda route: route.abort())
    page.goto((_reports(context) / f"release-{_version()}.html").as_uri())
    page.wait_for_load_state("load")


@then("the page loaded with no console error and no request outside the file")
def step_nothing_loaded(context):
    assert not context.console_errors, f"console errors: {context.console_errors}"
    outside = [u for u in context.requests if not u.startswith(("file://", "data:"))]
    assert not outside, f"requests outside the file: {outside}"
    assert context.requests[:1] == [context.page.url], context.requests


@then("every artifact of SHA256SUMS is in the report's artifact table with the same digest")
def step_artifacts_listed(context):
    listed = sums.parse_sums((_folder(context) / sums.FILE_NAME).read_text())
    rows = context.page.eval_on_selector_all(
        "#artifact-table tbody tr",
        "rows => rows.map(r => [r.dataset.path, r.querySelector('.sha256 code').textContent])",
    )
    shown_rows = {path: digest.strip() for path, digest in rows}
    assert shown_rows == listed, f"SHA256SUMS: {listed}\nthe report's table: {shown_rows}"


@then("the timeline has one bar per step of the run's plan")
def step_one_bar_per_step(context):
    planned = [m.group(1) for m in map(PLAN_LINE.match, context.result.stdout.splitlines()) if m]
    bars = context.page.eval_on_selector_all(
        "#timeline .run[data-step]", "bars => bars.map(b => b.dataset.step)"
    )
    assert planned and bars == planned, f"plan: {planned}, bars: {bars}\n{shown(context.result)}"


@then("the release time plot has one point per entry of the history")
def step_points_per_entry(context):
    lines = (_reports(context) / "history.jsonl").read_text().splitlines()
    points = context.page.locator("#trend-release-time circle.point").count()
    assert len(lines) == 2 and points == len(lines), f"{points} points, history: {lines}"


@then("an accessibility check with axe finds no serious violation")
def step_axe(context):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(context.page)
    serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not serious, results.generate_report()


@then("a screenshot of the report is saved under reports/screenshots/")
def step_screenshot(context):
    path = context.repo / "reports" / "screenshots" / f"release-report-{_version()}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    context.page.screenshot(path=str(path), full_page=True)
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
