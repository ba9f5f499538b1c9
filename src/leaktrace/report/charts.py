"""Charts as inline SVG strings (no external resources, no plotting library): pure functions of the data.

Each chart is a small, self-contained ``<svg>`` with a ``<title>``; text is escaped. WeasyPrint renders them in
the PDF as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

from leaktrace.report.fmt import human_bytes
from leaktrace.report.model import TrafficBucket

W, H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 12, 24, 44
COLORS = {"out": "#c0392b", "in": "#2e86c1", "bar": "#34495e", "levels": "#8e44ad"}
FONT = 'font-family="IPAexGothic, Noto Sans CJK JP, Noto Sans JP, sans-serif" font-size="11"'


def _frame(title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
        f'role="img" aria-label="{escape(title)}" {FONT}>'
        f"<title>{escape(title)}</title>"
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>'
        + "".join(body)
        + "</svg>"
    )


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _axes(ymax: float, fmt_y: str = "bytes") -> list[str]:
    out = [
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#555"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#555"/>',
    ]
    for i in range(5):
        v = ymax * i / 4
        y = H - BOTTOM - (H - TOP - BOTTOM) * i / 4
        label = human_bytes(v) if fmt_y == "bytes" else f"{v:,.0f}"
        out.append(f'<line x1="{LEFT - 3}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    return out


def _empty(title: str, message: str) -> str:
    return _frame(title, [f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" fill="#777">{escape(message)}</text>'])


def bars(title: str, labels: Sequence[str], values: Sequence[float], *, color: str = COLORS["bar"],
         y_format: str = "count", empty: str = "no data", every: int = 1) -> str:
    """A bar chart; ``every`` prints one x label in so many."""
    if not values or max(values) <= 0:
        return _empty(title, empty)
    ymax = _nice_max(max(values))
    if y_format == "count":
        ymax = max(4.0, math.ceil(ymax / 4) * 4)  # whole numbers on every tick
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / len(values)
    body = _axes(ymax, y_format)
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * v / ymax
        x = LEFT + i * step
        bw = max(1.0, step * 0.8)
        body.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{H - BOTTOM - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
            f'fill="{color}"><title>{escape(label)}: {v:,.0f}</title></rect>'
        )
        if i % every == 0:
            body.append(
                f'<text x="{x + step / 2:.1f}" y="{H - BOTTOM + 14}" text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(title, body)


def traffic_chart(title: str, buckets: Sequence[TrafficBucket], *, legend: str = "bytes sent",
                  empty: str = "no data") -> str:
    """Bytes sent per time bucket (bars), with the start time of some buckets under the axis."""
    if not buckets:
        return _empty(title, empty)
    labels = [_time_label(b.start, buckets[0].start, buckets[-1].start) for b in buckets]
    every = max(1, math.ceil(len(buckets) / 8))
    svg = bars(title, labels, [float(b.bytes_out) for b in buckets], color=COLORS["out"], y_format="bytes",
               empty=empty, every=every)
    key = (f'<rect x="{W - RIGHT - 120}" y="6" width="10" height="10" fill="{COLORS["out"]}"/>'
           f'<text x="{W - RIGHT - 106}" y="15">{escape(legend)}</text>')
    return svg.replace("</svg>", key + "</svg>")


def _time_label(dt: datetime, first: datetime, last: datetime) -> str:
    return dt.strftime("%H:%M") if first.date() == last.date() else dt.strftime("%m-%d %H:%M")


def histogram(title: str, values: Sequence[float], *, bins: int = 24, unit: str = "s",
              empty: str = "no data") -> str:
    """A histogram of ``values`` (e.g. seconds between beacons), clipped at the 98th percentile."""
    data = sorted(v for v in values if v >= 0)
    if len(data) < 2:
        return _empty(title, empty)
    hi = data[min(len(data) - 1, int(len(data) * 0.98))]
    lo = data[0]
    if hi <= lo:
        hi = lo + 1
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in data:
        counts[min(bins - 1, int((min(v, hi) - lo) / width))] += 1
    digits = 0 if width >= 1 else 1 if width >= 0.1 else 2
    labels = [f"{lo + width * i:,.{digits}f}{unit}" for i in range(bins)]
    return bars(title, labels, [float(c) for c in counts], every=max(1, bins // 6), empty=empty)


def levels_chart(title: str, by_level: dict[str, int], *, empty: str = "no data") -> str:
    if not by_level:
        return _empty(title, empty)
    items = list(by_level.items())
    return bars(title, [k for k, _ in items], [float(v) for _, v in items], color=COLORS["levels"], empty=empty)
