"""Host clock offsets: how far each host's event times are from the network sensors' time, and the fix.

Host clocks (and log shippers that write local time as UTC) are often hours off. The network sensor's
flows are the reference. For every endpoint connection (Sysmon 3, WFP 5156, auditd connect: host, src/dst
ip and port, ts) the flows with the same 4-tuple (the 3-tuple when the event has no source port) give a
candidate offset ``flow.ts - event.ts``; the tuple is tried in both orientations (which side a host log calls
"source" is not always the originator, and the sensor may see either direction). Per host, the window of
width ``window`` seconds holding candidates of the most distinct events is kept; the median of its
candidates (one per event, the nearest to the window's median) is the offset, their median absolute deviation
the spread, and the share of all candidates inside the window (discounted below ``3 * min_matches`` agreeing
events) the confidence. A host with fewer than ``min_matches`` agreeing events gets no estimate (listed with
the reason by :func:`explain`).

A second, network-free estimate (:func:`estimate_record_time_offsets`) compares each Sysmon event's own
``UtcTime`` with the record time the log carries: a constant difference means the record time is not UTC
(a shipper writing local time as UTC, NXLog's ``EventTime``), not that the host clock is wrong.

Pure: Arrow tables in, dataclasses / Arrow tables out.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

_KEYS = ["src_ip", "src_port", "dst_ip", "dst_port"]


@dataclass(frozen=True)
class ClockOffset:
    host: str
    offset_seconds: float  # add to the host's times to get the sensor's time
    matches: int  # distinct host events supporting the estimate
    spread: float  # median absolute deviation of the supporting candidates, seconds
    confidence: float  # 0..1: share of candidate offsets that agree, discounted for few matches

    def describe(self) -> str:
        sign = "+" if self.offset_seconds >= 0 else "-"
        h = abs(self.offset_seconds) / 3600
        return (f"{self.host}: clock {sign}{h:.2f} h ({self.offset_seconds:+.1f} s) from {self.matches} matching "
                f"connections, spread {self.spread:.1f} s, confidence {self.confidence:.2f}")


@dataclass(frozen=True)
class Refusal:
    host: str
    matched_events: int
    reason: str


def _epoch_seconds(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    us = pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64())
    return pc.divide(pc.cast(us, pa.float64()), 1_000_000.0)


def _candidates(endpoint_conn: pa.Table, conn: pa.Table, max_abs_offset: float) -> pa.Table:
    """Columns: host, event (row index), offset."""
    ev = pa.table({
        "host": endpoint_conn.column("host"),
        "event": pa.array(range(endpoint_conn.num_rows), pa.int64()),
        "ev_ts": _epoch_seconds(endpoint_conn.column("ts")),
        **{k: endpoint_conn.column(k) for k in _KEYS},
    })
    ev = ev.filter(pc.and_(pc.is_valid(ev["host"]), pc.and_(pc.is_valid(ev["dst_ip"]), pc.is_valid(ev["ev_ts"]))))
    ev = ev.filter(pc.and_(pc.is_valid(ev["src_ip"]), pc.is_valid(ev["dst_port"])))
    fl = pa.table({
        "fl_ts": _epoch_seconds(conn.column("ts")),
        **{k: pc.cast(conn.column(k), pa.string() if k.endswith("ip") else pa.int32()) for k in _KEYS},
    })
    ev = ev.set_column(ev.schema.get_field_index("src_port"), "src_port", pc.cast(ev["src_port"], pa.int32()))
    ev = ev.set_column(ev.schema.get_field_index("dst_port"), "dst_port", pc.cast(ev["dst_port"], pa.int32()))
    has_sport = pc.and_(pc.is_valid(ev["src_port"]), pc.greater(pc.fill_null(ev["src_port"], 0), 0))
    swapped = ev.rename_columns(["host", "event", "ev_ts", "dst_ip", "dst_port", "src_ip", "src_port"])
    parts = []
    for oriented in (ev, swapped):
        with_port = oriented.filter(has_sport)
        without = oriented.filter(pc.invert(has_sport))
        if with_port.num_rows:
            parts.append(with_port.join(fl, keys=_KEYS, join_type="inner"))
        if without.num_rows and oriented is ev:
            parts.append(without.drop_columns(["src_port"]).join(
                fl.drop_columns(["src_port"]), keys=["src_ip", "dst_ip", "dst_port"], join_type="inner"))
    if not parts:
        return pa.table({"host": pa.array([], pa.string()), "event": pa.array([], pa.int64()),
                         "offset": pa.array([], pa.float64())})
    cols = []
    for p in parts:
        cols.append(pa.table({"host": p["host"], "event": p["event"], "offset": pc.subtract(p["fl_ts"], p["ev_ts"])}))
    out = pa.concat_tables(cols)
    return out.filter(pc.less_equal(pc.abs(out["offset"]), max_abs_offset))


def _densest(offsets: list[tuple[float, int]], window: float) -> tuple[int, int]:
    """Indices [i, j) of the window of width ``window`` holding the most distinct events, then the most
    candidates (``offsets`` sorted)."""
    best = (0, 0, 0, 0)
    counts: dict[int, int] = {}
    i = 0
    for j in range(len(offsets)):
        counts[offsets[j][1]] = counts.get(offsets[j][1], 0) + 1
        while offsets[j][0] - offsets[i][0] > window:
            e = offsets[i][1]
            counts[e] -= 1
            if counts[e] == 0:
                del counts[e]
            i += 1
        if (len(counts), j + 1 - i) > best[:2]:
            best = (len(counts), j + 1 - i, i, j + 1)
    return best[2], best[3]


def estimate_offsets(
    endpoint_conn: pa.Table,
    conn: pa.Table,
    min_matches: int = 3,
    window: float = 120.0,
    max_abs_offset: float = 14 * 86_400.0,
) -> list[ClockOffset]:
    """One :class:`ClockOffset` per host with enough matching connections (see the module doc)."""
    return [r for r in _estimate(endpoint_conn, conn, min_matches, window, max_abs_offset)
            if isinstance(r, ClockOffset)]


def explain(
    endpoint_conn: pa.Table,
    conn: pa.Table,
    min_matches: int = 3,
    window: float = 120.0,
    max_abs_offset: float = 14 * 86_400.0,
) -> list[ClockOffset | Refusal]:
    """Estimates and refusals (with the reason) for every host that has endpoint connections."""
    return _estimate(endpoint_conn, conn, min_matches, window, max_abs_offset)


def _estimate(endpoint_conn: pa.Table, conn: pa.Table, min_matches: int, window: float,
              max_abs_offset: float) -> list[ClockOffset | Refusal]:
    hosts = sorted(h for h in pc.unique(endpoint_conn.column("host")).to_pylist() if h is not None)
    cands = _candidates(endpoint_conn, conn, max_abs_offset) if endpoint_conn.num_rows and conn.num_rows else None
    by_host: dict[str, list[tuple[float, int]]] = {h: [] for h in hosts}
    if cands is not None:
        for h, e, o in zip(cands["host"].to_pylist(), cands["event"].to_pylist(), cands["offset"].to_pylist(),
                           strict=True):
            by_host.setdefault(h, []).append((o, e))
    out: list[ClockOffset | Refusal] = []
    for host in sorted(by_host):
        offs = sorted(by_host[host])
        matched = len({e for _, e in offs})
        if matched == 0:
            out.append(Refusal(host, 0, "no endpoint connection matches a network flow"))
            continue
        i, j = _densest(offs, window)
        inside = offs[i:j]
        support = len({e for _, e in inside})
        if support < min_matches:
            out.append(Refusal(host, matched, f"only {support} agreeing matches (need {min_matches})"))
            continue
        # one candidate per event (the one nearest the window's median) so busy tuples do not weigh more
        mid = statistics.median(o for o, _ in inside)
        per_event: dict[int, float] = {}
        for o, e in inside:
            if e not in per_event or abs(o - mid) < abs(per_event[e] - mid):
                per_event[e] = o
        values = list(per_event.values())
        offset = statistics.median(values)
        spread = statistics.median(abs(v - offset) for v in values)
        # share of all candidates that agree, discounted when the agreeing events are few
        confidence = (len(inside) / len(offs)) * min(1.0, support / (3 * min_matches))
        out.append(ClockOffset(host, round(offset, 3), support, round(spread, 3), round(confidence, 3)))
    return out


def apply_offsets(table: pa.Table, offsets: list[ClockOffset], ts_column: str = "ts",
                  host_column: str = "host") -> pa.Table:
    """``table`` with ``ts`` corrected per host; adds ``ts_raw`` (the time as logged) and ``clock_offset``
    (seconds added; null for hosts without an estimate, whose ``ts`` is left unchanged)."""
    by_host = {o.host: o.offset_seconds for o in offsets}
    hosts = table.column(host_column).to_pylist()
    shift = pa.array([by_host.get(h) if h is not None else None for h in hosts], pa.float64())
    ts = table.column(ts_column)
    ts_type = ts.type
    us = pc.cast(pc.cast(ts, pa.timestamp("us", tz="UTC")), pa.int64())
    delta = pc.cast(pc.round(pc.multiply(pc.fill_null(shift, 0.0), 1_000_000.0)), pa.int64())
    fixed = pc.cast(pc.cast(pc.add(us, delta), pa.timestamp("us", tz="UTC")), ts_type)
    out = table.set_column(table.schema.get_field_index(ts_column), ts_column, fixed)
    if "ts_raw" in out.column_names:
        out = out.drop_columns(["ts_raw"])
    if "clock_offset" in out.column_names:
        out = out.drop_columns(["clock_offset"])
    return out.append_column("ts_raw", ts).append_column("clock_offset", shift)


# Sysmon events whose UtcTime is not the time of the record (network: first packet of a cached flow; DNS)
_STALE_UTCTIME = {3, 22}


def _utc_seconds(text: str) -> float | None:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def estimate_record_time_offsets(
    table: pa.Table, min_matches: int = 3, window: float = 120.0
) -> list[ClockOffset]:
    """Per host: how far the record times (``ts``) are from Sysmon's own ``UtcTime`` (in ``extra``).

    Works on any endpoint table written by the Windows ingesters (``process``, ``file_event``...). Sysmon 3
    and 22 are left out: their UtcTime is when a cached flow or query began, not when the record was written.
    """
    if table.num_rows == 0 or "extra" not in table.column_names:
        return []
    hosts = table.column("host").to_pylist()
    ts = _epoch_seconds(table.column("ts")).to_pylist()
    by_host: dict[str, list[tuple[float, int]]] = {}
    for i, extra in enumerate(table.column("extra").to_pylist()):
        if not extra or "UtcTime" not in extra or hosts[i] is None or ts[i] is None:
            continue
        fields = json.loads(extra)
        if fields.get("event_id") in _STALE_UTCTIME or not isinstance(fields.get("UtcTime"), str):
            continue
        utc = _utc_seconds(fields["UtcTime"])
        if utc is not None:
            by_host.setdefault(hosts[i], []).append((utc - ts[i], i))
    out = []
    for host, offs in sorted(by_host.items()):
        offs.sort()
        i, j = _densest(offs, window)
        inside = [o for o, _ in offs[i:j]]
        if len(inside) < min_matches:
            continue
        offset = statistics.median(inside)
        spread = statistics.median(abs(v - offset) for v in inside)
        confidence = (len(inside) / len(offs)) * min(1.0, len(inside) / (3 * min_matches))
        out.append(ClockOffset(host, round(offset, 3), len(inside), round(spread, 3), round(confidence, 3)))
    return out
