"""Chart data from flows and the inline SVG charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leaktrace.report import charts
from leaktrace.report.chartdata import bucket_seconds, chart_data

T0 = datetime(2026, 3, 2, 6, 10, tzinfo=UTC)


def test_chart_data_buckets_and_intervals() -> None:
    flows = [{"ts": T0 + timedelta(seconds=60 * i), "bytes_out": 100, "bytes_in": 10} for i in range(120)]
    flows.append({"ts": T0 + timedelta(minutes=30, seconds=5), "bytes_out": 5_000_000, "bytes_in": 0})
    data = chart_data(flows)
    assert data.bucket_seconds == bucket_seconds(T0, T0 + timedelta(hours=2)) == 300
    assert data.traffic[0].start == datetime(2026, 3, 2, 6, 10, tzinfo=UTC)
    assert sum(b.bytes_out for b in data.traffic) == 120 * 100 + 5_000_000
    assert sum(b.connections for b in data.traffic) == 121
    assert len(data.beacon_intervals) == 120 and max(data.beacon_intervals) == 60.0
    assert chart_data([]).traffic == []


def test_svg_charts_are_inline_and_escaped() -> None:
    svg = charts.levels_chart("levels <x>", {"機密性2": 3, "a&b": 1})
    assert svg.startswith("<svg") and "<title>levels &lt;x&gt;</title>" in svg and "a&amp;b" in svg
    assert "http" not in svg and "<image" not in svg
    assert "no data" in charts.histogram("t", [1.0])
    assert "<rect" in charts.histogram("t", [60.0, 60.5, 59.5, 61.0, 60.0])
    assert "nothing" in charts.traffic_chart("t", [], empty="nothing")
