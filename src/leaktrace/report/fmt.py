"""Formatting shared by the renderers: sizes, times, spans (pure)."""

from __future__ import annotations

from datetime import UTC, datetime


def human_bytes(n: int | float | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} TB"


def ts(dt: datetime | None, seconds: bool = True) -> str:
    if dt is None:
        return ""
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"


def span(start: datetime, end: datetime) -> str:
    return f"{ts(start, False)} – {ts(end, False)}"


def pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.0f}%"
