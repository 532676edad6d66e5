"""Charts drawn on the server as accessible SVG: no script, no charting service.

A chart is a :class:`BarChart` (categories along the bottom, one bar per series in each,
grouped or stacked). :func:`svg` draws it with a ``<title>`` and ``<desc>`` that a screen
reader announces; the template macro ``chart`` in ``dashboard/_charts.html`` puts the
drawing in a ``<figure>`` with the same numbers as a table, so nothing is shown only as
a picture. Series differ by colour *and* by fill pattern, so a chart stays readable when
printed in black and white.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

#: Fill colour and pattern of each series, in order (the pattern of series 0 is solid).
PALETTE = ("#1f5f99", "#c05a00", "#2e7d32", "#7b3f98", "#8d6e00", "#00838f")
PATTERNS = ("solid", "hatch", "dots", "cross", "vertical", "horizontal")

WIDTH = 640
HEIGHT = 300
MARGIN_LEFT = 56
MARGIN_RIGHT = 12
MARGIN_TOP = 16
MARGIN_BOTTOM = 64


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class BarChart:
    """Bars for ``categories`` (x axis), one per series; ``stacked`` piles the series."""

    #: A unique id for the figure's elements on the page (letters, digits, dashes).
    key: str
    title: str
    description: str
    categories: Sequence[str]
    series: Sequence[Series]
    #: Axis label of the values, e.g. "Hours" or "Attempts".
    value_label: str
    #: Header of the categories' column in the data table, e.g. "Month" or "Score".
    category_label: str
    stacked: bool = False
    #: Formats a value for the axis ticks and the data table.
    format_value: Callable[[float], str] = field(default=lambda value: f"{value:g}")

    @property
    def totals(self) -> list[float]:
        return [sum(s.values[i] for s in self.series) for i in range(len(self.categories))]

    @property
    def highest(self) -> float:
        if not self.categories or not self.series:
            return 0.0
        if self.stacked:
            return max(self.totals)
        return max(max(s.values, default=0) for s in self.series)

    @property
    def is_empty(self) -> bool:
        return self.highest <= 0


def nice_ticks(highest: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``highest``: 0, 20, 40 ... rather than 0, 17.3."""
    if highest <= 0:
        return [0.0, 1.0]
    raw = highest / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(highest / step - 1e-9) * step
    return [round(i * step, 10) for i in range(int(round(top / step)) + 1)]


def _patterns(key: str) -> str:
    shapes = {
        "hatch": '<path d="M0,6 L6,0" stroke="#fff" stroke-width="1.5"/>',
        "dots": '<circle cx="3" cy="3" r="1.3" fill="#fff"/>',
        "cross": '<path d="M0,0 L6,6 M6,0 L0,6" stroke="#fff" stroke-width="1"/>',
        "vertical": '<path d="M3,0 L3,6" stroke="#fff" stroke-width="1.5"/>',
        "horizontal": '<path d="M0,3 L6,3" stroke="#fff" stroke-width="1.5"/>',
    }
    parts = []
    for index, (colour, pattern) in enumerate(zip(PALETTE, PATTERNS, strict=True)):
        if pattern == "solid":
            continue
        parts.append(
            f'<pattern id="{key}-p{index}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{colour}"/>{shapes[pattern]}</pattern>'
        )
    return f"<defs>{''.join(parts)}</defs>"


def fill(key: str, index: int) -> str:
    """The SVG fill of series ``index``: its colour, or its pattern."""
    index %= len(PALETTE)
    return PALETTE[index] if PATTERNS[index] == "solid" else f"url(#{key}-p{index})"


def _label(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def svg(chart: BarChart) -> Markup:
    """The chart as an inline ``<svg>``, labelled by its title and description."""
    key = chart.key
    ticks = nice_ticks(chart.highest)
    top = ticks[-1] or 1
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base = MARGIN_TOP + plot_h

    def y(value: float) -> float:
        return base - plot_h * value / top

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{key}-title {key}-desc" '
        'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{key}-title">{escape(chart.title)}</title>',
        f'<desc id="{key}-desc">{escape(chart.description)}</desc>',
        _patterns(key),
    ]
    for tick in ticks:
        out.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(chart.format_value(tick))}</text>"
        )
    out.append(
        f'<text x="12" y="{MARGIN_TOP + plot_h / 2:.1f}" class="axis-label" text-anchor="middle" '
        f'transform="rotate(-90 12 {MARGIN_TOP + plot_h / 2:.1f})">{escape(chart.value_label)}'
        "</text>"
    )
    count = max(len(chart.categories), 1)
    slot = plot_w / count
    bars = 1 if chart.stacked else max(len(chart.series), 1)
    bar_w = max(slot * 0.8 / bars, 1.0)
    rotate = count > 8
    for i, category in enumerate(chart.categories):
        left = MARGIN_LEFT + i * slot + slot * 0.1
        stack = 0.0
        for s_index, series in enumerate(chart.series):
            value = series.values[i]
            if chart.stacked:
                x, bottom, stack = left, stack, stack + value
            else:
                x, bottom = left + s_index * bar_w, 0.0
            height = y(bottom) - y(bottom + value)
            if height <= 0:
                continue
            out.append(
                f'<rect x="{x:.1f}" y="{y(bottom + value):.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}" fill="{fill(key, s_index)}">'
                f"<title>{escape(category)}, {escape(series.name)}: "
                f"{escape(chart.format_value(value))}</title></rect>"
            )
        centre = MARGIN_LEFT + (i + 0.5) * slot
        if rotate:
            out.append(
                f'<text x="{centre:.1f}" y="{base + 12}" class="tick" text-anchor="end" '
                f'transform="rotate(-45 {centre:.1f} {base + 12})">{escape(_label(category))}'
                "</text>"
            )
        else:
            out.append(
                f'<text x="{centre:.1f}" y="{base + 16}" class="tick" text-anchor="middle">'
                f"{escape(_label(category))}</text>"
            )
    out.append(
        f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{base}" y2="{base}" '
        'class="axis"/></svg>'
    )
    return Markup("".join(out))  # noqa: S704 - every text above is escaped
