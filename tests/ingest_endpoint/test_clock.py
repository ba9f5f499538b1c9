"""Clock offsets: synthetic cases (estimate, refusal, orientation, correction)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from leaktrace.clock import ClockOffset, Refusal, apply_offsets, estimate_offsets, explain
from leaktrace.schema import conform

T0 = datetime(2023, 8, 18, 16, 0, tzinfo=UTC)


def _endpoint(rows: list[tuple[str, datetime, str, int | None, str, int]]) -> pa.Table:
    host, ts, sip, sport, dip, dport = zip(*rows, strict=True) if rows else ([], [], [], [], [], [])
    return conform("endpoint_conn", pa.table({
        "host": pa.array(host, pa.string()), "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "src_ip": pa.array(sip, pa.string()), "src_port": pa.array(sport, pa.int32()),
        "dst_ip": pa.array(dip, pa.string()), "dst_port": pa.array(dport, pa.int32()),
    }))


def _conn(rows: list[tuple[datetime, str, int, str, int]]) -> pa.Table:
    ts, sip, sport, dip, dport = zip(*rows, strict=True)
    return conform("conn", pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")), "src_ip": pa.array(sip, pa.string()),
        "src_port": pa.array(sport, pa.int32()), "dst_ip": pa.array(dip, pa.string()),
        "dst_port": pa.array(dport, pa.int32()),
    }))


EventRow = tuple[str, datetime, str, int | None, str, int]
FlowRow = tuple[datetime, str, int, str, int]


def _scenario(offset_s: float, n: int, host: str = "pc1", ip: str = "10.0.0.5", noise: int = 0
              ) -> tuple[list[EventRow], list[FlowRow]]:
    ev: list[EventRow] = []
    fl: list[FlowRow] = []
    for i in range(n):
        t = T0 + timedelta(seconds=37 * i)
        fl.append((t, ip, 50000 + i, "10.0.5.13", 443))
        # the host logs the connection ~2 s later, on a clock offset_s behind
        ev.append((host, t - timedelta(seconds=offset_s) + timedelta(seconds=2 + (i % 3)), ip, 50000 + i,
                   "10.0.5.13", 443))
    for i in range(noise):  # flows that match nothing, and events that match nothing
        fl.append((T0 + timedelta(seconds=11 * i), "10.0.0.99", 40000 + i, "8.8.8.8", 53))
        ev.append((host, T0 + timedelta(seconds=13 * i), ip, 60000 + i, "1.1.1.1", 443))
    return ev, fl


def test_offset_is_estimated_with_confidence() -> None:
    ev, fl = _scenario(7 * 3600, 20, noise=30)
    (est,) = estimate_offsets(_endpoint(ev), _conn(fl))
    assert est.host == "pc1"
    assert abs(est.offset_seconds - (7 * 3600 - 3)) <= 1.5
    assert est.matches == 20 and est.spread <= 1.0 and est.confidence == 1.0
    assert "+7.00 h" in est.describe()


def test_too_few_matches_are_refused() -> None:
    ev, fl = _scenario(3600, 2)
    assert estimate_offsets(_endpoint(ev), _conn(fl), min_matches=3) == []
    (why,) = explain(_endpoint(ev), _conn(fl), min_matches=3)
    assert isinstance(why, Refusal) and why.matched_events == 2 and "only 2" in why.reason


def test_hosts_without_matches_are_explained() -> None:
    ev, fl = _scenario(0, 5)
    ev.append(("pc2", T0, "10.0.0.6", 1234, "10.9.9.9", 80))
    results = {r.host: r for r in explain(_endpoint(ev), _conn(fl))}
    assert isinstance(results["pc1"], ClockOffset)
    assert isinstance(results["pc2"], Refusal) and results["pc2"].matched_events == 0


def test_inbound_connections_match_reversed_and_without_source_port() -> None:
    """Windows logs inbound connections with the local side as source; events may lack a source port."""
    fl = [(T0 + timedelta(seconds=60 * i), "10.0.5.13", 40000 + i, "10.0.0.5", 445) for i in range(4)]
    ev: list[tuple[str, datetime, str, int | None, str, int]] = [
        ("srv", t - timedelta(hours=-2), dip, dport, sip, sport) for t, sip, sport, dip, dport in fl]
    ev += [("ws", T0 + timedelta(seconds=5 * i) - timedelta(hours=1), "10.0.0.7", None, "10.0.0.5", 445)
           for i in range(3)]
    fl += [(T0 + timedelta(seconds=5 * i), "10.0.0.7", 51000 + i, "10.0.0.5", 445) for i in range(3)]
    by_host = {o.host: o for o in estimate_offsets(_endpoint(ev), _conn(fl))}
    assert round(by_host["srv"].offset_seconds) == -7200
    assert round(by_host["ws"].offset_seconds) == 3600


def test_a_wrong_minority_does_not_move_the_estimate() -> None:
    ev, fl = _scenario(600, 15)
    # 4 port-reuse look-alikes a day later
    fl += [(T0 + timedelta(days=1, seconds=37 * i), "10.0.0.5", 50000 + i, "10.0.5.13", 443) for i in range(4)]
    (est,) = estimate_offsets(_endpoint(ev), _conn(fl))
    assert abs(est.offset_seconds - 597) <= 1.5
    assert est.matches == 15 and round(est.confidence, 2) == round(15 / 19, 2)


def test_apply_offsets_corrects_ts_and_keeps_the_raw_time() -> None:
    table = _endpoint([("pc1", T0, "10.0.0.5", 1, "1.2.3.4", 80), ("pc2", T0, "10.0.0.6", 1, "1.2.3.4", 80)])
    fixed = apply_offsets(table, [ClockOffset("pc1", 3600.5, 10, 1.0, 1.0)])
    assert fixed.column("ts").to_pylist() == [T0 + timedelta(seconds=3600.5), T0]
    assert fixed.column("ts_raw").to_pylist() == [T0, T0]
    assert fixed.column("clock_offset").to_pylist() == [3600.5, None]
    assert fixed.schema.field("ts").type == table.schema.field("ts").type
    # applying again replaces the bookkeeping columns instead of duplicating them
    assert apply_offsets(fixed, []).column_names.count("ts_raw") == 1


def test_empty_inputs() -> None:
    empty = _endpoint([])
    assert estimate_offsets(empty, _conn([(T0, "a", 1, "b", 2)])) == []


def test_record_time_offsets_from_sysmon_utctime() -> None:
    from leaktrace.clock import estimate_record_time_offsets

    base = T0 - timedelta(hours=7)  # record times: local time (UTC-7) written as UTC
    extras = [json.dumps({"event_id": 1, "UtcTime": (T0 + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]})
              for i in range(5)]
    extras.append(json.dumps({"event_id": 3, "UtcTime": "2023-08-10 14:39:12.046"}))  # stale, ignored
    table = conform("process", pa.table({
        "host": ["pc1"] * 6, "ts": pa.array([base + timedelta(seconds=i) for i in range(6)],
                                            pa.timestamp("us", tz="UTC")), "extra": extras}))
    (est,) = estimate_record_time_offsets(table)
    assert (est.host, est.offset_seconds, est.matches, est.confidence) == ("pc1", 7 * 3600, 5, round(5 / 9, 3))
