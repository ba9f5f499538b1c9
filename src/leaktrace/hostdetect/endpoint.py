"""The endpoint records host detectors read: process, file and event rows with corrected clocks and the host's
network address.

Host clocks are often hours off (the OTRF sets: 7 and 19 h). Each host's offset is estimated from its
endpoint connections matched to the sensor's flows (:mod:`leaktrace.clock`) and added to every endpoint time,
so host findings line up with the network findings of the same incident. A host without an estimate keeps
its times (noted in ``EndpointView.notes``).

The host's address (to key findings like network ones) is the internal source address its own connections
used most; else the ``assets`` table's address for its name; else none (the finding then names the host).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from leaktrace.clock import ClockOffset, apply_offsets, estimate_offsets
from leaktrace.detect.net import internal_host

Row = dict[str, Any]
ENDPOINT_TABLES = ("process", "file_event", "endpoint_conn", "win_event")
LOOKBACK = timedelta(hours=24)  # history read before ``since`` so a chain that began earlier is still seen


@dataclass
class EndpointView:
    process: list[Row] = field(default_factory=list)
    file_event: list[Row] = field(default_factory=list)
    endpoint_conn: list[Row] = field(default_factory=list)
    win_event: list[Row] = field(default_factory=list)
    host_ip: dict[str, str] = field(default_factory=dict)  # endpoint host name -> network address
    offsets: dict[str, ClockOffset] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def ip_of(self, host: str | None) -> str:
        if not host:
            return "unknown"
        return self.host_ip.get(host) or self.host_ip.get(host.split(".")[0].casefold()) or host

    def rows(self, table: str) -> list[Row]:
        return list(getattr(self, table))


def host_addresses(endpoint_conn: list[Row], assets: list[Row], internal: list[str]) -> dict[str, str]:
    """Endpoint host name -> the internal address it used most as a source (else the assets table's)."""
    used: dict[str, Counter[str]] = {}
    for r in endpoint_conn:
        host, ip = r.get("host"), r.get("src_ip")
        if host and ip and internal_host(ip, internal):
            used.setdefault(host, Counter())[ip] += 1
    out = {h: c.most_common(1)[0][0] for h, c in used.items()}
    by_name: dict[str, str] = {}
    for a in sorted(assets, key=lambda a: a.get("ts") or datetime.min.replace(tzinfo=UTC)):
        name, ip = a.get("host_name"), a.get("ip")
        if name and ip and internal_host(ip, internal):
            by_name[name.split(".")[0].casefold()] = ip
    for short, ip in by_name.items():
        out.setdefault(short, ip)
    return out


def _table(engine: Any, name: str) -> Any | None:
    try:
        return engine.table(name)
    except Exception:  # noqa: BLE001 - an engine without this table (no endpoint data yet) is not an error
        return None


def _arrow(expr: Any) -> pa.Table:
    return expr.to_pyarrow()


def load_view(engine: Any, internal: list[str], since: datetime | None = None) -> EndpointView:
    """Read the endpoint tables (from ``since`` minus the look-back, with a day's margin for clock offsets),
    estimate each host's clock offset and correct every time."""
    view = EndpointView()
    tables: dict[str, pa.Table] = {}
    lo = since - LOOKBACK - timedelta(days=1) if since else None
    for name in ENDPOINT_TABLES:
        t = _table(engine, name)
        if t is None:
            continue
        expr = t.filter(t.ts >= lo) if lo is not None else t
        tables[name] = _arrow(expr)
    ec = tables.get("endpoint_conn")
    if ec is None or not any(tables[n].num_rows for n in tables):
        return view
    offsets = host_offsets(engine, ec)
    view.offsets = {o.host: o for o in offsets}
    for name, table in tables.items():
        fixed = apply_offsets(table, offsets) if table.num_rows else table
        rows = fixed.to_pylist()
        if lo is not None and since is not None:
            rows = [r for r in rows if r.get("ts") is not None and r["ts"] >= since - LOOKBACK]
        rows.sort(key=lambda r: r.get("ts") or datetime.min.replace(tzinfo=UTC))
        setattr(view, name, rows)
    assets_t = _table(engine, "assets")
    assets = _arrow(assets_t.select("ts", "ip", "host_name")).to_pylist() if assets_t is not None else []
    view.host_ip = host_addresses(view.endpoint_conn, assets, internal)
    hosts = {r.get("host") for n in ENDPOINT_TABLES for r in getattr(view, n) if r.get("host")}
    for h in sorted(hosts - set(view.offsets)):
        view.notes.append(f"{h}: no clock offset estimate (times used as logged)")
    return view


def host_offsets(engine: Any, ec: pa.Table) -> list[ClockOffset]:
    """Clock offsets per host, reading only the flows between addresses the endpoint connections name."""
    conn = _table(engine, "conn")
    if conn is None or ec.num_rows == 0:
        return []
    ips = {v for col in ("src_ip", "dst_ip") for v in ec.column(col).to_pylist() if v}
    if not ips:
        return []
    cols = ["ts", "src_ip", "src_port", "dst_ip", "dst_port"]
    flows = _arrow(conn.filter(conn.src_ip.isin(sorted(ips)) & conn.dst_ip.isin(sorted(ips))).select(*cols))
    return estimate_offsets(ec, flows)
