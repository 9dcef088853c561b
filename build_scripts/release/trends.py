"""Which trends the release report draws from reports/history.jsonl, with their targets.

Each trend picks one number out of some history entries: release time out of every `release`
line, artifact sizes out of their `sizes`, cold and no-op release times out of `bench-release`
lines, deploy times out of `bench` lines (with the target the bench line recorded). The x axis
is the entry's place in the history, so the plots of one page line up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from build_scripts.core.artifacts import MB
from build_scripts.desktop import build as desktop
from build_scripts.images import specs
from build_scripts.release import bench_graph, plots
from build_scripts.windows import installer

# bench.release checks no cold figure; this is the report's reference line: README measures
# about 7 min for the whole cold release on a 2-core machine, and over 10 min is worth a look.
COLD_RELEASE_SECONDS = 600.0
# The `bench` figures the report follows (bench.py's names); their targets come with them.
DEPLOY = "deploy of an unchanged release"
FRESH_DEPLOY = "fresh deploy to all-Ready"


def when(entry: dict) -> str:
    return str(entry.get("at", "?")).replace("T", " ").removesuffix("Z")


def _release_seconds(entry: dict) -> tuple[str, float, str] | None:
    if entry.get("kind") != "release" or not isinstance(entry.get("seconds"), int | float):
        return None
    ran = entry.get("ran") or []
    style = "noop" if not ran else "ran"
    what = "no-op: nothing ran" if not ran else f"{len(ran)} of {entry.get('steps', '?')} ran"
    label = f"{when(entry)} · {entry.get('version', '?')} · {entry['seconds']:.1f} s ({what})"
    return style, float(entry["seconds"]), label


def _size(pattern: str) -> Callable[[dict], tuple[str, float, str] | None]:
    matcher = re.compile(pattern)

    def pick(entry: dict) -> tuple[str, float, str] | None:
        if entry.get("kind") != "release" or not isinstance(entry.get("sizes"), dict):
            return None
        for path, size in entry["sizes"].items():
            if matcher.fullmatch(path) and isinstance(size, int | float):
                value = size / MB
                label = f"{when(entry)} · {entry.get('version', '?')} · {value:.2f} MB"
                return "size", value, label
        return None

    return pick


def _bench_release(name: str) -> Callable[[dict], tuple[str, float, str] | None]:
    def pick(entry: dict) -> tuple[str, float, str] | None:
        found = (entry.get("seconds") or {}) if entry.get("kind") == "bench-release" else {}
        if not isinstance(found, dict) or not isinstance(found.get(name), int | float):
            return None
        return "bench", float(found[name]), f"{when(entry)} · {found[name]:.1f} s"

    return pick


def _bench_figure(name: str) -> Callable[[dict], tuple[str, float, str] | None]:
    def pick(entry: dict) -> tuple[str, float, str] | None:
        figures = (entry.get("figures") or {}) if entry.get("kind") == "bench" else {}
        figure = figures.get(name) if isinstance(figures, dict) else None
        if not isinstance(figure, dict) or not isinstance(figure.get("value"), int | float):
            return None
        return "bench", float(figure["value"]), f"{when(entry)} · {figure['value']:.1f} s"

    return pick


def _bench_target(entries: list[dict], name: str, default: float) -> float:
    """The target the newest bench line recorded for the figure (bench.py's own), else
    `default`."""
    for entry in reversed(entries):
        figure = (entry.get("figures") or {}).get(name) if entry.get("kind") == "bench" else None
        if isinstance(figure, dict) and isinstance(figure.get("target"), int | float):
            return float(figure["target"])
    return default


@dataclass(frozen=True)
class Trend:
    key: str
    title: str
    unit: str
    pick: Callable[[dict], tuple[str, float, str] | None]
    target: float
    target_label: str
    # What to run when the history has no such figure yet.
    how: str
    # The series the target holds for (trends.SERIES_NAMES' keys); '' for all.
    target_style: str = ""


SERIES_NAMES = {
    "noop": "no-op (nothing ran)",
    "ran": "steps ran",
    "size": "size",
    "bench": "measured",
}


def trends(entries: list[dict]) -> list[Trend]:
    noop = bench_graph.NOOP_SECONDS
    deploy = _bench_target(entries, DEPLOY, 20.0)
    fresh = _bench_target(entries, FRESH_DEPLOY, 60.0)
    found = [
        Trend(
            "release-time",
            "Release time (every invoke release)",
            "s",
            _release_seconds,
            noop,
            f"no-op ≤ {noop:g} s",
            "invoke release",
            target_style="noop",
        ),
        Trend(
            "cold-release",
            "Cold release (bench.release)",
            "s",
            _bench_release(bench_graph.COLD),
            COLD_RELEASE_SECONDS,
            f"reference {COLD_RELEASE_SECONDS / 60:g} min",
            "invoke bench.release",
        ),
        Trend(
            "noop-release",
            "No-op release (bench.release)",
            "s",
            _bench_release("no-op release"),
            noop,
            f"≤ {noop:g} s",
            "invoke bench.release",
        ),
        Trend(
            "exe-size",
            "TraderAdmin.exe",
            "MB",
            _size(r"desktop/windows-amd64/TraderAdmin\.exe"),
            desktop.EXE_BUDGET_MB,
            f"budget {desktop.EXE_BUDGET_MB:g} MB",
            "invoke release",
        ),
        Trend(
            "installer-size",
            "Windows installer",
            "MB",
            _size(r"TraderAdmin_Setup_v.*\.exe"),
            installer.INSTALLER_BUDGET_MB,
            f"budget {installer.INSTALLER_BUDGET_MB:g} MB",
            "invoke release",
        ),
    ]
    for name, component in specs.IMAGES.items():
        found.append(
            Trend(
                f"image-{name}-size",
                f"Image {name} (saved archive)",
                "MB",
                _size(rf"images/{re.escape(name)}\.tar"),
                component.budget_mb,
                f"image budget {component.budget_mb:g} MB",
                "invoke release",
            )
        )
    found += [
        Trend(
            "deploy",
            "Deploy of an unchanged release",
            "s",
            _bench_figure(DEPLOY),
            deploy,
            f"≤ {deploy:g} s",
            "invoke bench --timing deploy",
        ),
        Trend(
            "fresh-deploy",
            "Fresh deploy to all-Ready",
            "s",
            _bench_figure(FRESH_DEPLOY),
            fresh,
            f"≤ {fresh:g} s",
            "invoke bench --timing fresh-deploy",
        ),
    ]
    return found


def plot(trend: Trend, entries: list[dict]) -> plots.Plot:
    series: dict[str, tuple[str, list[plots.Value]]] = {}
    for position, entry in enumerate(entries):
        picked = trend.pick(entry)
        if picked is None:
            continue
        style, value, label = picked
        series.setdefault(SERIES_NAMES[style], (style, []))[1].append(
            plots.Value(position, value, label)
        )
    return plots.line_plot(
        trend.key,
        trend.title,
        trend.unit,
        series,
        positions=len(entries),
        target=trend.target,
        target_label=trend.target_label,
        target_style=trend.target_style,
    )


def all_plots(entries: list[dict]) -> list[tuple[Trend, plots.Plot]]:
    return [(trend, plot(trend, entries)) for trend in trends(entries)]
