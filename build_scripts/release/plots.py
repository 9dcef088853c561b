"""Small line plots as inline SVG: the geometry here, the markup in templates/report.html.j2.

Our own few lines rather than a plotting library: a trend is a handful of points and a target
line, the page must load nothing (pygal's SVG links its tooltip script from the web unless told
otherwise, and matplotlib is a large dependency for nine small pictures), and markup we write
ourselves can carry what a screen reader and the browser scenario need: a title and a
description per plot, a `<title>` per point, one element per point to count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 340, 170
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 26


@dataclass(frozen=True)
class Value:
    """One measurement: where it stands in the history (0 = oldest entry), and what it says."""

    position: int
    value: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    # A CSS class: colour and marker of this series (defined in the template's style).
    style: str
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Plot:
    key: str
    title: str
    unit: str
    series: list[Series]
    target: float | None
    target_label: str
    target_y: float | None
    ticks: list[tuple[float, str]]
    summary: str
    # The newest value is over the target.
    over: bool = False
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: float = HEIGHT - BOTTOM
    right_x: float = WIDTH - RIGHT
    x_labels: list[tuple[float, str]] = field(default_factory=list)

    @property
    def point_count(self) -> int:
        return sum(len(s.points) for s in self.series)


def nice_step(span: float, count: int = 4) -> float:
    """A round tick distance (1, 2 or 5 times a power of ten) giving about `count` ticks."""
    if span <= 0:
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def format_number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def line_plot(
    key: str,
    title: str,
    unit: str,
    series: dict[str, tuple[str, list[Value]]],
    *,
    positions: int,
    target: float | None,
    target_label: str = "",
    target_style: str = "",
) -> Plot:
    """series: name -> (style, values); positions: how many entries the history has (the x
    axis spans all of them, so every plot of one page lines up); target_style: the series the
    target holds for (the no-op releases among all releases), else every one."""
    values = [v.value for _, found in series.values() for v in found]
    top = max([*values, target or 0.0, 0.0])
    step = nice_step(top * 1.1 if top else 1.0)
    ceiling = step * max(1, math.ceil(top * 1.1 / step)) if top else step * 4
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM

    def x_of(position: int) -> float:
        if positions <= 1:
            return LEFT + inner_w / 2
        return LEFT + inner_w * position / (positions - 1)

    def y_of(value: float) -> float:
        return TOP + inner_h * (1 - value / ceiling)

    drawn = [
        Series(name, style, [Point(x_of(v.position), y_of(v.value), v.label) for v in found])
        for name, (style, found) in series.items()
    ]
    ticks = []
    tick = 0.0
    while tick <= ceiling + step / 1000:
        ticks.append((round(y_of(tick), 1), format_number(tick)))
        tick += step
    newest = max(
        (v for _, found in series.values() for v in found),
        key=lambda v: v.position,
        default=None,
    )
    judged = max(
        (v for style, found in series.values() if style == (target_style or style) for v in found),
        key=lambda v: v.position,
        default=None,
    )
    over = bool(judged and target is not None and judged.value > target)
    if newest is None:
        summary = "no measurement yet"
    else:
        summary = f"newest {format_number(newest.value)} {unit}"
        if target is not None and judged is not None:
            checked = "" if judged is newest else f" (the newest it holds for: {judged.value:.1f})"
            summary += f", {'OVER' if over else 'within'} the target {target_label}{checked}"
        summary += f"; {len(values)} measurement(s)"
    x_labels = [(x_of(0), "oldest"), (x_of(positions - 1), "newest")] if positions > 1 else []
    return Plot(
        key,
        title,
        unit,
        drawn,
        target,
        target_label,
        round(y_of(target), 1) if target is not None else None,
        ticks,
        summary,
        over,
        x_labels=x_labels,
    )
