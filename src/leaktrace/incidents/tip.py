"""A tip from outside ("one of your PCs talks to X"): pivot over all stored data and open an incident.

Which internal hosts talked to the server, found by IP (flows either way), by name (TLS SNI, HTTP Host, DNS
queries for the name or its sub-domains) and through DNS answers (IPs the name resolved to); when, how much;
and what else each host did around that time (its other external servers by bytes sent). Each host gets a
``tip`` finding (score ``score``), which joins any detection of the same host × server in one incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis

from leaktrace.detect.base import Finding, to_dt
from leaktrace.detect.common import epoch
from leaktrace.detect.domains import normalise
from leaktrace.detect.net import is_external, is_internal, is_ip
from leaktrace.engine import Engine
from leaktrace.incidents.analyze import incident_params
from leaktrace.incidents.hosts import host_names
from leaktrace.incidents.store import Store
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace


@dataclass
class TipHost:
    host: str
    name: str | None
    first: datetime
    last: datetime
    conns: int
    bytes_out: int
    bytes_in: int
    via: list[str]
    around: list[dict[str, Any]] = field(default_factory=list)
    incident: str | None = None


@dataclass
class TipReport:
    server: str
    ips: list[str]
    domains: list[str]
    hosts: list[TipHost]


def _name_pred(col: Any, name: str) -> Any:
    low = col.lower()
    return ((low == name) | low.endswith("." + name)).fill_null(False)


def pivot(
    engine: Any,
    server: str,
    internal: list[str],
    host: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    around_minutes: int = 60,
) -> TipReport:
    """The pivot itself, engine in, report out (no writes)."""

    def window(t: Any) -> Any:
        if host:
            t = t.filter(t.src_ip == host)
        if since:
            t = t.filter(t.ts >= since)
        if until:
            t = t.filter(t.ts <= until)
        return t

    def rows(expr: Any) -> list[dict[str, Any]]:
        return expr.to_pyarrow().to_pylist()

    ips: set[str] = set()
    domains: set[str] = set()
    via: dict[str, set[str]] = {}
    dns, tls, http = engine.table("dns"), engine.table("tls"), engine.table("http")
    if is_ip(server):
        ips.add(server)
        a = dns.filter(dns.answers.notnull())
        a = a.select("query", ans=a.answers.split(",").unnest())
        domains |= {
            normalise(r["query"]) for r in rows(a.filter(a.ans.strip() == server).select("query").distinct())
        }
        for t, col in ((tls, "sni"), (http, "host")):
            domains |= {
                normalise(r[col])
                for r in rows(t.filter((t.dst_ip == server) & t[col].notnull()).select(col).distinct())
            }
    else:
        name = normalise(server)
        domains.add(name)
        q = window(dns).filter(_name_pred(dns.query, name) & is_internal(dns.src_ip, internal))
        for r in rows(q.group_by("src_ip").aggregate(n=q.count())):
            via.setdefault(r["src_ip"], set()).add("dns query")
        a = dns.filter(_name_pred(dns.query, name) & dns.answers.notnull())
        a = a.select(ans=a.answers.split(",").unnest())
        ips |= {r["ans"].strip() for r in rows(a.distinct()) if is_ip(r["ans"].strip())}
        for t, col, label in ((tls, "sni", "tls sni"), (http, "host", "http host")):
            m = window(t).filter(_name_pred(t[col], name))
            for r in rows(m.select("src_ip", "dst_ip").distinct()):
                ips.add(r["dst_ip"])
                via.setdefault(r["src_ip"], set()).add(label)
    ips = {i for i in ips if i}
    conn = window(engine.table("conn"))
    hosts: dict[str, dict[str, Any]] = {}
    if ips:
        c = conn.filter(conn.dst_ip.isin(sorted(ips)) & is_internal(conn.src_ip, internal))
        agg = c.group_by("src_ip").aggregate(
            first=epoch(c.ts).min(),
            last=epoch(c.ts).max(),
            n=c.count(),
            bo=c.bytes_out.fill_null(0).sum(),
            bi=c.bytes_in.fill_null(0).sum(),
        )
        for r in rows(agg):
            hosts[r["src_ip"]] = r
            via.setdefault(r["src_ip"], set()).add("conn")
    # hosts seen only by name (DNS) still count
    for h in via:
        if h not in hosts:
            d = window(dns).filter((dns.src_ip == h) & ibis.or_(*[_name_pred(dns.query, x) for x in domains]))
            got = rows(d.aggregate(first=epoch(d.ts).min(), last=epoch(d.ts).max(), n=d.count()))[0]
            if got["first"] is not None:
                hosts[h] = {**got, "bo": 0, "bi": 0}
    out = []
    for h, r in sorted(hosts.items(), key=lambda kv: -int(kv[1]["bo"] or 0)):
        first, last = to_dt(r["first"]), to_dt(r["last"])
        lo, hi = first - timedelta(minutes=around_minutes), last + timedelta(minutes=around_minutes)
        c = engine.table("conn")
        c = c.filter((c.src_ip == h) & (c.ts >= lo) & (c.ts <= hi) & is_external(c.dst_ip, internal))
        if ips:
            c = c.filter(~c.dst_ip.isin(sorted(ips)))
        other = c.group_by("dst_ip").aggregate(
            conns=c.count(), bytes_out=c.bytes_out.fill_null(0).sum(), bytes_in=c.bytes_in.fill_null(0).sum()
        )
        around = rows(other.order_by(ibis.desc("bytes_out")).limit(5))
        out.append(
            TipHost(
                h,
                None,
                first,
                last,
                int(r["n"]),
                int(r["bo"] or 0),
                int(r["bi"] or 0),
                sorted(via.get(h, set())),
                around,
            )
        )
    return TipReport(server, sorted(ips), sorted(d for d in domains if d), out)


def tip(
    ws: Workspace,
    server: str,
    host: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    score: float = 0.6,
    note: str = "",
) -> TipReport:
    """Pivot and open (or join) an incident per host found. Returns the report with incident ids filled."""
    tenant = ws.tenant
    lake = Lake(ws.lake_dir)
    eng = Engine.for_lake(lake, tenant)
    report = pivot(eng, server, ws.config.internal_networks(tenant), host, since, until)
    names = host_names(ws, eng)
    store = Store.for_workspace(ws)
    findings = []
    main_ip = report.ips[0] if len(report.ips) == 1 else (server if is_ip(server) else None)
    domain = None if is_ip(server) else normalise(server)
    for h in report.hosts:
        h.name = names.get(h.host)
        findings.append(
            Finding(
                detector="tip",
                kind="tip",
                tenant=tenant,
                src_ip=h.host,
                dst_ip=main_ip or (report.ips[0] if report.ips else None),
                dst_domain=domain or (report.domains[0] if report.domains else None),
                first_ts=h.first,
                last_ts=h.last,
                score=score,
                bytes_out=h.bytes_out,
                bytes_in=h.bytes_in,
                conn_count=h.conns,
                summary=f"external tip about {server}: {h.conns} records via {', '.join(h.via)}",
                evidence={
                    "tip_server": server,
                    "note": note,
                    "via": h.via,
                    "ips": report.ips,
                    "domains": report.domains,
                },
                window=f"tip:{server}",
            )
        )
    store.upsert_findings(findings)
    incidents = store.regroup(tenant, incident_params(ws), names)
    by_host: dict[str, str] = {}
    for inc in incidents:
        if "tip" in inc.kinds:
            by_host.setdefault(inc.host_ip, inc.id)
    for h in report.hosts:
        h.incident = by_host.get(h.host)
    return report
