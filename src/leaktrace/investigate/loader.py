"""Fill a :class:`Case` from a workspace: the lake (through the engine), the inventory and the incident store.

The documents offered to attribution are the incident's tenant's only (the inventory is bound to a tenant).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from leaktrace.assets import resolve_assets
from leaktrace.engine import Engine
from leaktrace.investigate.case import Case, Row
from leaktrace.investigate.model import DocRef
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace

LOOKBACK = timedelta(days=14)  # endpoint history considered before the incident (process trees start early)
AFTER = timedelta(days=1)
CLOCK_NOTE_S = 2.0  # offsets at least this large are mentioned in the notes (smaller ones are applied silently)


def _rows(expr: Any) -> list[Row]:
    return list(expr.to_pyarrow().to_pylist())


def _between(t: Any, lo: datetime | None, hi: datetime | None) -> Any:
    cond = t.ts.notnull()
    if lo is not None:
        cond &= t.ts >= lo
    if hi is not None:
        cond &= t.ts <= hi
    return cond


def endpoint_host(engine: Engine, host_ip: str, name_hint: str | None) -> str | None:
    """The computer name endpoint events use for ``host_ip``: from its own connections, else its name."""
    ec = engine.table("endpoint_conn")
    mine = ec.filter(ec.src_ip == host_ip)
    hosts = _rows(mine.group_by("host").aggregate(n=mine.count()))
    if hosts:
        return str(max(hosts, key=lambda r: r["n"])["host"])
    if name_hint:
        p = engine.table("process")
        names = [r["host"] for r in _rows(p.select("host").distinct()) if r["host"]]
        short = name_hint.split(".")[0].casefold()
        for n in names:
            if n.split(".")[0].casefold() == short:
                return str(n)
    return None


def _load_endpoint(eng: Engine, case: Case, host: str, lo: datetime | None, hi: datetime | None) -> None:
    """The host's endpoint rows in [lo, hi] of the sensor's time: read with a day's margin, the host's clock
    offset estimated from its connections matched to flows and added to every time, then cut to the window."""
    from leaktrace.clock import apply_offsets
    from leaktrace.hostdetect.endpoint import host_offsets

    margin = timedelta(days=1)
    wide_lo, wide_hi = (lo - margin if lo else None), (hi + margin if hi else None)
    tables = {}
    for name in ("process", "file_event", "endpoint_conn"):
        t = eng.table(name)
        tables[name] = t.filter((t.host == host) & _between(t, wide_lo, wide_hi)).to_pyarrow()
    offsets = [o for o in host_offsets(eng, tables["endpoint_conn"]) if o.host == host]
    if offsets:
        case.clock_offset_s = offsets[0].offset_seconds
        if abs(offsets[0].offset_seconds) >= CLOCK_NOTE_S:
            case.clock_note = "host clock corrected: " + offsets[0].describe()
    for name, table in tables.items():
        fixed = apply_offsets(table, offsets) if offsets and table.num_rows else table
        rows = [r for r in fixed.to_pylist() if r.get("ts") is not None
                and (lo is None or r["ts"] >= lo) and (hi is None or r["ts"] <= hi)]
        rows.sort(key=lambda r: r["ts"])
        setattr(case, name, rows)


def load_case(
    ws: Workspace,
    host_ip: str,
    servers: list[str],
    server_names: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    engine: Engine | None = None,
    tenant: str | None = None,
) -> Case:
    eng = engine or Engine.for_lake(Lake(ws.lake_dir), tenant=tenant)
    lo = start - LOOKBACK if start else None
    hi = end + AFTER if end else None
    asset = resolve_assets(eng, ws.config, [host_ip], at=start).get(host_ip)
    host = endpoint_host(eng, host_ip, asset.host_name if asset else None)
    case = Case(host_ip=host_ip, servers=servers, server_names=server_names or [], start=start, end=end,
                host=host, user=asset.user if asset else None, internal=ws.config.internal_networks(tenant))
    if host is not None:
        _load_endpoint(eng, case, host, lo, hi)
        if case.user is None:
            users = Counter(r["user"] for r in case.process if r.get("user") and "system" not in r["user"].casefold())
            case.user = users.most_common(1)[0][0].split("\\")[-1] if users else None
    c = eng.table("conn")
    case.conn = _rows(c.filter((c.src_ip == host_ip) & _between(c, lo, hi)).order_by("ts"))
    nf = eng.table("net_files")
    case.net_files = _rows(nf.filter(((nf.src_ip == host_ip) | (nf.dst_ip == host_ip)) & _between(nf, lo, hi)))
    sm = eng.table("smtp")
    case.smtp = _rows(sm.filter(_between(sm, lo, hi)).order_by("ts"))
    return case


def inventory_refs(ws: Workspace, tenant: str | None = None) -> list[DocRef]:
    """The document inventory of ``tenant`` (an incident's; default the workspace's tenant) as attribution
    needs it — never another tenant's documents (empty if nothing was scanned)."""
    try:
        from leaktrace.documents.store import Inventory
    except ImportError:
        return []
    with Inventory(ws, tenant) as inv:
        return [
            DocRef(path=d.path, sha256=d.sha256, size=d.size, level=d.level, level_rank=d.level_rank,
                   qualifiers=list(d.qualifiers), people=d.people_estimate, pii_counts=dict(d.pii_counts),
                   title=d.title)
            for d in inv.all()
        ]
