"""The statistics report as an SVG chart (pygal): hits and visitors per day, or the values of
one section with the most hits over the days. No I/O: it draws what it is given."""

from __future__ import annotations

from collections.abc import Sequence

import pygal

from services.catalog.domain import SECTIONS, Counter, DayTotal, Dimension, top_values

TOP = 10
# The chart is an image: no script of its own may run wherever it is opened.
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
_TITLES = {
    "days": "Hits and visitors per day",
    "pages": "Pages",
    "products": "Product pages",
    "referrers": "Referring sites",
    "cities": "Cities",
    "regions": "Regions",
    "browsers": "Browsers",
    "os": "Operating systems",
}
_PLACES = ("cities", "regions")


def _title(dimension: Dimension, start: str, end: str, attribution: str) -> str:
    title = f"{_TITLES[dimension]}, {start} to {end}"
    if dimension in _PLACES and attribution:
        title += f"\n{attribution}"
    return title


def chart_svg(
    dimension: Dimension,
    start: str,
    end: str,
    days: Sequence[DayTotal],
    counters: Sequence[Counter],
    *,
    attribution: str = "",
    names: dict[str, str] | None = None,
) -> bytes:
    """The SVG document of one chart; its labels are text (escaped by the library)."""
    title = _title(dimension, start, end, attribution)
    if dimension == "days":
        chart = pygal.Line(js=[], title=title, x_label_rotation=30, width=900, height=450)
        chart.x_labels = [d.day.isoformat() for d in days]
        chart.add("hits", [d.hits for d in days])
        chart.add("visitors", [d.visitors for d in days])
        return bytes(chart.render())
    ranked = top_values(counters, SECTIONS[dimension], TOP)
    labels = [(names or {}).get(value, value) or "(none)" for value, _ in ranked]
    chart = pygal.HorizontalBar(js=[], title=title, show_legend=False, width=900, height=450)
    chart.x_labels = labels
    chart.add("hits", [hits for _, hits in ranked])
    return bytes(chart.render())
