"""Chart data from flow records (pure): bytes per time bucket and the intervals between connections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from leaktrace.report.model import ChartData, TrafficBucket

BUCKETS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def bucket_seconds(start: datetime, end: datetime, max_buckets: int = 48) -> int:
    total = max(1.0, (end - start).total_seconds())
    for b in BUCKETS:
        if total / b <= max_buckets:
            return b
    return BUCKETS[-1]


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def chart_data(flows: Sequence[dict[str, Any]], start: datetime | None = None,
               end: datetime | None = None) -> ChartData:
    """``flows``: rows with ``ts`` (datetime), ``bytes_out`` and ``bytes_in``, for one host and server."""
    stamps = [_aware(f["ts"]) for f in flows if isinstance(f.get("ts"), datetime)]
    if not stamps:
        return ChartData()
    lo = _aware(start) if start else min(stamps)
    hi = _aware(end) if end else max(stamps)
    lo, hi = min(lo, min(stamps)), max(hi, max(stamps))
    size = bucket_seconds(lo, hi)
    origin = datetime.fromtimestamp(int(lo.timestamp()) // size * size, tz=UTC)
    n = int((hi - origin).total_seconds() // size) + 1
    buckets = [TrafficBucket(start=origin + timedelta(seconds=i * size)) for i in range(n)]
    for f in flows:
        t = f.get("ts")
        if not isinstance(t, datetime):
            continue
        b = buckets[int((_aware(t) - origin).total_seconds() // size)]
        b.bytes_out += int(f.get("bytes_out") or 0)
        b.bytes_in += int(f.get("bytes_in") or 0)
        b.connections += 1
    ordered = sorted(stamps)
    intervals = [round((b - a).total_seconds(), 3) for a, b in zip(ordered, ordered[1:], strict=False)]
    return ChartData(bucket_seconds=size, traffic=buckets, beacon_intervals=intervals)
