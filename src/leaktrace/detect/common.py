"""Building blocks shared by detectors: outbound flows with a server name, prevalence, time helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis

from leaktrace.detect.base import Context
from leaktrace.detect.domains import registered_domain_expr
from leaktrace.detect.net import outbound_conn, split_allowlist


def server_names(ctx: Context) -> Any:
    """uid → server name seen in the session (TLS SNI, else HTTP Host) and the TLS client JA3, one row per uid."""
    tls = ctx.engine.table("tls")
    http = ctx.engine.table("http")
    names = tls.select(uid=tls.uid, name=tls.sni.lower(), ja3=tls.ja3.lower()).union(
        http.select(uid=http.uid, name=http.host.lower(), ja3=ibis.literal(None, type="string"))
    )
    names = names.mutate(
        name=ibis.cases(((names.name == "") | (names.name == "-"), ibis.null("string")), else_=names.name),
        ja3=ibis.cases(((names.ja3 == "") | (names.ja3 == "-"), ibis.null("string")), else_=names.ja3),
    )
    names = names.filter(names.name.notnull() | names.ja3.notnull())
    return names.group_by("uid").aggregate(name=names.name.max(), ja3=names.ja3.max())


def outbound_named(ctx: Context, with_names: bool = True) -> Any:
    """Outbound flows with ``name`` (SNI/Host or null), ``ja3`` (TLS client fingerprint or null), ``server`` (registered domain of the name, else the
    destination IP), ``bo``/``bi`` (bytes out/in, nulls as 0) and ``epoch`` (seconds). Built once per run."""
    return ctx.cached("outbound_named", lambda: _outbound_named(ctx))


def _outbound_named(ctx: Context) -> Any:
    conn = outbound_conn(ctx, ctx.engine.table("conn"))
    conn = conn.select(
        "ts",
        "uid",
        "src_ip",
        "dst_ip",
        "dst_port",
        "proto",
        "app",
        "duration",
        "bytes_out",
        "bytes_in",
        "ip_bytes_out",
        "state",
    )
    names = server_names(ctx)
    conn = conn.left_join(names, conn.uid == names.uid).drop("uid_right")
    distinct = names.select("name").filter(names.name.notnull()).distinct()
    regs = distinct.mutate(reg=registered_domain_expr(distinct.name))  # regexes on distinct names only
    conn = conn.left_join(regs, "name").drop("name_right")
    conn = conn.mutate(
        server=ibis.coalesce(conn.reg, conn.dst_ip),
        bo=conn.bytes_out.fill_null(0),
        bi=conn.bytes_in.fill_null(0),
        epoch=epoch(conn.ts),
    )
    _, domains = split_allowlist(ctx.allow_servers)
    if domains:
        pred = ibis.literal(False)
        for d in domains:
            pred = pred | (conn.name == d) | conn.name.endswith("." + d)
        conn = conn.filter(~pred.fill_null(False))
    return conn


def epoch(ts: Any) -> Any:
    """Whole epoch seconds as int64 (portable: DuckDB's EPOCH is fractional, Spark's is whole)."""
    return ts.truncate("s").epoch_seconds().cast("int64")


def epoch_float(ts: Any) -> Any:
    """Epoch seconds with millisecond precision (PySpark cannot extract microseconds)."""
    return epoch(ts).cast("float64") + ts.millisecond().cast("float64") / 1000.0


def since_epoch(ctx: Context) -> int | None:
    return int(ctx.since.timestamp()) if ctx.since is not None else None


def epoch_of(dt: datetime | None) -> int | None:
    return int(dt.timestamp()) if dt is not None else None


def population(flows: Any) -> int:
    """Distinct internal hosts with outbound traffic."""
    return int(flows.src_ip.nunique().execute() or 0)


def prevalence_modifier(hosts: int, pop: int, min_population: int, rare: float, common: float) -> float:
    """RITA's prevalence modifier: +0.15 if ≤ ``rare`` of hosts use the server, −0.15 if ≥ ``common``;
    0 when the population is too small to say."""
    if pop < min_population:
        return 0.0
    frac = hosts / pop
    if frac <= rare:
        return 0.15
    if frac >= common:
        return -0.15
    return 0.0
